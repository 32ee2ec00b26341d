// `npm run bench -- footprint [--json] [stations=500] [seconds=10] [web=1]`
// The controller alone, as deployed: spawns the compiled CLI (`node dist/src/main.js run --config <temp>`), with
// 500 stations connecting from this (separate) process through it to a test CSMS (also here), each sending a boot,
// status notifications and MeterValues every 2 s. Reports (CONTRACT keys) `stations`, `rss_mb` (the controller's
// VmRSS from /proc/<pid>/status after all stations are in and traffic has run `seconds` s), `startup_ms` (spawn →
// the relay listening, i.e. the "stations connect to" log line); plus the peak (VmHWM) and the time until every
// station was accepted. Targets: rss ≤ 120 MB, start-up ≤ 1.5 s. The controller runs with the node flags of
// deploy/site-controller.service's ExecStart (as on a gateway box); `plain=1` runs it without them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { stringify } from 'yaml';
import { PER_MESSAGE_DEFLATE } from '../../src/relay/deflate.js';
import type { Bench } from './run.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'main.js');
const UNIT = join(import.meta.dirname, '..', '..', '..', 'deploy', 'site-controller.service');

/** The node flags the systemd unit runs the controller with (ExecStart=/usr/bin/node FLAGS .../main.js ...). */
function deployedNodeFlags(): string[] {
  const m = /^ExecStart=\S*node((?:\s+--\S+)*)\s+\S*main\.js/m.exec(readFileSync(UNIT, 'utf8'));
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

function arg(args: string[], name: string, dflt: number): number {
  const a = args.find((x) => x.startsWith(`${name}=`));
  return a ? Number(a.slice(name.length + 1)) : dflt;
}

function procStatusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

export const run: Bench = async ({ args, log }) => {
  const N = arg(args, 'stations', 500);
  const seconds = arg(args, 'seconds', 10);
  const withWeb = arg(args, 'web', 1) === 1;
  // plain=1: `node main.js` without the unit's flags (what `node dist/src/main.js run` costs by hand).
  const nodeFlags = arg(args, 'plain', 0) === 1 ? [] : deployedNodeFlags();
  const dir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));

  const csms = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: PER_MESSAGE_DEFLATE, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false), backlog: 2048 });
  await new Promise<void>((r) => csms.once('listening', () => r()));
  const now = new Date().toISOString();
  csms.on('connection', (ws) => ws.on('message', (d: RawData) => {
    const f = JSON.parse(d.toString()) as [number, string, string];
    if (f[0] !== 2) return;
    ws.send(JSON.stringify([3, f[1], f[2] === 'BootNotification' ? { currentTime: now, interval: 300, status: 'Accepted' } : {}]));
  }));
  const csmsPort = (csms.address() as AddressInfo).port;

  const config = {
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true },
    upstream: { url: `ws://127.0.0.1:${csmsPort}/ocpp` },
    storage: { path: join(dir, 'site.sqlite') },
    web: withWeb ? { host: '127.0.0.1', port: 0 } : { enabled: false },
    site: { limitA: [250, 250, 250] },
    log: { level: 'info' },
  };
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stringify(config));

  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.length > 1e6) out = out.slice(-1e5); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  let port: number | undefined;
  let startupMs = 0;
  while (port === undefined) {
    if (child.exitCode !== null) throw new Error(`the controller exited: ${out.slice(-2000)}`);
    if (performance.now() - t0 > 30_000) { child.kill('SIGKILL'); throw new Error('the controller did not start in 30 s'); }
    const m = /"port":(\d+)[^\n]*"msg":"stations connect to/.exec(out);
    if (m) { port = Number(m[1]); startupMs = Math.round(performance.now() - t0); }
    else await new Promise((r) => setTimeout(r, 5));
  }
  const rssAtStartMb = procStatusKb(child.pid!, 'VmRSS') / 1024;
  log(`controller pid ${child.pid} listening on ${port} after ${startupMs} ms (RSS ${rssAtStartMb.toFixed(1)} MB)`);

  let accepted = 0;
  let lastAcceptedAt = 0;
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const tConnect = performance.now();
  for (let i = 0; i < N; i++) {
    const id = `FP${String(i).padStart(4, '0')}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp2.0.1'], { perMessageDeflate: PER_MESSAGE_DEFLATE, handshakeTimeout: 30_000 });
    sockets.push(ws);
    let seq = 0;
    const q: string[] = [];
    let busy = false;
    const send = (action: string, payload: Record<string, unknown>): void => { q.push(JSON.stringify([2, `${id}-${seq++}`, action, payload])); pump(); };
    const pump = (): void => { if (!busy && q.length && ws.readyState === WebSocket.OPEN) { busy = true; ws.send(q.shift()!); } };
    ws.on('message', (d: RawData) => {
      const f = JSON.parse(d.toString()) as [number, string, Record<string, unknown>];
      // The controller's own calls (GetVariables, SetChargingProfile): answered so it has nothing to retry.
      if (f[0] === 2) { ws.send(JSON.stringify([4, f[1], 'NotImplemented', '', {}])); return; }
      busy = false;
      if (f[1] === `${id}-0` && f[2].status === 'Accepted') { accepted++; lastAcceptedAt = performance.now(); }
      pump();
    });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      send('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'FP', vendorName: 'bench' } });
      send('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
      timers.push(setInterval(() => send('MeterValues', { evseId: 1, meterValue: [{ timestamp: new Date().toISOString(), sampledValue: [{ value: seq }] }] }), 2000));
    });
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
  }
  while (accepted < N && performance.now() - tConnect < 60_000) await new Promise((r) => setTimeout(r, 50));
  const acceptedMs = Math.round(lastAcceptedAt - tConnect);
  log(`${accepted}/${N} accepted after ${acceptedMs} ms; running ${seconds} s`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rssKb = procStatusKb(child.pid!, 'VmRSS');
  const hwmKb = procStatusKb(child.pid!, 'VmHWM');
  for (const t of timers) clearInterval(t);
  for (const ws of sockets) ws.terminate();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await new Promise<void>((r) => { for (const c of csms.clients) c.terminate(); csms.close(() => r()); });
  rmSync(dir, { recursive: true, force: true });
  return {
    stations: N,
    rss_mb: Math.round(rssKb / 102.4) / 10,
    startup_ms: startupMs,
    rss_peak_mb: Math.round(hwmKb / 102.4) / 10,
    rss_at_start_mb: Math.round(rssAtStartMb * 10) / 10,
    accepted,
    all_accepted_ms: acceptedMs,
    web: withWeb,
    node_flags: nodeFlags.join(' '),
    target_rss_mb: 120,
    target_startup_ms: 1500,
  };
};
