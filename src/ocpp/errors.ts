// A CALLERROR as an exception: what a peer answered when it refused a CALL (both protocols use the same frame).

/** Thrown (rejected) by a call when the peer answers with a CALLERROR. */
export class OcppCallError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'OcppCallError';
  }
}
