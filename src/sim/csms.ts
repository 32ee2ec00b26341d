// A simulated CSMS for the demo and tests: a `ws` server that accepts any station identity on /<path>/<id> with the
// ocpp2.0.1 or ocpp1.6 subprotocol (2.0.1 preferred when both are offered; permessage-deflate), answers every station
// message validly in the station's protocol (1.6: integer transaction ids assigned here), and can act as an operator:
// set a site limit on the controller's own identity (ChargingStationMaxProfile / ChargePointMaxProfile on connector 0),
// start and stop transactions.
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger, type Logger } from '../common/log.js';
import { OcppPeer } from '../ocpp/peer.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import { ocppActions } from '../ocpp/validate.js';
import { csmsAnswer } from './inprocess.js';
import { Csms16Answers, OCPP16_STATION_ACTIONS } from './csms-16.js';

export type SimProtocol = OcppProtocol;

interface Connected {
  peer: OcppPeer;
  protocol: SimProtocol;
}

export interface SimCsmsOptions {
  host?: string;
  port?: number;
  log?: Logger;
  /** Clock for message timestamps (epoch ms); default Date.now. */
  now?: () => number;
}

export interface CsmsMessage {
  stationId: string;
  action: string;
  payload: Record<string, unknown>;
  at: number;
}

export class SimCsms {
  private wss?: WebSocketServer;
  private readonly peers = new Map<string, Connected>();
  private readonly answers16 = new Csms16Answers();
  private readonly log: Logger;
  private readonly now: () => number;
  /** The last messages received (newest last, at most 1000), for tests and the demo log. */
  readonly received: CsmsMessage[] = [];
  private listeners: ((m: CsmsMessage) => void)[] = [];
  private profileId = 500;

  constructor(private readonly opts: SimCsmsOptions = {}) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  async start(): Promise<string> {
    const wss = new WebSocketServer({
      host: this.opts.host ?? '127.0.0.1',
      port: this.opts.port ?? 0,
      perMessageDeflate: true,
      handleProtocols: (protocols) => (protocols.has('ocpp2.0.1') ? 'ocpp2.0.1' : protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
    });
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('error', (err) => this.log.warn({ err: err.message }, 'simulated CSMS server error'));
    wss.on('connection', (socket, req) => this.accept(socket, decodeURIComponent((req.url ?? '').split('?')[0].split('/').filter(Boolean).pop() ?? '')));
    return this.url;
  }

  /** Base URL stations (and the controller's upstream) connect to: `<url>/<stationId>`. */
  get url(): string {
    const a = this.wss?.address() as AddressInfo | undefined;
    return `ws://${this.opts.host ?? '127.0.0.1'}:${a?.port ?? 0}/ocpp`;
  }

  get port(): number {
    return (this.wss?.address() as AddressInfo | undefined)?.port ?? 0;
  }

  connected(): string[] {
    return [...this.peers.keys()];
  }

  /** The protocol a connected station (or the controller's identity) speaks. */
  protocolOf(stationId: string): SimProtocol | undefined {
    return this.peers.get(stationId)?.protocol;
  }

  onMessage(fn: (m: CsmsMessage) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== fn);
    };
  }

  private accept(socket: WebSocket, stationId: string): void {
    const protocol = socket.protocol;
    if (!stationId || (protocol !== 'ocpp2.0.1' && protocol !== 'ocpp1.6')) {
      socket.close(1002, 'ocpp2.0.1 or ocpp1.6 subprotocol and a station identity are required');
      return;
    }
    this.peers.get(stationId)?.peer.close(1000, 'replaced by a new connection');
    const is16 = protocol === 'ocpp1.6';
    const peer = new OcppPeer(socket, { log: this.log, callTimeoutMs: 30_000, protocol });
    const entry: Connected = { peer, protocol };
    this.peers.set(stationId, entry);
    for (const action of is16 ? OCPP16_STATION_ACTIONS : ocppActions()) {
      peer.handle(action, (payload) => {
        const at = this.now();
        const m = { stationId, action, payload, at };
        this.received.push(m);
        if (this.received.length > 1000) this.received.shift();
        for (const l of this.listeners) l(m);
        return is16 ? this.answers16.answer(action, payload, at) : csmsAnswer(action, payload, at);
      });
    }
    void peer.closed.then(() => {
      if (this.peers.get(stationId) === entry) this.peers.delete(stationId);
    });
  }

  /** Sends a CALL to a connected station (or the controller's identity) as the CSMS operator would. */
  async call(stationId: string, action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const c = this.peers.get(stationId);
    if (!c) throw new Error(`station ${stationId} is not connected to the CSMS`);
    return c.peer.call(action, payload);
  }

  /** K03: the site limit as a ChargingStationMaxProfile (A per phase) on the controller's own identity. */
  async setSiteLimit(controllerId: string, limitA: number, opts: { stackLevel?: number; validForS?: number } = {}): Promise<Record<string, unknown>> {
    const id = ++this.profileId;
    const now = this.now();
    if (this.protocolOf(controllerId) === 'ocpp1.6') {
      return this.call(controllerId, 'SetChargingProfile', {
        connectorId: 0,
        csChargingProfiles: {
          chargingProfileId: id,
          stackLevel: opts.stackLevel ?? 0,
          chargingProfilePurpose: 'ChargePointMaxProfile',
          chargingProfileKind: 'Absolute',
          ...(opts.validForS ? { validTo: new Date(now + opts.validForS * 1000).toISOString() } : {}),
          chargingSchedule: { startSchedule: new Date(now).toISOString(), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: limitA }] },
        },
      });
    }
    return this.call(controllerId, 'SetChargingProfile', {
      evseId: 0,
      chargingProfile: {
        id,
        stackLevel: opts.stackLevel ?? 0,
        chargingProfilePurpose: 'ChargingStationMaxProfile',
        chargingProfileKind: 'Absolute',
        ...(opts.validForS ? { validTo: new Date(now + opts.validForS * 1000).toISOString() } : {}),
        chargingSchedule: [{ id, startSchedule: new Date(now).toISOString(), chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: limitA }] }],
      },
    });
  }

  async startTransaction(stationId: string, evseId = 1): Promise<Record<string, unknown>> {
    if (this.protocolOf(stationId) === 'ocpp1.6') return this.call(stationId, 'RemoteStartTransaction', { connectorId: evseId, idTag: 'CSMS-REMOTE' });
    return this.call(stationId, 'RequestStartTransaction', { evseId, remoteStartId: ++this.profileId, idToken: { idToken: 'CSMS-REMOTE', type: 'Central' } });
  }

  /** 1.6: `transactionId` is the integer this CSMS assigned (as a string, as the neutral station model carries it). */
  async stopTransaction(stationId: string, transactionId: string): Promise<Record<string, unknown>> {
    if (this.protocolOf(stationId) === 'ocpp1.6') return this.call(stationId, 'RemoteStopTransaction', { transactionId: Number(transactionId) });
    return this.call(stationId, 'RequestStopTransaction', { transactionId });
  }

  async stop(): Promise<void> {
    for (const c of this.peers.values()) c.peer.close(1001, 'CSMS going away');
    this.peers.clear();
    const wss = this.wss;
    this.wss = undefined;
    if (!wss) return;
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}
