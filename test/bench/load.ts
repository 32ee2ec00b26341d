// `npm run bench -- load [--json] [stations=1000] [connectS=1] [seconds=10] [meterEveryS=1]`
// Load on loopback only, bounded: N stations open their sockets spread over `connectS` seconds, through the real
// relay (validation, journal on a SQLite file in a temp dir) to a test CSMS, all in this process. Each station
// sends BootNotification, a StatusNotification per connector (2), then MeterValues every `meterEveryS` seconds for
// `seconds` seconds. Reports: stations accepted (BootNotification Accepted by the CSMS), time from the first
// connect to the last acceptance (target ≤ 10 s), CALLs sent by the stations vs received by the CSMS vs answers
// received by the stations (nothing dropped: all equal), CALLERRORs, and the process's RSS / heap (stations, relay
// and CSMS together — `footprint` measures the controller alone).
// Needs ~3 file descriptors per station (station socket, relay side, upstream + CSMS side): 4000+ for 1000
// stations. Check `ulimit -n` (the script refuses to start below 4 × stations + 200); raise the soft limit with
// `ulimit -n 8192` in the shell that runs it.
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import { PER_MESSAGE_DEFLATE } from '../../src/relay/deflate.js';
import { createRelay } from '../../src/relay/relay.js';
import { openDatabase } from '../../src/store/db.js';
import type { Bench } from './run.js';

function arg(args: string[], name: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? Number(a.slice(name.length + 1)) : dflt;
}

function openFileLimit(): number {
  try {
    return Number(execSync('ulimit -n', { encoding: 'utf8', shell: '/bin/sh' }).trim());
  } catch {
    return Number.NaN;
  }
}

const mb = (n: number): number => Math.round(n / 1e5) / 10;

export const run: Bench = async ({ args, log }) => {
  const N = arg(args, 'stations', 1000);
  const connectS = arg(args, 'connectS', 1);
  const seconds = arg(args, 'seconds', 10);
  const meterEveryS = arg(args, 'meterEveryS', 1);
  const fdLimit = openFileLimit();
  if (Number.isFinite(fdLimit) && fdLimit < 4 * N + 200) {
    throw new Error(`ulimit -n is ${fdLimit}; ${N} stations need about ${4 * N + 200} file descriptors: run \`ulimit -n ${Math.max(8192, 4 * N + 200)}\` first`);
  }

  // The test CSMS: accepts every boot, answers every CALL, counts what it received.
  const atCsms = { boot: 0, status: 0, meter: 0, other: 0 };
  const csms = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: PER_MESSAGE_DEFLATE, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false), backlog: 4096 });
  await new Promise<void>((r) => csms.once('listening', () => r()));
  const now = new Date().toISOString();
  csms.on('connection', (ws) => ws.on('message', (d: RawData) => {
    const f = JSON.parse(d.toString()) as [number, string, string, unknown];
    if (f[0] !== 2) return;
    if (f[2] === 'BootNotification') { atCsms.boot++; ws.send(JSON.stringify([3, f[1], { currentTime: now, interval: 300, status: 'Accepted' }])); return; }
    if (f[2] === 'StatusNotification') atCsms.status++;
    else if (f[2] === 'MeterValues') atCsms.meter++;
    else atCsms.other++;
    ws.send(`[3,"${f[1]}",{}]`);
  }));
  const csmsPort = (csms.address() as AddressInfo).port;

  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const config = parseConfig({
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 30 },
    upstream: { url: `ws://127.0.0.1:${csmsPort}/ocpp`, callTimeoutS: 30 },
    storage: { path: join(dir, 'site.sqlite') },
    site: { limitA: [63, 63, 63] },
  });
  const db = openDatabase(config.storage.path);
  const relay = createRelay({ config, db, log: silentLogger, upstreamHandshakeTimeoutMs: 30_000 });
  const { port } = await relay.start();

  let sent = 0;
  let answered = 0;
  let callErrors = 0;
  let accepted = 0;
  let failedConnects = 0;
  let lastAcceptedAt = 0;
  let peakRss = 0;
  let peakHeap = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 200);
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const start = performance.now();
  const stopAt = start + (connectS + seconds) * 1000;

  const station = (i: number): void => {
    const id = `LOAD${String(i).padStart(5, '0')}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp2.0.1'], { perMessageDeflate: PER_MESSAGE_DEFLATE, handshakeTimeout: 30_000 });
    sockets.push(ws);
    let seq = 0;
    // OCPP allows one outstanding CALL per direction: the next one goes when the previous is answered.
    const queue: [string, Record<string, unknown>][] = [];
    let inFlight = false;
    const call = (action: string, payload: Record<string, unknown>): void => {
      queue.push([action, payload]);
      pump();
    };
    const pump = (): void => {
      if (inFlight || queue.length === 0 || ws.readyState !== WebSocket.OPEN) return;
      const [action, payload] = queue.shift()!;
      inFlight = true;
      sent++;
      ws.send(JSON.stringify([2, `${id}-${seq++}`, action, payload]));
    };
    ws.on('message', (d: RawData) => {
      const f = JSON.parse(d.toString()) as [number, string, unknown];
      if (f[0] === 2) { ws.send(JSON.stringify([4, f[1], 'NotImplemented', '', {}])); return; }
      answered++;
      inFlight = false;
      if (f[0] === 4) callErrors++;
      else if (f[1].endsWith('-0') && (f[2] as { status?: string }).status === 'Accepted') {
        accepted++;
        lastAcceptedAt = performance.now();
      }
      pump();
    });
    ws.once('open', () => {
      call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'LoadStation', vendorName: 'bench' } });
      for (const connectorId of [1, 2]) {
        call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: connectorId, connectorId: 1 });
      }
      const t = setInterval(() => {
        if (performance.now() > stopAt) { clearInterval(t); return; }
        call('MeterValues', { evseId: 1, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: 1000 + seq, measurand: 'Energy.Active.Import.Register' }] }] });
      }, meterEveryS * 1000);
      timers.push(t);
    });
    ws.on('error', () => { failedConnects++; });
  };

  // Spread the connects evenly over connectS seconds.
  for (let i = 0; i < N; i++) {
    const at = (i * connectS * 1000) / N;
    const wait = start + at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    station(i);
  }
  const connectsIssuedMs = performance.now() - start;
  log(`${N} connects issued in ${Math.round(connectsIssuedMs)} ms`);
  while (accepted < N && performance.now() - start < 60_000 + connectS * 1000) await new Promise((r) => setTimeout(r, 50));
  const allAcceptedMs = accepted === N ? Math.round(lastAcceptedAt - start) : null;
  log(`${accepted}/${N} accepted${allAcceptedMs !== null ? ` after ${allAcceptedMs} ms` : ''}`);
  while (performance.now() < stopAt) await new Promise((r) => setTimeout(r, 100));
  for (const t of timers) clearInterval(t);
  // Let the last answers arrive.
  const settle = performance.now();
  while (answered < sent && performance.now() - settle < 10_000) await new Promise((r) => setTimeout(r, 50));
  clearInterval(sample);
  const end = process.memoryUsage();
  const receivedAtCsms = atCsms.boot + atCsms.status + atCsms.meter + atCsms.other;
  const relayMetrics = relay.metrics();
  for (const ws of sockets) ws.terminate();
  await relay.stop();
  db.close();
  await new Promise<void>((r) => { for (const c of csms.clients) c.terminate(); csms.close(() => r()); });
  rmSync(dir, { recursive: true, force: true });
  return {
    stations: N,
    connect_window_s: connectS,
    connects_issued_ms: Math.round(connectsIssuedMs),
    accepted,
    failed_connects: failedConnects,
    all_accepted_ms: allAcceptedMs,
    target_all_accepted_ms: 10_000,
    calls_sent_by_stations: sent,
    calls_received_by_csms: receivedAtCsms,
    answers_received_by_stations: answered,
    call_errors: callErrors,
    dropped: sent - receivedAtCsms,
    meter_values_at_csms: atCsms.meter,
    relay_errors: relayMetrics.errors,
    journal_ok: relayMetrics.journalOk,
    rss_peak_mb: mb(peakRss),
    heap_peak_mb: mb(peakHeap),
    rss_end_mb: mb(end.rss),
    heap_end_mb: mb(end.heapUsed),
    fd_limit: fdLimit,
  };
};
