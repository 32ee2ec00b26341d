// A test harness of real streams around the real web server: Subjects the test feeds in place of the relay, the
// meters and the control loop; the controller identity's real site-limit publisher and the relay's real journal on a
// real SQLite file in a temp dir; a real port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, BehaviorSubject, NEVER, Subject, type Subscription } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { ControlState, EvseState } from '../../src/control/types.js';
import { SiteLimitPublisher, type ExternalLimitSource } from '../../src/controller/site-limit-stream.js';
import type { ConnectionEvent, OcppCallEvent } from '../../src/relay/events.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { Journal, type JournalQuery } from '../../src/store/journal.js';
import { createWebServer, type WebServer } from '../../src/web/server.js';
import { createStations } from '../../src/stations/stations.js';
import { wireRecordsAndPageLimit } from '../../src/wiring.js';

export const USER = 'manager';
export const PASSWORD = 'correct horse battery';
const HASH = hashPasswordSync(PASSWORD, { N: 1024, r: 8, p: 1 });

export const STATIONS = ['CP01', 'CP02', 'CP03'];
export const FUSE: PhaseVector = [63, 63, 63];

export interface Harness {
  url: string;
  config: Config;
  db: Db;
  server: WebServer;
  readings: Subject<Reading>;
  control: BehaviorSubject<ControlState>;
  siteLimit: SiteLimitPublisher;
  connections: Subject<ConnectionEvent>;
  calls: Subject<OcppCallEvent>;
  /** Every setExternalLimit call the web made. */
  externalLimits: { source: ExternalLimitSource; limitA: PhaseVector | null }[];
  journalQueries: JournalQuery[];
  /** Meter step: feeds a good grid reading. */
  grid(currentsA: PhaseVector, powerW?: number): void;
  stop(): Promise<void>;
}

function configFor(dir: string): Config {
  return parseConfig({
    controller: { identity: 'SITE-CTRL' },
    stations: { listen: { host: '127.0.0.1', port: 0 }, list: STATIONS.map((id, i) => ({ id, circuit: i === 2 ? 'boardA' : undefined, maxA: 32 })) },
    upstream: { url: 'ws://127.0.0.1:1/ocpp' },
    storage: { path: join(dir, 'site.sqlite') },
    web: { host: '127.0.0.1', port: 0, users: [{ username: USER, passwordHash: HASH }] },
    site: { limitA: FUSE, voltage: 230, circuits: [{ id: 'boardA', limitA: [32, 32, 32] }] },
    meters: [
      { id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: 1, unitId: 1, map: 'sunspec' },
      { id: 'pv', role: 'pv', driver: 'modbus-tcp', host: '127.0.0.1', port: 1, unitId: 2, map: 'sunspec' },
      { id: 'battery', role: 'battery', driver: 'modbus-tcp', host: '127.0.0.1', port: 1, unitId: 3, map: 'sunspec' },
    ],
  });
}

/**
 * A stand-in for the control loop: shares the effective site limit equally among the EVSEs with a transaction
 * (capped at 32 A), so a limit changed on the page shows up as different allocations.
 */
function allocate(limit: PhaseVector, evses: EvseState[]): EvseState[] {
  const active = evses.filter((e) => e.transactionId);
  const share = active.length ? Math.min(32, Math.floor((Math.min(...limit) / active.length) * 10) / 10) : 0;
  return evses.map((e) => (e.transactionId ? { ...e, limitA: share, reason: share < 32 ? 'fair-share' : 'max' } : e));
}

export interface HarnessOptions {
  loginRateLimit?: { max: number; timeWindowMs: number };
  historyIntervalMs?: number;
  trustProxy?: boolean;
  liveStallMs?: number;
  idleTimeoutMs?: number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'web-test-'));
  const config = configFor(dir);
  if (options.trustProxy) config.web.trustProxy = true;
  const db = openDatabase(config.storage.path);
  const readings = new Subject<Reading>();
  const connections = new Subject<ConnectionEvent>();
  const calls = new Subject<OcppCallEvent>();
  const siteLimit = new SiteLimitPublisher(config.site, asyncScheduler, undefined);
  siteLimit.start();
  const evses: EvseState[] = STATIONS.map((id, i) => ({
    stationId: id, evseId: 1, status: i < 2 ? 'Occupied' : 'Available', transactionId: i < 2 ? `tx-${id}` : undefined,
    measuredCurrentA: i < 2 ? [16, 16, 16] : undefined, measuredPowerW: i < 2 ? 11040 : 0, phases: 3, controllable: i !== 1,
    controllableReason: i === 1 ? 'rejected SetChargingProfile' : undefined,
  }));
  const control = new BehaviorSubject<ControlState>({
    at: Date.now(), evses: allocate(FUSE, evses), alarms: [], lastSolveMs: 0,
    nodes: [{ id: 'site', limitA: FUSE, currentA: [40, 40, 40], failSafe: false }, { id: 'boardA', limitA: [32, 32, 32], currentA: [0, 0, 0], failSafe: false }],
  });
  const externalLimits: Harness['externalLimits'] = [];
  const journalQueries: JournalQuery[] = [];
  const journal = new Journal(db, { flushMs: 10 });
  journal.record({ at: Date.now() - 2000, stationId: 'CP01', direction: 'station->csms', kind: 2, messageId: 'm1', action: 'BootNotification', size: 120 });
  journal.record({ at: Date.now() - 1500, stationId: 'CP01', direction: 'csms->station', kind: 3, messageId: 'm1', action: 'BootNotification', size: 80 });
  journal.record({ at: Date.now() - 1000, stationId: 'CP01', direction: 'controller->station', kind: 2, messageId: 'm2', action: 'SetChargingProfile', size: 300 });
  journal.record({ at: Date.now() - 900, stationId: 'CP02', direction: 'station->csms', kind: 2, messageId: 'm3', action: 'Heartbeat', size: 20, note: 'queued: CSMS unreachable' });
  journal.flush();
  // The stand-in control loop re-allocates whenever the effective site limit changes.
  const reallocate: Subscription = siteLimit.siteLimit$.subscribe((l) => {
    control.next({ ...control.value, at: Date.now(), evses: allocate(l.limitA, control.value.evses) });
  });

  function setExternalLimit(source: ExternalLimitSource, limitA: PhaseVector | null): void {
    externalLimits.push({ source, limitA });
    siteLimit.setExternal(source, limitA);
  }
  const server = createWebServer({
    config, db, log: silentLogger, host: '127.0.0.1', port: 0, liveThrottleMs: 50,
    loginRateLimit: options.loginRateLimit ?? { max: 50, timeWindowMs: 60_000 },
    historyIntervalMs: options.historyIntervalMs ?? 200,
    ...(options.liveStallMs !== undefined ? { liveStallMs: options.liveStallMs } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ports: {
      controlState$: control, readings$: readings, siteLimit$: siteLimit.siteLimit$, connections$: connections,
      setExternalLimit,
      journal: {
        query(q) {
          journalQueries.push(q);
          return journal.query(q);
        },
      },
      queueLengths: () => ({ CP02: 3 }),
    },
  });
  const { url } = await server.start();
  // What main.ts wires beside the page: the stations' sessions → the store, the saved site limit → the controller.
  const stations = createStations({
    relay: { connections$: connections, calls$: calls, results$: NEVER },
    caller: { call: () => Promise.reject(new Error('no stations in this harness')), connectedStations: () => [] },
  });
  const wiring = wireRecordsAndPageLimit({ events$: stations.events$, sessions: server.sessions, settings: server.settings, setExternalLimit, log: silentLogger });
  for (const id of STATIONS) {
    connections.next({ stationId: id, side: 'station', up: true, at: Date.now() });
    connections.next({ stationId: id, side: 'upstream', up: id !== 'CP02', at: Date.now() });
  }
  const h: Harness = {
    url, config, db, server, readings, control, siteLimit, connections, calls, externalLimits, journalQueries,
    grid(currentsA, powerW) {
      readings.next({ deviceId: 'grid', at: Date.now(), quality: 'good', values: { phaseCurrentsA: currentsA, activePowerW: powerW ?? Math.round((currentsA[0] + currentsA[1] + currentsA[2]) * 230) } });
    },
    async stop() {
      await server.stop();
      wiring.unsubscribe();
      reallocate.unsubscribe();
      siteLimit.stop();
      journal.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  h.grid([40, 38, 42]);
  readings.next({ deviceId: 'pv', at: Date.now(), quality: 'good', values: { pvPowerW: 7400 } });
  readings.next({ deviceId: 'battery', at: Date.now(), quality: 'good', values: { batteryPowerW: -2500, batterySocPct: 64 } });
  return h;
}

/** Logs in through the API; returns the cookie header and CSRF token. */
export async function login(url: string, username = USER, password = PASSWORD): Promise<{ cookie: string; csrf: string; status: number }> {
  const res = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = (await res.json()) as { csrfToken?: string };
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  return { cookie, csrf: body.csrfToken ?? '', status: res.status };
}
