// Private key files (station-facing TLS key, client key toward the CSMS) are refused when group or others may read
// them, as ssh refuses an unprotected identity file: a key anyone on the box can read is a key anyone can use.
import { readFileSync, statSync } from 'node:fs';

export class UnprotectedKeyError extends Error {}

/** Reads a PEM private key, refusing it when its mode lets group or others read, write or execute it. */
export function readPrivateKey(path: string, what = 'private key'): Buffer {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new UnprotectedKeyError(
      `${what} ${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
    );
  }
  return readFileSync(path);
}
