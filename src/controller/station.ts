// The controller's own upstream connection as a charging station without EVSEs (Part 1 §8.3): a `ws` client to
// <upstream.url>/<controller.identity> (1.6: upstream.url16 when set) speaking the identity's protocol
// (identity-protocol.ts: ocpp2.0.1 or ocpp1.6), BootNotification (Accepted / Pending / Rejected),
// Heartbeat at the CSMS's interval, WebSocket pings, and reconnects with the RetryBackOff* rules of Part 4 §5.3.
// Timers that are protocol logic run on the injected scheduler; socket-level pings use real timers.
import { readFileSync } from 'node:fs';
import { readPrivateKey } from '../common/private-key.js';
import { BehaviorSubject, filter, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { WebSocket, type ClientOptions } from 'ws';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/types.js';
import { OcppPeer } from '../ocpp/index.js';
import { VAR, type DeviceModel } from './device-model.js';
import type { BootReason, IdentityProtocol } from './identity-protocol.js';

export type { BootReason } from './identity-protocol.js';

export type Registration = 'none' | 'Pending' | 'Rejected' | 'Accepted';

export interface UpstreamStationOptions {
  config: Config;
  log: Logger;
  scheduler: SchedulerLike;
  deviceModel: DeviceModel;
  /** Subprotocol and BootNotification of the identity's protocol. */
  protocol: IdentityProtocol;
  /** Installs the CALL handlers on each new connection. */
  install: (peer: OcppPeer) => void;
  /** Called each time the CSMS accepts the controller (after boot, or on reconnect after an earlier Accepted boot). */
  onRegistered: () => void;
}

/** Part 4 §5.3: WaitMinimum doubled per failed attempt (at most RepeatTimes times), plus a random part. */
export function backoffDelayMs(attempt: number, waitMinimumS: number, randomRangeS: number, repeatTimes: number, random: number): number {
  const wait = waitMinimumS * 2 ** Math.min(attempt, repeatTimes) + random * randomRangeS;
  // Never a tight reconnect loop, whatever the CSMS configured.
  return Math.max(200, Math.round(wait * 1000));
}

export class UpstreamStation {
  private readonly registered = new BehaviorSubject<boolean>(false);
  /** True while the socket is open and the CSMS has accepted the controller. */
  readonly connected$: Observable<boolean> = this.registered.asObservable();
  private ws: WebSocket | undefined;
  private peer: OcppPeer | undefined;
  private registration: Registration = 'none';
  /** Accepted once in this run: later reconnects skip BootNotification (its content has not changed, [ERR] §4.12). */
  private bootAccepted = false;
  private attempts = 0;
  private stopped = true;
  private reconnectNow = false;
  private reconnectTimer: Subscription | undefined;
  private bootTimer: Subscription | undefined;
  private heartbeatTimer: Subscription | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private readonly subscriptions: Subscription[] = [];
  private readonly identity: string;

  constructor(private readonly o: UpstreamStationOptions) {
    if (!o.config.controller.identity) throw new Error('controller.identity is not set');
    this.identity = o.config.controller.identity;
    this.subscriptions.push(
      o.deviceModel.changes$.pipe(filter((c) => c.key === VAR.heartbeatInterval)).subscribe(() => this.armHeartbeat()),
      o.deviceModel.changes$.pipe(filter((c) => c.key === VAR.webSocketPingInterval)).subscribe(() => this.armPing()),
      // A01: a new BasicAuthPassword is used at once: reconnect with it (after the SetVariables answer has gone out).
      o.deviceModel.changes$.pipe(filter((c) => c.key === VAR.basicAuthPassword)).subscribe(() =>
        setImmediate(() => {
          if (!this.ws) return;
          this.reconnectNow = true;
          this.ws.close(1000, 'new credentials');
        }),
      ),
    );
  }

  get registrationStatus(): Registration {
    return this.registration;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reconnectTimer?.unsubscribe();
    this.clearSessionTimers();
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    const ws = this.ws;
    if (!ws) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === ws.CLOSED) {
        clearTimeout(force);
        resolve();
      } else ws.close(1000, 'controller stopping');
    });
  }

  /** A CALL to the CSMS; rejects unless the controller is registered (Accepted). */
  call(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.peer || this.registration !== 'Accepted') return Promise.reject(new Error('not registered with the CSMS'));
    return this.peer.call(action, payload);
  }

  /** A CALL the CSMS asked for (reports), allowed while Pending too. */
  callOnCurrent(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.peer) return Promise.reject(new Error('not connected to the CSMS'));
    return this.peer.call(action, payload);
  }

  private password(): string | undefined {
    const c = this.o.config.controller;
    const fromModel = this.o.deviceModel.get(VAR.basicAuthPassword);
    if (fromModel) return fromModel;
    if (c.password) return c.password;
    if (c.passwordEnv) return process.env[c.passwordEnv] || undefined;
    return undefined;
  }

  private clientOptions(): ClientOptions {
    const u = this.o.config.upstream;
    const headers: Record<string, string> = {};
    const password = this.password();
    if (password) headers.Authorization = `Basic ${Buffer.from(`${this.identity}:${password}`, 'utf8').toString('base64')}`;
    const options: ClientOptions = { headers, perMessageDeflate: true, handshakeTimeout: 30_000 };
    if (u.ca) options.ca = readFileSync(u.ca);
    if (u.clientCert && u.clientKey) {
      options.cert = readFileSync(u.clientCert);
      options.key = readPrivateKey(u.clientKey, 'upstream.clientKey');
    }
    return options;
  }

  private connect(): void {
    if (this.stopped) return;
    // A CSMS that serves 1.6 elsewhere (upstream.url16) is reached there by a 1.6 identity too, as the 1.6 stations are.
    const u = this.o.config.upstream;
    const base = this.o.protocol.subprotocol === 'ocpp1.6' ? (u.url16 ?? u.url) : u.url;
    const url = `${base.replace(/\/+$/, '')}/${encodeURIComponent(this.identity)}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [this.o.protocol.subprotocol], this.clientOptions());
    } catch (err) {
      this.o.log.error({ url, err: (err as Error).message }, 'cannot open the controller identity connection');
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.on('open', () => this.onOpen(ws));
    ws.on('error', (err) => this.o.log.warn({ url, err: err.message }, 'controller identity connection error'));
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString('utf8')));
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    const wanted = this.o.protocol.subprotocol;
    if (ws.protocol !== wanted) {
      this.o.log.error({ protocol: ws.protocol, wanted }, `CSMS did not agree to ${wanted}; closing`);
      ws.close(1002, `subprotocol ${wanted} required`);
      return;
    }
    this.attempts = 0;
    const timeoutS = this.o.deviceModel.getNumber(VAR.messageTimeout, this.o.config.upstream.callTimeoutS);
    this.peer = new OcppPeer(ws, { callTimeoutMs: timeoutS * 1000, log: this.o.log, protocol: this.o.protocol.subprotocol });
    this.o.install(this.peer);
    this.o.log.info({ identity: this.identity }, 'controller identity connected to the CSMS');
    this.armPing();
    if (this.bootAccepted) this.onAccepted();
    else void this.boot('PowerUp');
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.peer = undefined;
    this.clearSessionTimers();
    if (this.registration === 'Accepted') this.o.log.warn({ code, reason }, 'controller identity disconnected from the CSMS');
    this.registration = 'none';
    if (this.registered.value) this.registered.next(false);
    if (this.reconnectNow) {
      this.reconnectNow = false;
      this.connect();
    } else this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const dm = this.o.deviceModel;
    const r = this.o.config.upstream.retry;
    const delay = backoffDelayMs(
      this.attempts++,
      dm.getNumber(VAR.retryWaitMinimum, r.waitMinimumS),
      dm.getNumber(VAR.retryRandomRange, r.randomRangeS),
      dm.getNumber(VAR.retryRepeatTimes, r.repeatTimes),
      Math.random(),
    );
    this.reconnectTimer?.unsubscribe();
    this.reconnectTimer = this.o.scheduler.schedule(() => this.connect(), delay);
  }

  private clearSessionTimers(): void {
    this.bootTimer?.unsubscribe();
    this.bootTimer = undefined;
    this.heartbeatTimer?.unsubscribe();
    this.heartbeatTimer = undefined;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** B01–B03. Also used by TriggerMessage(BootNotification). */
  async boot(reason: BootReason): Promise<void> {
    const peer = this.peer;
    if (!peer) return;
    const c = this.o.config.controller;
    let res: Record<string, unknown>;
    try {
      res = await peer.call('BootNotification', this.o.protocol.bootNotification(reason, c));
      if (!['Accepted', 'Pending', 'Rejected'].includes(res.status as string)) throw new Error(`BootNotification answered with status ${String(res.status)}`);
    } catch (err) {
      if (peer !== this.peer) return;
      this.o.log.warn({ err: (err as Error).message }, 'BootNotification failed; retrying');
      this.scheduleBoot(backoffDelayMs(0, this.o.deviceModel.getNumber(VAR.retryWaitMinimum, 3), 0, 0, 0), reason);
      return;
    }
    if (peer !== this.peer) return;
    const status = res.status as 'Accepted' | 'Pending' | 'Rejected';
    const interval = typeof res.interval === 'number' ? res.interval : 0;
    this.o.log.info({ status, interval }, 'BootNotification answered');
    if (status === 'Accepted') {
      this.bootAccepted = true;
      if (interval > 0) this.o.deviceModel.setInternal(VAR.heartbeatInterval, String(interval));
      this.onAccepted();
    } else {
      // Pending: keep answering the CSMS's calls and ask again after the interval. Rejected: only ask again.
      this.registration = status;
      if (this.registered.value) this.registered.next(false);
      this.heartbeatTimer?.unsubscribe();
      this.scheduleBoot((interval > 0 ? interval : status === 'Pending' ? 30 : 60) * 1000, reason);
    }
  }

  private scheduleBoot(delayMs: number, reason: BootReason): void {
    this.bootTimer?.unsubscribe();
    this.bootTimer = this.o.scheduler.schedule(() => {
      this.bootTimer = undefined;
      void this.boot(reason);
    }, delayMs);
  }

  private onAccepted(): void {
    this.registration = 'Accepted';
    this.bootTimer?.unsubscribe();
    this.bootTimer = undefined;
    this.armHeartbeat();
    if (!this.registered.value) this.registered.next(true);
    this.o.onRegistered();
  }

  /** Sends one Heartbeat now (TriggerMessage) and restarts the interval. */
  heartbeat(): void {
    if (!this.peer || this.registration !== 'Accepted') return;
    this.peer.call('Heartbeat', {}).catch((err: Error) => this.o.log.warn({ err: err.message }, 'Heartbeat failed'));
    this.armHeartbeat();
  }

  private armHeartbeat(): void {
    this.heartbeatTimer?.unsubscribe();
    this.heartbeatTimer = undefined;
    if (!this.peer || this.registration !== 'Accepted') return;
    const intervalS = this.o.deviceModel.getNumber(VAR.heartbeatInterval, 300);
    if (intervalS <= 0) return;
    this.heartbeatTimer = this.o.scheduler.schedule(() => {
      this.heartbeatTimer = undefined;
      this.heartbeat();
    }, intervalS * 1000);
  }

  private armPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    const ws = this.ws;
    const intervalS = this.o.deviceModel.getNumber(VAR.webSocketPingInterval, 30);
    if (!ws || intervalS <= 0) return;
    this.awaitingPong = false;
    // Socket-level liveness (Part 4 §5.2): a ping unanswered for a whole interval means the path is dead.
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== ws.OPEN) return;
      if (this.awaitingPong) {
        this.o.log.warn('CSMS did not answer a WebSocket ping; reconnecting');
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
    }, intervalS * 1000);
    this.pingTimer.unref();
  }
}
