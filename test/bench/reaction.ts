// `npm run bench -- reaction [--json] [steps]`: time from a meter step in the Modbus server to the last
// SetChargingProfile received by the stations, through the real chain: simulated SunSpec meter → driver (polling) →
// control loop → relay (injected calls) → test stations over WebSocket. 10 and 100 stations. Each measured step raises
// the base load so every station's limit drops (decreases go out at once); between steps the load falls back and the
// limits rise again on the loop's ramp, unmeasured. The mixed variant runs half the stations on OCPP 1.6 (through the
// 1.6 adapter: TxProfile on connectorId, integer transactionId) beside 2.0.1 ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, BehaviorSubject, NEVER } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import { createDevice } from '../../drivers/device.js';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import { createControlLoop } from '../../src/control/loop.js';
import { loadLpSolver } from '../../src/control/planner.js';
import { createStations } from '../../src/stations/stations.js';
import { createRelay } from '../../src/relay/relay.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { openDatabase } from '../../src/store/db.js';
import { TestStation, until } from '../control/world.js';
import { startCsms16, WsStation16 } from '../control/world16.js';
import type { Bench } from './run.js';

const POLL_MS = 100;

interface SizeResult {
  stations: number;
  /** Of which on OCPP 1.6. */
  stations16: number;
  poll_ms: number;
  steps: number;
  median_ms: number;
  p99_ms: number;
  max_ms: number;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** What the bench needs of a station of either protocol. */
interface BenchStation {
  received: Array<{ at: number }>;
  limit(): number | undefined;
  close(): void;
}

async function measure(n: number, steps: number, log: (l: string) => void, share16 = 0): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reaction-'));
  const csms = await startCsms16(); // answers both protocols
  const modbus = new SimModbusSite(undefined, { host: '127.0.0.1', port: 0 });
  const modbusPort = await modbus.start();
  const ids = Array.from({ length: n }, (_, i) => `CP${String(i + 1).padStart(3, '0')}`);
  // 8 A each at base 0; a base step of n A takes 1 A from everyone.
  const limit = 8 * n;
  const config = parseConfig({
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, list: ids.map((id) => ({ id })) },
    upstream: { url: csms.url, callTimeoutS: 10 },
    storage: { path: join(dir, 'db.sqlite') },
    site: { limitA: [limit, limit, limit] },
    meters: [{ id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: modbusPort, unitId: 1, map: 'sunspec', pollMs: POLL_MS, staleMs: 2000, timeoutMs: 500 }],
    control: { loopMs: 1000, rampAPerS: 1000, hysteresisA: 0.5, profileValidityS: 600, meterStepA: 2, marginA: 0 }, // exact 8 A shares: the bench times reactions, not the drift margin
  });
  const db = openDatabase(config.storage.path);
  const relay = createRelay({ config, db, log: silentLogger, journal: false });
  const { port } = await relay.start();
  const m = config.meters[0];
  const meter = createDevice({ id: m.id, driver: 'modbus-tcp', host: m.host, port: m.port, unitId: m.unitId, map: m.map, pollMs: m.pollMs, staleMs: m.staleMs, timeoutMs: m.timeoutMs }, { dataDir: dir });
  const fuse = { kind: 'fuse' as const, id: 'site.limitA', limitA: config.site.limitA };
  const siteLimit$ = new BehaviorSubject<SiteLimit>({ at: Date.now(), limitA: config.site.limitA, binding: fuse, sources: [fuse] });
  const loop = createControlLoop({ scheduler: asyncScheduler, config, stations: createStations({ relay, caller: relay }), readings$: meter.readings$, siteLimit$, settings$: NEVER, log: silentLogger, lpSolver: await loadLpSolver() });
  // Where the time goes: when the driver delivered the step, and when the controller sent its first call.
  let lastReadAt = 0;
  let lastBase = -1;
  const readSub = meter.readings$.subscribe((r) => {
    const a = r.values.phaseCurrentsA?.[0];
    if (a !== undefined && Math.abs(a - lastBase) > 0.5) {
      lastBase = a;
      lastReadAt = Date.now();
    }
  });
  const stations: BenchStation[] = [];
  const n16 = Math.round(n * share16);
  try {
    for (const [i, id] of ids.entries()) {
      if (i < n16) {
        const s = new WsStation16(id, { reactionMs: 0, meterEveryMs: 3_600_000 });
        await s.connect(port);
        await s.startTransaction();
        stations.push({ received: s.received, limit: () => s.lastSessionLimitA(), close: () => s.close() });
      } else {
        const s = new TestStation(id, { lagMs: 0, meterEveryMs: 3_600_000 });
        await s.connect(port);
        await s.startTransaction(`tx-${i}`);
        stations.push({ received: s.received, limit: () => s.lastTxLimit(), close: () => s.close() });
      }
    }
    await until(() => stations.every((s) => s.limit() === 8), 60_000, `all ${n} stations at 8 A`);
    const times: number[] = [];
    const detect: number[] = [];
    const dispatch: number[] = [];
    for (let k = 0; k < 2 * steps; k++) {
      const up = k % 2 === 0;
      const base = up ? n : 0;
      const expect = up ? 7 : 8;
      const counts = stations.map((s) => s.received.length);
      await new Promise((r) => setTimeout(r, POLL_MS * 2 + Math.random() * POLL_MS));
      const t0 = Date.now();
      modbus.model.setGrid({ currentsA: [base, base, base] as PhaseVector });
      await until(() => stations.every((s, i) => s.received.length > counts[i] && s.limit() === expect), 30_000, `step ${k}`);
      if (!up) continue;
      const last = Math.max(...stations.map((s) => s.received.at(-1)!.at));
      times.push(last - t0);
      detect.push(lastReadAt - t0);
      dispatch.push(last - lastReadAt);
    }
    detect.sort((a, b) => a - b);
    dispatch.sort((a, b) => a - b);
    times.sort((a, b) => a - b);
    const r = {
      stations: n,
      stations16: n16,
      poll_ms: POLL_MS,
      steps,
      median_ms: quantile(times, 0.5),
      p99_ms: quantile(times, 0.99),
      max_ms: times.at(-1) ?? NaN,
      // Of which: the meter step reaching the controller (polling), median.
      median_detect_ms: quantile(detect, 0.5),
      p99_detect_ms: quantile(detect, 0.99),
      // Of which: reading in → every station has its profile (solve, dispatch, relay, WebSocket).
      median_dispatch_ms: quantile(dispatch, 0.5),
      p99_dispatch_ms: quantile(dispatch, 0.99),
    };
    log(`${n} stations (${n16} on 1.6): median ${r.median_ms} ms, p99 ${r.p99_ms} ms over ${steps} steps (poll ${POLL_MS} ms; detection median ${r.median_detect_ms} / p99 ${r.p99_detect_ms} ms, dispatch median ${r.median_dispatch_ms} / p99 ${r.p99_dispatch_ms} ms)`);
    return r;
  } finally {
    readSub.unsubscribe();
    for (const s of stations) s.close();
    await loop.stop();
    await meter.close();
    await relay.stop();
    db.close();
    await modbus.close();
    await csms.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const run: Bench = async (opts) => {
  const steps = Number(opts.args[0] ?? 20) || 20;
  const small = await measure(10, steps, opts.log);
  const large = await measure(100, steps, opts.log);
  // Mixed fleet: half on 1.6 (needs the relay to speak ocpp1.6).
  const mixed = await measure(100, steps, opts.log, 0.5);
  return {
    stations: large.stations,
    poll_ms: large.poll_ms,
    median_ms: large.median_ms,
    p99_ms: large.p99_ms,
    target_ms: POLL_MS + 100,
    sizes: [small, large],
    mixed: { stations: mixed.stations, stations16: mixed.stations16, poll_ms: mixed.poll_ms, median_ms: mixed.median_ms, p99_ms: mixed.p99_ms, target_ms: POLL_MS + 100 },
  };
};
