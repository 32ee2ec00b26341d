// A small real site for end-to-end control tests: a test CSMS (ws server), the real relay on a temp SQLite file,
// test stations (ws clients speaking OCPP through OcppPeer) that apply profiles after a lag and report MeterValues,
// the simulated Modbus site read by the real SunSpec driver, and the control loop on the real clock.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, BehaviorSubject, NEVER, Subject, type Subscription } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';
import type { PhaseVector } from '../../algorithms/types.js';
import { createDevice, type Device } from '../../drivers/device.js';
import type { Reading } from '../../drivers/types.js';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import { createControlLoop } from '../../src/control/loop.js';
import { createStations } from '../../src/stations/stations.js';
import type { ControlLoop } from '../../src/control/types.js';
import { OcppPeer } from '../../src/ocpp/peer.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { OcppCallError } from '../../src/relay/events.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { openDatabase, type Db } from '../../src/store/db.js';

export interface TestCsms {
  url: string;
  peers: Map<string, OcppPeer>;
  close(): Promise<void>;
}

/** A CSMS that accepts everything the stations send. */
export async function startCsms(): Promise<TestCsms> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false) });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const peers = new Map<string, OcppPeer>();
  server.on('connection', (ws, req) => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    const peer = new OcppPeer(ws, { validate: false });
    const now = () => new Date().toISOString();
    peer.handle('BootNotification', () => ({ currentTime: now(), interval: 300, status: 'Accepted' }));
    peer.handle('Heartbeat', () => ({ currentTime: now() }));
    peer.handle('StatusNotification', () => ({}));
    peer.handle('MeterValues', () => ({}));
    peer.handle('TransactionEvent', () => ({}));
    peer.handle('NotifyEVChargingNeeds', () => ({ status: 'Accepted' }));
    peers.set(id, peer);
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/csms`,
    peers,
    async close() {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface HeldProfile {
  id: number;
  evseId: number;
  stackLevel: number;
  purpose: string;
  transactionId?: string;
  validTo?: number;
  limitA: number;
}

export interface StationOptions {
  /** How long the station takes to apply a new limit (ms). */
  lagMs?: number;
  /** Answer SetChargingProfile with CALLERROR NotImplemented. */
  noSmartCharging?: boolean;
  /** What the EV would draw without limits (A per phase). */
  evMaxA?: number;
  meterEveryMs?: number;
  /** How far its clock is off (ms, ahead positive): its timestamps and its profiles' validity are on that clock. */
  clockOffsetMs?: number;
}

/** A charging station with one EVSE: applies profiles after a lag (validTo honoured), an EV drawing what it may. */
export class TestStation {
  readonly profiles = new Map<number, HeldProfile>();
  /** Every SetChargingProfile it received, with arrival time (ms, wall clock). */
  readonly received: Array<{ at: number; payload: Record<string, unknown> }> = [];
  transactionId?: string;
  /** Current the EV draws now (A per phase), after the lag. */
  drawA = 0;
  peer!: OcppPeer;
  private ws!: WebSocket;
  private seqNo = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly lagMs: number;

  constructor(readonly id: string, private readonly opts: StationOptions = {}) {
    this.lagMs = opts.lagMs ?? 200;
  }

  /** The station's own clock now (epoch ms). */
  clock(): number {
    return Date.now() + (this.opts.clockOffsetMs ?? 0);
  }

  private stamp(): string {
    return new Date(this.clock()).toISOString();
  }

  async connect(port: number): Promise<void> {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${this.id}`, ['ocpp2.0.1'], { perMessageDeflate: true });
    const opened = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    // Handlers before the socket opens: the controller may call as soon as the connection is up.
    this.peer = new OcppPeer(this.ws, { validate: true });
    this.peer.handle('GetVariables', (p) => ({
      getVariableResult: (p.getVariableData as Array<{ component: unknown; variable: { name: string } }>).map((d) => {
        const v: Record<string, string> = { RateUnit: 'A', ProfileStackLevel: '8', PeriodsPerSchedule: '24', ACPhaseSwitchingSupported: 'false' };
        return { attributeStatus: 'Accepted', attributeValue: v[d.variable.name], component: d.component, variable: d.variable };
      }),
    }));
    this.peer.handle('SetChargingProfile', (p) => {
      this.received.push({ at: Date.now(), payload: p });
      if (this.opts.noSmartCharging) throw new OcppCallError('NotImplemented', 'no smart charging here');
      const cp = p.chargingProfile as Record<string, unknown>;
      const sched = (cp.chargingSchedule as Array<{ chargingSchedulePeriod: Array<{ limit: number }> }>)[0];
      if (cp.chargingProfilePurpose === 'TxProfile' && cp.transactionId !== this.transactionId) return { status: 'Rejected' };
      this.profiles.set(cp.id as number, {
        id: cp.id as number,
        evseId: p.evseId as number,
        stackLevel: cp.stackLevel as number,
        purpose: cp.chargingProfilePurpose as string,
        transactionId: cp.transactionId as string | undefined,
        validTo: typeof cp.validTo === 'string' ? Date.parse(cp.validTo) : undefined,
        limitA: sched.chargingSchedulePeriod[0].limit,
      });
      this.applyLater();
      return { status: 'Accepted' };
    });
    this.peer.handle('ClearChargingProfile', (p) => {
      const id = p.chargingProfileId as number | undefined;
      if (id !== undefined) this.profiles.delete(id);
      this.applyLater();
      return { status: 'Accepted' };
    });
    await opened;
    await this.peer.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'TestStation', vendorName: 'test' } });
    await this.peer.call('StatusNotification', { timestamp: this.stamp(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    const every = this.opts.meterEveryMs ?? 200;
    this.timers.push(setInterval(() => this.tick(), every));
  }

  /** The limit the station enforces now: its TxProfile (highest valid stack level) else TxDefault, under any max. */
  effectiveLimitA(now = this.clock()): number {
    const valid = [...this.profiles.values()].filter((p) => p.validTo === undefined || now < p.validTo);
    const top = (purpose: string) => valid.filter((p) => p.purpose === purpose && (purpose !== 'TxProfile' || p.transactionId === this.transactionId)).sort((a, b) => b.stackLevel - a.stackLevel)[0];
    const tx = this.transactionId ? top('TxProfile') : undefined;
    const base = tx ?? top('TxDefaultProfile');
    const max = top('ChargingStationMaxProfile');
    return Math.min(base?.limitA ?? 32, max?.limitA ?? Infinity);
  }

  async startTransaction(txId: string): Promise<void> {
    this.transactionId = txId;
    await this.peer.call('TransactionEvent', {
      eventType: 'Started', timestamp: this.stamp(), triggerReason: 'CablePluggedIn', seqNo: this.seqNo++,
      transactionInfo: { transactionId: txId, chargingState: 'Charging' }, evse: { id: 1, connectorId: 1 },
    });
    this.applyLater();
  }

  async endTransaction(): Promise<void> {
    const txId = this.transactionId;
    this.transactionId = undefined;
    this.drawA = 0;
    await this.peer.call('TransactionEvent', {
      eventType: 'Ended', timestamp: this.stamp(), triggerReason: 'EVCommunicationLost', seqNo: this.seqNo++,
      transactionInfo: { transactionId: txId, stoppedReason: 'EVDisconnected' }, evse: { id: 1 },
    });
  }

  /** The last TxProfile limit received. */
  lastTxLimit(): number | undefined {
    const last = this.received.filter((r) => (r.payload.chargingProfile as { chargingProfilePurpose: string }).chargingProfilePurpose === 'TxProfile').at(-1);
    return last ? ((last.payload.chargingProfile as { chargingSchedule: Array<{ chargingSchedulePeriod: Array<{ limit: number }> }> }).chargingSchedule[0].chargingSchedulePeriod[0].limit) : undefined;
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.ws?.terminate();
  }

  private applyLater(): void {
    const t = setTimeout(() => this.applyNow(), this.lagMs);
    this.timers.push(t);
  }

  private applyNow(): void {
    this.drawA = this.transactionId ? Math.min(this.opts.evMaxA ?? 32, this.effectiveLimitA()) : 0;
  }

  private tick(): void {
    // Limits run out on their own (validTo): re-evaluate every tick, like a station's smart-charging engine.
    if (this.transactionId) this.applyNow();
    if (!this.transactionId || this.ws.readyState !== WebSocket.OPEN) return;
    void this.peer
      .call('MeterValues', {
        evseId: 1,
        meterValue: [{ timestamp: this.stamp(), sampledValue: ['L1', 'L2', 'L3'].map((phase) => ({ value: this.drawA, measurand: 'Current.Import', phase, unitOfMeasure: { unit: 'A' } })) }],
      })
      .catch(() => undefined);
  }
}

export interface World {
  config: Config;
  csms: TestCsms;
  relay: Relay;
  modbus: SimModbusSite;
  meter: Device;
  loop: ControlLoop;
  stations: Map<string, TestStation>;
  /** Base load on every phase (A), besides the stations. */
  baseA: PhaseVector;
  readings: Reading[];
  addStation(id: string, opts?: StationOptions): Promise<TestStation>;
  /** The controller process going away: control loop and relay stop together, station sockets drop. */
  killController(): Promise<void>;
  close(): Promise<void>;
}

export async function startWorld(opts: { stations: string[]; control?: Record<string, unknown>; limitA?: PhaseVector; pollMs?: number; staleMs?: number }): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'control-e2e-'));
  const csms = await startCsms();
  const modbus = new SimModbusSite(undefined, { host: '127.0.0.1', port: 0 });
  const modbusPort = await modbus.start();
  const pollMs = opts.pollMs ?? 100;
  const staleMs = opts.staleMs ?? 1000;
  const config = parseConfig({
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, list: opts.stations.map((id) => ({ id })) },
    upstream: { url: csms.url, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 } },
    storage: { path: join(dir, 'db.sqlite') },
    site: { limitA: opts.limitA ?? [32, 32, 32] },
    meters: [{ id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: modbusPort, unitId: 1, map: 'sunspec', pollMs, staleMs, timeoutMs: 300 }],
    control: { loopMs: 500, rampAPerS: 100, hysteresisA: 0.5, profileValidityS: 10, safeLimitA: [8, 8, 8], marginA: 0, ...opts.control },
  });
  const db: Db = openDatabase(config.storage.path);
  const relay = createRelay({ config, db, log: silentLogger, upstreamHandshakeTimeoutMs: 2000 });
  const { port } = await relay.start();
  const m = config.meters[0];
  const meter = createDevice({ id: m.id, driver: 'modbus-tcp', host: m.host, port: m.port, unitId: m.unitId, map: m.map, pollMs: m.pollMs, staleMs: m.staleMs, timeoutMs: m.timeoutMs }, { dataDir: dir });
  const readings: Reading[] = [];
  const readings$ = new Subject<Reading>();
  const subs: Subscription[] = [meter.readings$.subscribe((r) => { readings.push(r); readings$.next(r); })];
  const fuse = { kind: 'fuse' as const, id: 'site.limitA', limitA: config.site.limitA };
  const siteLimit$ = new BehaviorSubject<SiteLimit>({ at: Date.now(), limitA: config.site.limitA, binding: fuse, sources: [fuse] });
  const loop = createControlLoop({ scheduler: asyncScheduler, config, stations: createStations({ relay, caller: relay }), readings$, siteLimit$, settings$: NEVER, log: silentLogger });
  const stations = new Map<string, TestStation>();
  let killed = false;
  const world: World = {
    config, csms, relay, modbus, meter, loop, stations, readings,
    baseA: [0, 0, 0],
    async addStation(id, o) {
      const s = new TestStation(id, o);
      stations.set(id, s);
      await s.connect(port);
      return s;
    },
    async killController() {
      killed = true;
      for (const s of subs) s.unsubscribe();
      await loop.stop();
      await relay.stop();
      db.close();
    },
    async close() {
      clearInterval(physics);
      for (const s of subs) s.unsubscribe();
      await loop.stop();
      for (const s of stations.values()) s.close();
      await meter.close();
      if (!killed) {
        await relay.stop();
        db.close();
      }
      await modbus.close();
      await csms.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Site physics: the grid meter sees the base load plus what every station draws now.
  const physics = setInterval(() => {
    const draw = [...stations.values()].reduce((s, x) => s + x.drawA, 0);
    modbus.model.setGrid({ currentsA: world.baseA.map((b) => b + draw) as PhaseVector });
  }, 20);
  return world;
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
