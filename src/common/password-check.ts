// scrypt checks that a flood of guesses cannot use to starve everyone else: a fixed number run at once (the rest
// wait in a bounded line, beyond which a check is refused as busy), and a password already verified against a hash
// is recognised again without scrypt (an HMAC under a key that lives only in this process), so a station that has
// connected once reconnects fast even while guesses are being ground through.
import { createHmac, randomBytes } from 'node:crypto';
import { verifyPassword } from './passwords.js';

export interface PasswordCheckOptions {
  /** scrypt checks running at once (default 2). */
  concurrency?: number;
  /** Checks waiting for a slot at most; more are answered 'busy' (default 32). */
  queueLimit?: number;
  /** Verified (hash, password) pairs remembered (default 1000). */
  cacheSize?: number;
}

export type CheckResult = 'ok' | 'wrong' | 'busy';

export class PasswordChecker {
  private readonly key = randomBytes(32);
  private readonly verified = new Set<string>();
  private running = 0;
  /** Waiting checks; `clean` ones (from a source with no recent failure) go first and may displace suspect ones. */
  private readonly waiting: { clean: () => boolean; go: (slot: boolean) => void }[] = [];
  private readonly concurrency: number;
  private readonly queueLimit: number;
  private readonly cacheSize: number;

  constructor(o: PasswordCheckOptions = {}) {
    this.concurrency = o.concurrency ?? 2;
    this.queueLimit = o.queueLimit ?? 32;
    this.cacheSize = o.cacheSize ?? 1000;
  }

  /** True when this exact password was verified against this hash before (no scrypt). */
  known(password: string, hash: string): boolean {
    return this.verified.has(this.tag(password, hash));
  }

  /**
   * `clean`: the caller has seen no recent failure from this source. During a guessing flood the line is full of
   * suspect checks; a clean one jumps ahead of them and, when the line is full, takes the place of the newest suspect.
   */
  async check(password: string, hash: string, clean: () => boolean = () => false): Promise<CheckResult> {
    if (this.known(password, hash)) return 'ok';
    if (this.running >= this.concurrency) {
      // Judged now, not when they joined: a source that has failed since is suspect now.
      const now = this.waiting.map((w) => w.clean());
      const isClean = clean();
      if (this.waiting.length >= this.queueLimit) {
        const victim = isClean ? now.lastIndexOf(false) : -1;
        if (victim < 0) return 'busy';
        this.waiting.splice(victim, 1)[0].go(false);
        now.splice(victim, 1);
      }
      const slot = await new Promise<boolean>((go) => {
        const w = { clean, go };
        const firstSuspect = now.indexOf(false);
        if (isClean && firstSuspect >= 0) this.waiting.splice(firstSuspect, 0, w);
        else this.waiting.push(w);
      });
      if (!slot) return 'busy';
    } else {
      this.running++;
    }
    try {
      const ok = await verifyPassword(password, hash);
      if (ok) this.remember(password, hash);
      return ok ? 'ok' : 'wrong';
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter (running stays the same), or is freed.
      if (next) next.go(true);
      else this.running--;
    }
  }

  private tag(password: string, hash: string): string {
    return createHmac('sha256', this.key).update(hash).update('\0').update(password).digest('base64');
  }

  private remember(password: string, hash: string): void {
    const t = this.tag(password, hash);
    this.verified.delete(t);
    this.verified.add(t);
    while (this.verified.size > this.cacheSize) this.verified.delete(this.verified.values().next().value as string);
  }
}
