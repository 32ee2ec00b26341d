// `npm run bench -- relay [--json] [stations=1000] [perStation=20] [seconds=20] [journal=0] [protocol=ocpp1.6]`
// (`npm run bench -- relay16` is the same with protocol=ocpp1.6: the stations speak OCPP 1.6J and send MeterValues.)
// 1000 stations and a CSMS on real sockets, through (a) a bare ws relay that only pipes frames (no parsing, no
// validation, no journal: the baseline) and (b) the real relay with validation and the journal on a SQLite file.
// Throughput: every station sends TransactionEvent CALLs back to back (one outstanding, as OCPP requires).
// Latency: 1000 stations × 1 message/s; added latency = round trip through the relay − round trip direct to the CSMS.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import { PER_MESSAGE_DEFLATE } from '../../src/relay/deflate.js';
import { createRelay } from '../../src/relay/relay.js';
import { openDatabase } from '../../src/store/db.js';
import type { Bench } from './run.js';

const NOW = '2026-01-01T00:00:00.000Z';
/** The stations' OCPP version for this run (protocol=…). */
let subprotocol: 'ocpp2.0.1' | 'ocpp1.6' = 'ocpp2.0.1';

/** A 1.6 station's periodic meter values during a transaction (the CSMS's transaction id). */
function frame16(id: string): string {
  return JSON.stringify([2, id, 'MeterValues', {
    connectorId: 1, transactionId: 4711,
    meterValue: [{ timestamp: NOW, sampledValue: [
      { value: '7250.5', measurand: 'Power.Active.Import', unit: 'W' }, { value: '10.5', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
      { value: '10.4', measurand: 'Current.Import', phase: 'L2', unit: 'A' }, { value: '10.6', measurand: 'Current.Import', phase: 'L3', unit: 'A' },
      { value: '12345.6', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
  }]);
}

function frame(id: string, seqNo: number): string {
  if (subprotocol === 'ocpp1.6') return frame16(id);
  return JSON.stringify([2, id, 'TransactionEvent', {
    eventType: 'Updated', timestamp: NOW, triggerReason: 'MeterValuePeriodic', seqNo,
    transactionInfo: { transactionId: 'TX-0001', chargingState: 'Charging' },
    meterValue: [{ timestamp: NOW, sampledValue: [
      { value: 7250.5, measurand: 'Power.Active.Import' }, { value: 10.5, measurand: 'Current.Import', phase: 'L1' },
      { value: 10.4, measurand: 'Current.Import', phase: 'L2' }, { value: 10.6, measurand: 'Current.Import', phase: 'L3' },
      { value: 12345.6, measurand: 'Energy.Active.Import.Register' }] }],
  }]);
}

const protocols = (p: Set<string>): string | false => (p.has(subprotocol) ? subprotocol : false);

async function listen(server: ReturnType<typeof createServer> | WebSocketServer): Promise<number> {
  if (server instanceof WebSocketServer) {
    await new Promise<void>((r) => server.once('listening', () => r()));
    return (server.address() as AddressInfo).port;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** The test CSMS: answers every CALL with an empty CALLRESULT. */
async function startCsms(): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: PER_MESSAGE_DEFLATE, handleProtocols: protocols });
  wss.on('connection', (ws) => ws.on('message', (d: RawData) => {
    const s = d.toString();
    const id = s.slice(4, s.indexOf('"', 4));
    ws.send(`[3,"${id}",{}]`);
  }));
  const port = await listen(wss);
  return { port, close: () => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }) };
}

/** The baseline: pipes frames between each station and its own upstream socket, nothing else. */
async function startBareRelay(csmsPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: PER_MESSAGE_DEFLATE, handleProtocols: protocols });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const id = (req.url ?? '').split('/').pop() ?? '';
    const up = new WebSocket(`ws://127.0.0.1:${csmsPort}/${id}`, [subprotocol], { perMessageDeflate: PER_MESSAGE_DEFLATE });
    up.once('open', () => wss.handleUpgrade(req, socket, head, (st) => {
      sockets.add(st).add(up);
      st.on('message', (d: RawData) => up.send(d, { binary: false }));
      up.on('message', (d: RawData) => st.send(d, { binary: false }));
      st.once('close', () => up.close());
    }));
    up.once('error', () => socket.destroy());
  });
  const port = await listen(server);
  return { port, close: () => new Promise((r) => { for (const s of sockets) s.terminate(); server.close(() => r()); }) };
}

interface Client { ws: WebSocket; pending: Map<string, (t: number) => void> }

async function connectStations(port: number, n: number, path: (i: number) => string): Promise<Client[]> {
  const clients: Client[] = [];
  for (let base = 0; base < n; base += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - base) }, (_, k) => new Promise<Client>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path(base + k)}`, [subprotocol], { perMessageDeflate: true });
      const c: Client = { ws, pending: new Map() };
      ws.on('message', (d: RawData) => {
        const s = d.toString();
        const id = s.slice(4, s.indexOf('"', 4));
        c.pending.get(id)?.(performance.now());
        c.pending.delete(id);
      });
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    })));
    clients.push(...batch);
  }
  return clients;
}

function call(c: Client, id: string, seqNo: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    c.pending.set(id, (t1) => resolve(t1 - t0));
    c.ws.send(frame(id, seqNo));
  });
}

/** Every station sends perStation CALLs back to back; returns round trips per second. */
async function throughput(clients: Client[], perStation: number, tag: string): Promise<{ wallS: number; cpuS: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < perStation; k++) await call(c, `${tag}-${i}-${k}`, k);
  }));
  const cpu = process.cpuUsage(c0);
  return { wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6 };
}

/** Every station sends one CALL per second, spread evenly; returns the round-trip times (ms). */
async function paced(clients: Client[], seconds: number, tag: string): Promise<number[]> {
  const rtts: number[] = [];
  const gap = 1000 / clients.length;
  await Promise.all(clients.map(async (c, i) => {
    await new Promise((r) => setTimeout(r, i * gap));
    for (let k = 0; k < seconds; k++) {
      const started = performance.now();
      rtts.push(await call(c, `${tag}-${i}-${k}`, k));
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - started))));
    }
  }));
  return rtts;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;

function arg(args: string[], name: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? Number(a.slice(name.length + 1)) : dflt;
}

export const run: Bench = async (opts) => {
  const stations = arg(opts.args, 'stations', 1000);
  const perStation = arg(opts.args, 'perStation', 20);
  const seconds = arg(opts.args, 'seconds', 20);
  subprotocol = opts.args.includes('protocol=ocpp1.6') ? 'ocpp1.6' : 'ocpp2.0.1';
  const csms = await startCsms();
  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  try {
    // Direct to the CSMS: the reference for added latency (kept connected; measured in turns with the relay).
    const directClients = await connectStations(csms.port, stations, (i) => `/CP${i}`);
    await throughput(directClients, 2, 'warm');
    let clients: Client[];

    // Baseline (bare ws relay) and the real relay (validation + journal on a SQLite file, WAL), both connected at
    // once and measured in alternating rounds, so a load change on the machine hits both alike.
    const bare = await startBareRelay(csms.port);
    const bareClients = await connectStations(bare.port, stations, (i) => `/ocpp/CP${i}`);
    const config = parseConfig({
      stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0 },
      upstream: { url: `ws://127.0.0.1:${csms.port}` },
      storage: { path: join(dir, 'bench.sqlite') },
      site: { limitA: [32, 32, 32] },
    });
    const db = openDatabase(config.storage.path);
    // journal=0 measures the relay without its journal (to see what the journal costs); the contract figure is with it.
    const relay = createRelay({ config, db, log: silentLogger, journal: arg(opts.args, 'journal', 1) !== 0 });
    const { port } = await relay.start();
    clients = await connectStations(port, stations, (i) => `/ocpp/CP${i}`);
    await throughput(bareClients, 2, 'warm');
    await throughput(clients, 2, 'warm');
    relay.journal?.flush();
    const rounds = 4;
    const perRound = Math.max(1, Math.round(perStation / rounds));
    const bareT = { wallS: 0, cpuS: 0 };
    const relayT = { wallS: 0, cpuS: 0 };
    for (let k = 0; k < rounds; k++) {
      const b = await throughput(bareClients, perRound, `b${k}`);
      const r = await throughput(clients, perRound, `r${k}`);
      bareT.wallS += b.wallS; bareT.cpuS += b.cpuS;
      relayT.wallS += r.wallS; relayT.cpuS += r.cpuS;
    }
    const sent = rounds * stations * perRound;
    // Throughput per CPU-second of this process (all threads: stations, CSMS, relay, journal writer): what one
    // saturated core achieves, and not distorted by whatever else the machine runs. Wall-clock rates are logged.
    const baseline = sent / bareT.cpuS;
    const ours = sent / relayT.cpuS;
    opts.log(`per CPU-second: bare relay ${Math.round(baseline)} msgs/s; relay ${Math.round(ours)} msgs/s`);
    opts.log(`wall clock: bare relay ${Math.round(sent / bareT.wallS)} msgs/s; relay ${Math.round(sent / relayT.wallS)} msgs/s`);
    for (const c of bareClients) c.ws.terminate();
    await bare.close();
    // Latency: 1000 stations × 1 message/s (paced, spread evenly over the second, not a flood), one second direct and
    // one second through the relay in turns (the order swapped every round, so a drift in machine load does not
    // favour one side). Each round pairs a direct second with the adjacent relay second; the added latency of a round
    // is the relay percentile minus the direct percentile of that pair. The figure reported is the median over the
    // rounds, with the spread (min…max), which shows how much of a single p99 is machine noise.
    const direct: number[] = [];
    const viaRelay: number[] = [];
    const added50: number[] = [];
    const added99: number[] = [];
    const rounds50 = { direct: [] as number[], relay: [] as number[] };
    const rounds99 = { direct: [] as number[], relay: [] as number[] };
    await paced(clients, 1, 'pw');
    for (let k = 0; k < seconds; k++) {
      let d: number[];
      let v: number[];
      if (k % 2 === 0) {
        d = await paced(directClients, 1, `d${k}`);
        v = await paced(clients, 1, `p${k}`);
      } else {
        v = await paced(clients, 1, `p${k}`);
        d = await paced(directClients, 1, `d${k}`);
      }
      direct.push(...d);
      viaRelay.push(...v);
      added50.push(pct(v, 50) - pct(d, 50));
      added99.push(pct(v, 99) - pct(d, 99));
      rounds50.direct.push(pct(d, 50)); rounds50.relay.push(pct(v, 50));
      rounds99.direct.push(pct(d, 99)); rounds99.relay.push(pct(v, 99));
    }
    // Other load on the machine only ever adds latency, so each side's quietest round is the best estimate of what
    // it costs without that noise; their difference is the relay's added latency on a quiet machine.
    const quiet50 = Math.min(...rounds50.relay) - Math.min(...rounds50.direct);
    const quiet99 = Math.min(...rounds99.relay) - Math.min(...rounds99.direct);
    const range = (xs: number[]): string => `${round(Math.min(...xs))}…${round(Math.max(...xs))}`;
    opts.log(`direct: p50 ${round(pct(direct, 50))} ms, p99 ${round(pct(direct, 99))} ms`);
    opts.log(`via relay: p50 ${round(pct(viaRelay, 50))} ms, p99 ${round(pct(viaRelay, 99))} ms`);
    opts.log(`added per round (${seconds} rounds): p50 ${range(added50)} ms, p99 ${range(added99)} ms`);
    opts.log(`quietest rounds: direct p50 ${round(Math.min(...rounds50.direct))} / p99 ${round(Math.min(...rounds99.direct))} ms, via relay p50 ${round(Math.min(...rounds50.relay))} / p99 ${round(Math.min(...rounds99.relay))} ms`);
    for (const c of directClients) c.ws.terminate();
    relay.journal?.flush();
    const journaled = relay.journal?.rowsWritten ?? 0;
    for (const c of clients) c.ws.terminate();
    await relay.stop();
    db.close();
    opts.log(`journal rows written: ${journaled}`);
    return {
      stations,
      protocol: subprotocol,
      messages: sent,
      throughput_msgs_per_s: Math.round(ours),
      baseline_throughput_msgs_per_s: Math.round(baseline),
      ratio: round(ours / baseline),
      p50_added_ms: round(pct(added50, 50)),
      p99_added_ms: round(pct(added99, 50)),
      p50_added_range_ms: [round(Math.min(...added50)), round(Math.max(...added50))],
      p99_added_range_ms: [round(Math.min(...added99)), round(Math.max(...added99))],
      pooled_p99_added_ms: round(pct(viaRelay, 99) - pct(direct, 99)),
      quiet_p50_added_ms: round(quiet50),
      quiet_p99_added_ms: round(quiet99),
      wall_throughput_msgs_per_s: Math.round(sent / relayT.wallS),
      wall_baseline_throughput_msgs_per_s: Math.round(sent / bareT.wallS),
      direct_p99_ms: round(pct(direct, 99)),
      via_relay_p99_ms: round(pct(viaRelay, 99)),
    };
  } finally {
    await csms.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
