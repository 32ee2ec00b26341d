// Web benchmark (run with `npm run bench -- web` once test/bench/web.ts re-exports it): the page's API with a large
// site — GET /api/state latency, live-update latency from a meter step to every SSE client, and the week-history
// query over a week of 10 s samples.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BehaviorSubject, Subject } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import { silentLogger } from '../../src/common/log.js';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { parseConfig } from '../../src/config/load.js';
import type { ControlState } from '../../src/control/types.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import type { ConnectionEvent, OcppCallEvent } from '../../src/relay/events.js';
import { openDatabase } from '../../src/store/db.js';
import { createWebServer } from '../../src/web/server.js';

interface BenchOptions { json: boolean; args: string[]; log: (line: string) => void }

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
};

export const run = async (opts: BenchOptions): Promise<Record<string, unknown>> => {
  const stations = Number(opts.args[0] ?? 100);
  const clients = Number(opts.args[1] ?? 20);
  const dir = mkdtempSync(join(tmpdir(), 'web-bench-'));
  const ids = Array.from({ length: stations }, (_, i) => `CP${String(i + 1).padStart(3, '0')}`);
  const config = parseConfig({
    stations: { listen: { host: '127.0.0.1', port: 0 }, list: ids.map((id) => ({ id })) },
    upstream: { url: 'ws://127.0.0.1:1/ocpp' },
    storage: { path: join(dir, 'b.sqlite') },
    web: { users: [{ username: 'b', passwordHash: hashPasswordSync('b', { N: 1024, r: 8, p: 1 }) }] },
    site: { limitA: [400, 400, 400] },
    meters: [{ id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: 1, map: 'sunspec' }],
  });
  const db = openDatabase(config.storage.path);
  const readings = new Subject<Reading>();
  const connections = new Subject<ConnectionEvent>();
  const fuse = { kind: 'fuse' as const, id: 'site.limitA', limitA: [400, 400, 400] as PhaseVector };
  const siteLimit = new BehaviorSubject<SiteLimit>({ at: Date.now(), limitA: fuse.limitA, binding: fuse, sources: [fuse] });
  const control = new BehaviorSubject<ControlState>({
    at: Date.now(), alarms: [], lastSolveMs: 0, nodes: [{ id: 'site', limitA: fuse.limitA, currentA: [100, 100, 100], failSafe: false }],
    evses: ids.map((id, i) => ({ stationId: id, evseId: 1, status: 'Occupied', transactionId: `tx${i}`, limitA: 10, measuredCurrentA: [9.8, 9.8, 9.8], controllable: true, reason: 'fair-share' })),
  });
  const server = createWebServer({
    config, db, log: silentLogger, port: 0, liveThrottleMs: 100, historyIntervalMs: 3600_000,
    ports: { controlState$: control, readings$: readings, siteLimit$: siteLimit, connections$: connections, setExternalLimit: () => {} },
  });
  const { url } = await server.start();
  for (const id of ids) connections.next({ stationId: id, side: 'station', up: true, at: Date.now() });
  const res = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'b', password: 'b' }) });
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];

  // 1. GET /api/state, sequential.
  const stateMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    const r = await fetch(`${url}/api/state`, { headers: { cookie } });
    bytes = (await r.text()).length;
    stateMs.push(performance.now() - t);
  }
  opts.log(`GET /api/state with ${stations} stations: p50 ${pct(stateMs, 50)} ms, p99 ${pct(stateMs, 99)} ms, ${bytes} bytes`);

  // 2. Meter step → every SSE client has the new value.
  const ctrl = new AbortController();
  const waiters: ((v: number) => void)[] = [];
  const readers = await Promise.all(Array.from({ length: clients }, async () => {
    const r = await fetch(`${url}/api/live`, { headers: { cookie }, signal: ctrl.signal });
    const reader = r.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '));
            buf = buf.slice(i + 2);
            if (data) {
              const v = (JSON.parse(data.slice(6)) as { site: { gridCurrentA: number[] | null } }).site.gridCurrentA?.[0];
              if (v !== undefined) for (const w of waiters) w(v);
            }
          }
        }
      } catch { /* aborted */ }
    })();
    return reader;
  }));
  const liveMs: number[] = [];
  for (let step = 1; step <= 30; step++) {
    const value = 100 + step;
    let seen = 0;
    const t = performance.now();
    await new Promise<void>((resolve) => {
      const w = (v: number) => { if (v === value && ++seen === clients) { waiters.splice(waiters.indexOf(w), 1); resolve(); } };
      waiters.push(w);
      readings.next({ deviceId: 'grid', at: Date.now(), quality: 'good', values: { phaseCurrentsA: [value, 90, 80] } });
    });
    liveMs.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 120)); // past the throttle window, so each step is a fresh push
  }
  ctrl.abort();
  void readers;
  opts.log(`meter step → all ${clients} live clients: p50 ${pct(liveMs, 50)} ms, p99 ${pct(liveMs, 99)} ms (throttle 100 ms)`);

  // 3. A week of 10 s samples, then the week chart query.
  const now = Date.now();
  const stationW = Object.fromEntries(ids.slice(0, 20).map((id) => [id, 7000]));
  for (let t = now - 7 * 86_400_000; t < now; t += 10_000) {
    server.history.write({ at: t, gridCurrentA: [100, 90, 80], limitA: [400, 400, 400], gridPowerW: 60000, pvPowerW: 1000, batteryPowerW: 0, batterySoc: 50, chargingPowerW: 50000, stations: stationW });
  }
  const weekMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await fetch(`${url}/api/history?range=week`, { headers: { cookie } });
    await r.json();
    weekMs.push(performance.now() - t);
  }
  opts.log(`history week (60480 samples, 20 stations) → 400 points: median ${pct(weekMs, 50)} ms`);

  await server.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    stations, clients, state_p50_ms: pct(stateMs, 50), state_p99_ms: pct(stateMs, 99), state_bytes: bytes,
    live_p50_ms: pct(liveMs, 50), live_p99_ms: pct(liveMs, 99), history_week_ms: pct(weekMs, 50),
  };
};
