// Passwords (stations' Basic auth, page users) are stored as self-describing scrypt strings:
//   scrypt$N=16384,r=8,p=1$<salt base64>$<key base64>
// so the cost can be raised later without breaking stored hashes.
import { randomBytes, scrypt as scryptCb, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const DEFAULT = { N: 16384, r: 8, p: 1 };
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export function hashPasswordSync(password: string, cost = DEFAULT): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEYLEN, { ...cost, maxmem: 128 * cost.N * cost.r * 2 });
  return `scrypt$N=${cost.N},r=${cost.r},p=${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed { N: number; r: number; p: number; salt: Buffer; key: Buffer }

function parse(hash: string): Parsed | undefined {
  const m = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  return { N, r, p, salt: Buffer.from(m[4], 'base64'), key: Buffer.from(m[5], 'base64') };
}

export function isPasswordHash(hash: string): boolean {
  return parse(hash) !== undefined;
}

/** Constant-time check of a password against a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const h = parse(hash);
  if (!h) return false;
  const key = await scrypt(password, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p, maxmem: 128 * h.N * h.r * 2 });
  return key.length === h.key.length && timingSafeEqual(key, h.key);
}
