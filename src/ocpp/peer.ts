// A generic OCPP-J endpoint over one `ws` WebSocket: the controller's own identity, the simulator's stations and
// CSMS, and tests all speak through it. It keeps the Part 4 §4.1.1 rule of one outstanding CALL per sender by
// queueing its own CALLs, answers unknown actions with NotImplemented, and never lets a handler's error crash it.
import { randomUUID } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import type { Logger } from '../common/log.js';
import { silentLogger } from '../common/log.js';
import { OcppCallError } from './errors.js';
import { callError, encodeFrame, OCPP_ERROR_CODES, parseFrame, type CallFrame, type Frame, type OcppErrorCode } from './frames.js';
import { validatePayload } from './validate.js';
import { OCPP16_ERROR_CODES, ocpp16ErrorCode } from './messages16.js';
import type { OcppProtocol } from './protocol.js';

export type CallHandler = (payload: Record<string, unknown>, messageId: string) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface OcppPeerOptions {
  /** Validate incoming CALL and CALLRESULT payloads against the OCA schemas (default true). */
  validate?: boolean;
  /** The OCPP version spoken on the socket: which schemas validate, how error codes are spelled (default 'ocpp2.0.1'). */
  protocol?: OcppProtocol;
  /** Reply timeout for this peer's own CALLs (ms, default 30000). */
  callTimeoutMs?: number;
  log?: Logger;
}

interface QueuedCall {
  action: string;
  payload: Record<string, unknown>;
  timeoutMs: number;
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

interface InFlight extends QueuedCall {
  messageId: string;
  timer: NodeJS.Timeout;
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

const KNOWN_CODES: ReadonlySet<string> = new Set([...OCPP_ERROR_CODES, ...OCPP16_ERROR_CODES]);

export class OcppPeer {
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly handlers = new Map<string, CallHandler>();
  private readonly queue: QueuedCall[] = [];
  private inFlight: InFlight | undefined;
  private isClosed = false;
  private readonly validate: boolean;
  private readonly protocol: OcppProtocol;
  private readonly callTimeoutMs: number;
  private readonly log: Logger;

  constructor(private readonly socket: WebSocket, options: OcppPeerOptions = {}) {
    this.validate = options.validate ?? true;
    this.protocol = options.protocol ?? 'ocpp2.0.1';
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
    this.log = options.log ?? silentLogger;
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number, reason: Buffer) => {
        this.isClosed = true;
        this.failAll(new Error(`connection closed (${code})`));
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        this.send(callError('-1', 'FormatViolation', 'binary frames are not OCPP-J'));
        return;
      }
      this.onText(rawToString(data));
    });
    socket.on('error', (err: Error) => this.log.warn({ err: err.message }, 'ocpp peer socket error'));
  }

  /** Registers the answer to a CALL the other side sends. */
  handle(action: string, handler: CallHandler): void {
    this.handlers.set(action, handler);
  }

  /** Sends a CALL and resolves with the CALLRESULT payload; queued behind this peer's outstanding CALL. */
  call(action: string, payload: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    if (this.isClosed || this.socket.readyState !== this.socket.OPEN) return Promise.reject(new Error('connection is not open'));
    return new Promise((resolve, reject) => {
      this.queue.push({ action, payload, timeoutMs: opts.timeoutMs ?? this.callTimeoutMs, resolve, reject });
      this.pump();
    });
  }

  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  /** Sends one raw text frame (tests use this for malformed frames). */
  sendRaw(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  private send(frame: Frame): void {
    // CALLERRORs are built in 2.0.1's terms; a 1.6 peer hears 1.6's spelling.
    if (frame.type === 4 && this.protocol === 'ocpp1.6') frame = { ...frame, code: ocpp16ErrorCode(frame.code) };
    this.sendRaw(encodeFrame(frame));
  }

  private pump(): void {
    if (this.inFlight || this.isClosed) return;
    const next = this.queue.shift();
    if (!next) return;
    const messageId = randomUUID();
    const timer = setTimeout(() => {
      if (this.inFlight?.messageId !== messageId) return;
      this.inFlight = undefined;
      next.reject(new Error(`${next.action} timed out after ${next.timeoutMs} ms`));
      this.pump();
    }, next.timeoutMs);
    this.inFlight = { ...next, messageId, timer };
    const frame: CallFrame = { type: 2, messageId, action: next.action, payload: next.payload };
    this.send(frame);
  }

  private settle(messageId: string, outcome: { result: Record<string, unknown> } | { error: Error }): void {
    const call = this.inFlight;
    if (!call || call.messageId !== messageId) {
      this.log.debug({ messageId }, 'reply to no outstanding call ignored');
      return;
    }
    clearTimeout(call.timer);
    this.inFlight = undefined;
    if ('result' in outcome) call.resolve(outcome.result);
    else call.reject(outcome.error);
    this.pump();
  }

  private failAll(err: Error): void {
    if (this.inFlight) {
      clearTimeout(this.inFlight.timer);
      this.inFlight.reject(err);
      this.inFlight = undefined;
    }
    for (const q of this.queue.splice(0)) q.reject(err);
  }

  private onText(text: string): void {
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.log.warn({ messageId: parsed.error.messageId, code: parsed.error.code }, parsed.error.description);
      this.send(parsed.error);
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 2) {
      void this.onCall(frame);
    } else if (frame.type === 3) {
      const action = this.inFlight?.messageId === frame.messageId ? this.inFlight.action : undefined;
      const invalid = this.validate && action ? validatePayload(action, 'response', frame.payload, this.protocol) : undefined;
      if (invalid) this.settle(frame.messageId, { error: new OcppCallError(invalid.code, invalid.description) });
      else this.settle(frame.messageId, { result: frame.payload });
    } else {
      this.settle(frame.messageId, { error: new OcppCallError(frame.code, frame.description, frame.details) });
    }
  }

  private async onCall(frame: CallFrame): Promise<void> {
    const handler = this.handlers.get(frame.action);
    if (this.validate) {
      const invalid = validatePayload(frame.action, 'request', frame.payload, this.protocol);
      if (invalid) {
        this.send(callError(frame.messageId, invalid.code, invalid.description));
        return;
      }
    }
    if (!handler) {
      this.send(callError(frame.messageId, 'NotImplemented', `no handler for ${frame.action}`));
      return;
    }
    try {
      const result = await handler(frame.payload, frame.messageId);
      this.send({ type: 3, messageId: frame.messageId, payload: result });
    } catch (err) {
      if (err instanceof OcppCallError) {
        const code = KNOWN_CODES.has(err.code) ? (err.code as OcppErrorCode) : 'GenericError';
        this.send(callError(frame.messageId, code, err.description, err.details));
      } else {
        this.log.error({ messageId: frame.messageId, action: frame.action, err: (err as Error)?.message }, 'handler failed');
        this.send(callError(frame.messageId, 'InternalError', 'the handler failed'));
      }
    }
  }
}
