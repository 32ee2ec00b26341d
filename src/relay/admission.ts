// Who may open a station socket: the identity rule, reserved identities, known/unknown stations and Basic-auth
// passwords, with failed handshakes limited per source address and per identity (growing back-off) and scrypt run
// with bounded concurrency (password-check.ts). A refused handshake leaves nothing behind but a bounded counter.
import type { IncomingMessage } from 'node:http';
import { FailureLimiter } from '../common/failure-limiter.js';
import { isStationId } from '../common/ids.js';
import { PasswordChecker } from '../common/password-check.js';
import { hashPasswordSync } from '../common/passwords.js';
import type { Config, HandshakeLimits, StationConfig } from '../config/types.js';

export interface Refusal {
  status: number;
  /** For the log only: the station is told no more than the status (401 whether the id exists or not). */
  reason: string;
  retryAfterS?: number;
  /** A password was checked and was wrong (or the id does not exist): counted as an authentication failure. */
  authFailure?: boolean;
  /** Refused by the rate limit or a full line of checks, before any password was checked. */
  throttled?: boolean;
}

export const DEFAULT_HANDSHAKE_LIMITS: HandshakeLimits = {
  failuresPerAddress: 20, failuresPerIdentity: 5, windowS: 900, firstBackoffS: 1, maxBackoffS: 600, concurrentChecks: 2, inFlightPerAddress: 4,
};

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** The source address of a handshake (the TCP peer: stations do not come through a proxy). */
export function sourceAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export class HandshakeAdmission {
  private readonly byAddress: FailureLimiter;
  private readonly byIdentity: FailureLimiter;
  /** Addresses refused for any reason lately (never blocks; only decides who waits behind whom for a check). */
  private readonly refusedLately: FailureLimiter;
  private readonly checker: PasswordChecker;
  private readonly inFlight = new Map<string, number>();
  private readonly known: Map<string, StationConfig>;
  private readonly reserved: Set<string>;
  /** The address each identity last authenticated from: its own station is not locked out by someone else's guesses. */
  private readonly lastGoodAddress = new Map<string, string>();
  /** Unknown identities are checked against this, so their answer costs (and takes) what a wrong password does. */
  private readonly dummyHash = hashPasswordSync('no station has this password');
  private readonly limits: HandshakeLimits;

  constructor(private readonly config: Config, now: () => number) {
    const l = this.limits = config.stations.handshakeLimits ?? DEFAULT_HANDSHAKE_LIMITS;
    const common = { windowMs: l.windowS * 1000, baseBlockMs: l.firstBackoffS * 1000, maxBlockMs: l.maxBackoffS * 1000, maxKeys: 10_000, now };
    this.byAddress = new FailureLimiter({ ...common, maxFailures: l.failuresPerAddress });
    this.byIdentity = new FailureLimiter({ ...common, maxFailures: l.failuresPerIdentity });
    this.refusedLately = new FailureLimiter({ ...common, maxFailures: Number.MAX_SAFE_INTEGER });
    this.checker = new PasswordChecker({ concurrency: l.concurrentChecks, queueLimit: 32 });
    this.known = new Map(config.stations.list.map((s) => [s.id, s] as const));
    this.reserved = new Set([...(config.controller.identity ? [config.controller.identity] : []), ...(config.stations.reservedIds ?? [])]);
  }

  /** undefined when the station may connect; otherwise how to refuse it. */
  async admit(id: string, req: IncomingMessage): Promise<Refusal | undefined> {
    const refusal = await this.decide(id, req);
    if (refusal && this.config.stations.auth === 'basic') this.refusedLately.fail(sourceAddress(req));
    return refusal;
  }

  private async decide(id: string, req: IncomingMessage): Promise<Refusal | undefined> {
    const basic = this.config.stations.auth === 'basic';
    // Same answer as for an unknown station: a reserved id is not a station.
    const notAStation = (reason: string): Refusal => (basic ? { status: 401, reason, authFailure: true } : { status: 404, reason });
    if (!isStationId(id)) return notAStation(`station id "${id}" breaks the identity rule (A-Z a-z 0-9 * - _ = + | @ ., 1..48)`);
    if (this.reserved.has(id)) return notAStation(`${id} is reserved (the controller's own identity or stations.reservedIds)`);
    const station = this.known.get(id);
    if (!basic) return station || this.config.stations.allowUnknown ? undefined : notAStation(`unknown station ${id}`);

    const address = sourceAddress(req);
    const creds = parseBasic(req.headers.authorization);
    const hash = station?.passwordHash;
    // A password this process has verified before: no scrypt and no rate limit (the real station during a flood).
    if (creds && creds.user === id && hash && this.checker.known(creds.password, hash)) return this.accepted(id, address);
    const waitMs = Math.max(this.byAddress.blockedForMs(address), this.lastGoodAddress.get(id) === address ? 0 : this.byIdentity.blockedForMs(id));
    if (waitMs > 0) return { status: 429, reason: 'too many failed handshakes; backing off', retryAfterS: Math.ceil(waitMs / 1000), throttled: true };
    if (!creds || creds.user !== id) {
      // Cheap to refuse (no scrypt): counted against the address only, so it cannot lock a station's identity.
      this.byAddress.fail(address);
      return { status: 401, reason: creds ? 'credentials are for another identity' : 'missing Basic credentials', authFailure: true };
    }
    const running = this.inFlight.get(address) ?? 0;
    if (running >= this.limits.inFlightPerAddress) return { status: 429, reason: 'too many handshakes at once from this address', retryAfterS: 1, throttled: true };
    this.inFlight.set(address, running + 1);
    let result;
    try {
      result = await this.checker.check(creds.password, hash ?? this.dummyHash, () => !this.refusedLately.hasFailed(address));
    } finally {
      const n = (this.inFlight.get(address) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(address);
      else this.inFlight.set(address, n);
    }
    if (result === 'busy') return { status: 503, reason: 'too many password checks waiting', retryAfterS: 1, throttled: true };
    if (result === 'ok' && hash) return this.accepted(id, address);
    this.byAddress.fail(address);
    this.byIdentity.fail(id);
    return { status: 401, reason: station ? (hash ? 'wrong password' : `no password configured for ${id}`) : `unknown station ${id}`, authFailure: true };
  }

  /** Keys the limiter holds (bounded; for tests and the security review's figures). */
  get trackedKeys(): number {
    return this.byAddress.size + this.byIdentity.size + this.refusedLately.size + this.inFlight.size;
  }

  private accepted(id: string, address: string): undefined {
    this.byAddress.succeed(address);
    this.refusedLately.succeed(address);
    this.byIdentity.succeed(id);
    this.lastGoodAddress.set(id, address);
    return undefined;
  }
}
