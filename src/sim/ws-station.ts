// A simulated station's connection: OCPP 2.0.1 or 1.6J (the charger's `protocol`, through its face: faces.ts) over a
// real WebSocket to the controller's station port (or any CSMS). It boots, answers the CALLs a station answers from its
// model, and sends what the model says; on a lost connection it reconnects with a backoff and boots again (a message
// sent while down is dropped, as the demo can afford).
import { WebSocket } from 'ws';
import { silentLogger, type Logger } from '../common/log.js';
import { OcppPeer } from '../ocpp/peer.js';
import { createFace, type StationFace } from './faces.js';
import type { SimStation } from './physics/station.js';

export interface WsStationOptions {
  /** Base URL: the station connects to `<url>/<id>`. */
  url: string;
  /** Virtual time now (epoch ms) for the model. */
  now: () => number;
  log?: Logger;
  /** Basic-auth password (security profile 1), when the controller requires it. */
  password?: string;
  /** Reconnect wait (ms, real time), doubled up to 30 s. */
  retryMs?: number;
}

export class WsStation {
  private peer?: OcppPeer;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private retryMs: number;
  private readonly log: Logger;
  /** Messages that could not be sent (not connected). */
  dropped = 0;
  private readonly connectedWaiters: (() => void)[] = [];
  /** The protocol the station speaks on the wire. */
  readonly face: StationFace;

  constructor(readonly station: SimStation, private readonly opts: WsStationOptions) {
    this.log = opts.log ?? silentLogger;
    this.retryMs = opts.retryMs ?? 1000;
    this.face = createFace(station, (action, payload) => this.call(action, payload), () => this.opts.now(), this.log);
  }

  get id(): string {
    return this.station.spec.id;
  }

  get connected(): boolean {
    return this.peer !== undefined;
  }

  /** Resolves once the station is connected (booted). */
  whenConnected(): Promise<void> {
    return this.peer ? Promise.resolve() : new Promise((r) => this.connectedWaiters.push(r));
  }

  /** What the station model sends goes here (through the face, in the station's protocol). */
  readonly send = (action: string, payload: Record<string, unknown>): void => {
    this.face.fromModel(action, payload);
  };

  private call(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const peer = this.peer;
    if (!peer) {
      this.dropped++;
      return Promise.reject(new Error('not connected'));
    }
    return peer.call(action, payload, { timeoutMs: 30_000 });
  }

  /** Connects (and keeps reconnecting) to `url` when given, else to the URL it was created with. */
  start(url?: string): void {
    if (url !== undefined) this.opts.url = url;
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const headers: Record<string, string> = {};
    if (this.opts.password) headers.Authorization = `Basic ${Buffer.from(`${this.id}:${this.opts.password}`).toString('base64')}`;
    const socket = new WebSocket(`${this.opts.url.replace(/\/$/, '')}/${encodeURIComponent(this.id)}`, [this.face.protocol], { headers, perMessageDeflate: true });
    socket.once('open', () => {
      const peer = new OcppPeer(socket, { log: this.log, callTimeoutMs: 30_000, protocol: this.face.protocol });
      for (const action of this.face.actions) peer.handle(action, (payload) => this.face.handle(action, payload, this.opts.now()));
      this.peer = peer;
      this.retryMs = this.opts.retryMs ?? 1000;
      this.log.debug({ stationId: this.id }, 'simulated station connected');
      this.station.boot(this.opts.now());
      for (const w of this.connectedWaiters.splice(0)) w();
      void peer.closed.then(() => {
        if (this.peer === peer) this.peer = undefined;
        this.scheduleReconnect();
      });
    });
    socket.once('error', (err) => {
      this.log.debug({ stationId: this.id, err: err.message }, 'simulated station cannot connect');
    });
    socket.once('close', () => {
      if (!this.peer) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    // Socket-level reconnect on real time, like a station's own firmware.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(30_000, this.retryMs * 2);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const peer = this.peer;
    this.peer = undefined;
    if (peer) {
      peer.close(1000, 'station stopping');
      await Promise.race([peer.closed, new Promise((r) => setTimeout(r, 1000))]);
    }
  }
}
