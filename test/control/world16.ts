// OCPP 1.6 over real sockets for control tests and the mixed reaction bench: a 1.6 CSMS that accepts what stations
// send and hands out integer transaction ids, and a rude 1.6 station (ws client, the firmware of station16.ts on the
// real clock) that reports MeterValues every second and applies profiles after its reaction time.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { OcppPeer } from '../../src/ocpp/peer.js';
import { Firmware16, type Rude16Options } from './station16.js';

export interface TestCsms16 {
  url: string;
  close(): Promise<void>;
}

export async function startCsms16(): Promise<TestCsms16> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false) });
  await new Promise<void>((r) => server.once('listening', () => r()));
  let nextTx = 100;
  server.on('connection', (ws) => {
    const peer = new OcppPeer(ws, { validate: false });
    const now = () => new Date().toISOString();
    peer.handle('BootNotification', () => ({ currentTime: now(), interval: 300, status: 'Accepted' }));
    peer.handle('Heartbeat', () => ({ currentTime: now() }));
    peer.handle('StatusNotification', () => ({}));
    peer.handle('MeterValues', () => ({}));
    peer.handle('StartTransaction', () => ({ transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }));
    peer.handle('StopTransaction', () => ({ idTagInfo: { status: 'Accepted' } }));
    peer.handle('Authorize', () => ({ idTagInfo: { status: 'Accepted' } }));
    // 2.0.1 stations on the same site (the mixed bench).
    peer.handle('TransactionEvent', () => ({}));
    peer.handle('NotifyEVChargingNeeds', () => ({ status: 'Accepted' }));
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/csms`,
    async close() {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A rude 1.6 station over a real socket. */
export class WsStation16 extends Firmware16 {
  /** Every SetChargingProfile it received, with arrival time (wall clock). */
  readonly received: Array<{ at: number; payload: Record<string, unknown> }> = [];
  peer!: OcppPeer;
  private ws!: WebSocket;
  private timers: NodeJS.Timeout[] = [];

  constructor(readonly id: string, private readonly opts: Rude16Options = {}) {
    super(() => Date.now(), opts);
  }

  async connect(port: number): Promise<void> {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${this.id}`, ['ocpp1.6']);
    const opened = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.peer = new OcppPeer(this.ws, { validate: false });
    for (const action of ['GetConfiguration', 'ChangeConfiguration', 'SetChargingProfile', 'ClearChargingProfile', 'GetCompositeSchedule']) {
      this.peer.handle(action, (p) => {
        if (action === 'SetChargingProfile') this.received.push({ at: Date.now(), payload: p });
        return this.answer(action, p);
      });
    }
    await opened;
    await this.peer.call('BootNotification', { chargePointVendor: 'rude', chargePointModel: 'WS16' });
    await this.peer.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    this.timers.push(setInterval(() => this.tick(), this.opts.meterEveryMs ?? 1000));
  }

  async startTransaction(): Promise<number> {
    await this.peer.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    const r = await this.peer.call('StartTransaction', { connectorId: 1, idTag: 'CARD', meterStart: 0, timestamp: new Date().toISOString() });
    this.txId = r.transactionId as number;
    return this.txId;
  }

  /** The last session limit it was sent (A per phase, whatever the unit), if any. */
  lastSessionLimitA(): number | undefined {
    const last = this.received.filter((r) => (r.payload.connectorId as number) === 1).at(-1);
    if (!last) return undefined;
    const s = (last.payload.csChargingProfiles as { chargingSchedule: { chargingRateUnit: string; chargingSchedulePeriod: Array<{ limit: number; numberPhases?: number }> } }).chargingSchedule;
    const p = s.chargingSchedulePeriod[0];
    return s.chargingRateUnit === 'W' ? Math.round((p.limit / (230 * (p.numberPhases ?? 3))) * 10) / 10 : p.limit;
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.ws?.terminate();
  }

  private tick(): void {
    this.advance();
    if (this.txId === undefined || this.ws.readyState !== WebSocket.OPEN) return;
    void this.peer.call('MeterValues', this.meterValues()).catch(() => undefined);
  }
}
