// `npm run bench -- attacks [--json] [seconds=5] [clients=100]`: the station-port attacks of issue 16, measured on
// real sockets against the real relay with the default limits (runs on any version: only defaults, only client-side
// outcomes). The figures in docs/operations.md (security review) come from here.
//  - guesses: `clients` concurrent wrong-password handshakes from one address for `seconds`; password checks per
//    second (401 answers), refused-before-checking per second (429/503), and a legitimate station's handshake time
//    during the attack (one that connected before, and one whose password was never checked).
//  - spread guesses: the same from 50 loopback addresses against 5 identities.
//  - ghosts: 20 000 handshakes with made-up ids (auth none, allowUnknown false); time, memory left behind.
//  - flood: a station pipelining Heartbeats without waiting; how long until it is cut off, frames that reached the CSMS.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../../src/common/log.js';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { parseConfig } from '../../src/config/load.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { openDatabase } from '../../src/store/db.js';
import type { Bench } from './run.js';

const PASSWORD = 'correct-horse-battery-staple';

async function startCsms(): Promise<{ url: string; received: () => number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let n = 0;
  wss.on('connection', (ws) => ws.on('message', (d) => {
    n++;
    const s = d.toString();
    const id = s.slice(4, s.indexOf('"', 4));
    ws.send(`[3,"${id}",{"currentTime":"2026-01-01T00:00:00.000Z"}]`);
  }));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/csms`, received: () => n,
    close: async () => { for (const c of wss.clients) c.terminate(); await new Promise<void>((r) => wss.close(() => r())); },
  };
}

async function startRelay(csmsUrl: string, stations: Record<string, unknown>): Promise<{ relay: Relay; port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-attacks-'));
  const config = parseConfig({ stations: { listen: { host: '127.0.0.1', port: 0 }, pingIntervalS: 0, ...stations }, upstream: { url: csmsUrl }, storage: { path: join(dir, 'db.sqlite') }, site: { limitA: [32, 32, 32] } });
  const db = openDatabase(config.storage.path);
  const relay = createRelay({ config, db, log: silentLogger });
  const { port } = await relay.start();
  return { relay, port, async stop() { await relay.stop(); db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

type Outcome = number | 'open' | 'error';
function handshake(port: number, id: string, password: string | undefined, localAddress = '127.0.0.1'): Promise<Outcome> {
  const headers: Record<string, string> = password === undefined ? {} : { Authorization: `Basic ${Buffer.from(`${id}:${password}`).toString('base64')}` };
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp2.0.1'], { headers, localAddress });
  return new Promise((resolve) => {
    ws.once('open', () => { ws.terminate(); resolve('open'); });
    ws.once('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('error', () => resolve('error'));
  });
}

async function timed(fn: () => Promise<Outcome>): Promise<{ ms: number; outcome: Outcome }> {
  const t = performance.now();
  const outcome = await fn();
  return { ms: Math.round(performance.now() - t), outcome };
}

async function guessing(seconds: number, clients: number, spread: boolean): Promise<Record<string, unknown>> {
  const csms = await startCsms();
  const ids = ['CP01', 'CP02', 'CP03', 'CP04', 'CP05', 'KNOWN', 'FRESH'];
  const r = await startRelay(csms.url, { auth: 'basic', list: ids.map((id) => ({ id, passwordHash: hashPasswordSync(PASSWORD) })) });
  try {
    const warm = await timed(() => handshake(r.port, 'KNOWN', PASSWORD));
    const counts = { checked: 0, refused: 0, other: 0 };
    const end = Date.now() + seconds * 1000;
    let n = 0;
    const worker = async (w: number) => {
      while (Date.now() < end) {
        const id = spread ? `CP0${(n % 5) + 1}` : 'CP01';
        const o = await handshake(r.port, id, `guess-${n++}`, spread ? `127.0.0.${10 + (w % 50)}` : '127.0.0.1');
        if (o === 401) counts.checked++;
        else if (o === 429 || o === 503) counts.refused++;
        else counts.other++;
      }
    };
    const attack = Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
    await new Promise((res) => setTimeout(res, (seconds * 1000) / 2));
    const known = await timed(() => handshake(r.port, 'KNOWN', PASSWORD, '127.0.0.2'));
    const fresh = await timed(() => handshake(r.port, 'FRESH', PASSWORD, '127.0.0.3'));
    await attack;
    return {
      guesses_checked_per_s: Math.round((counts.checked / seconds) * 10) / 10,
      guesses_refused_per_s: Math.round(counts.refused / seconds),
      other: counts.other,
      legit_handshake_quiet_ms: warm.ms,
      legit_known_during_ms: known.ms, legit_known_outcome: known.outcome,
      legit_fresh_during_ms: fresh.ms, legit_fresh_outcome: fresh.outcome,
    };
  } finally {
    await r.stop();
    await csms.close();
  }
}

async function ghosts(count: number): Promise<Record<string, unknown>> {
  const csms = await startCsms();
  const r = await startRelay(csms.url, { allowUnknown: false, list: [{ id: 'CP01' }] });
  try {
    const events: unknown[] = [];
    const sub = r.relay.connections$.subscribe((e) => events.push(e));
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t = performance.now();
    for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => handshake(r.port, `GHOST${i + j}`, undefined)));
    const ms = performance.now() - t;
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    sub.unsubscribe();
    return {
      ghost_attempts: count, ghost_attempts_per_s: Math.round(count / (ms / 1000)),
      ghost_connection_events: events.length, ghost_stations_connected: r.relay.connectedStations().length,
      ghost_heap_delta_mb: Math.round(((heapAfter - heapBefore) / 1048576) * 10) / 10, ghost_gc: typeof global.gc === 'function',
    };
  } finally {
    await r.stop();
    await csms.close();
  }
}

async function flood(): Promise<Record<string, unknown>> {
  const csms = await startCsms();
  const r = await startRelay(csms.url, { allowUnknown: true });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${r.port}/ocpp/FLOOD`, ['ocpp2.0.1']);
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    await new Promise((res) => setTimeout(res, 200));
    const before = csms.received();
    const t = performance.now();
    let closedAt: number | undefined;
    let code: number | undefined;
    ws.once('close', (c) => { closedAt ??= performance.now(); code = c; });
    let sent = 0;
    const end = Date.now() + 20_000;
    // Cut off = the relay's close frame arrived (the client leaves OPEN at once; 'close' follows the TCP close).
    while (closedAt === undefined && Date.now() < end && ws.readyState === WebSocket.OPEN) {
      // As fast as the socket takes them (never more than 1 MiB waiting in the client).
      if (ws.bufferedAmount < 1 << 20) for (let i = 0; i < 200; i++) ws.send(`[2,"f${sent++}","Heartbeat",{}]`);
      await new Promise((res) => setTimeout(res, 1));
    }
    if (closedAt === undefined && ws.readyState !== WebSocket.OPEN) closedAt = performance.now();
    await new Promise<void>((res) => { if (code !== undefined) res(); else { ws.once('close', () => res()); setTimeout(res, 5000); } });
    ws.terminate();
    return {
      flood_cut_off_ms: closedAt === undefined ? null : Math.round(closedAt - t), flood_close_code: code ?? null,
      flood_frames_sent: sent, flood_frames_reached_csms: csms.received() - before,
    };
  } finally {
    await r.stop();
    await csms.close();
  }
}

export const run: Bench = async ({ args, log }) => {
  const opt = (k: string, d: number) => Number(args.find((a) => a.startsWith(`${k}=`))?.split('=')[1] ?? d);
  const seconds = opt('seconds', 5);
  const clients = opt('clients', 100);
  const only = args.find((a) => a.startsWith('only='))?.split('=')[1];
  if (only === 'flood') return flood();
  log(`guessing: ${clients} clients, ${seconds} s, one address`);
  const one = await guessing(seconds, clients, false);
  log(JSON.stringify(one));
  log('guessing: spread over 50 addresses, 5 identities');
  const spread = await guessing(seconds, clients, true);
  log(JSON.stringify(spread));
  log('ghosts: 20000 made-up ids');
  const g = await ghosts(20_000);
  log(JSON.stringify(g));
  log('flood: pipelined Heartbeats');
  const f = await flood();
  log(JSON.stringify(f));
  return {
    ...one,
    ...Object.fromEntries(Object.entries(spread).map(([k, v]) => [`spread_${k}`, v])),
    ...g, ...f,
  };
};
