// Real sockets for relay tests: a test CSMS (ws server) and station clients, plus a relay on a temp SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { OcppPeer } from '../../src/ocpp/peer.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { openDatabase, type Db } from '../../src/store/db.js';

export interface TestCsms {
  server: WebSocketServer;
  url: string;
  port: number;
  /** Peers by station id, as they connect. */
  peers: Map<string, OcppPeer>;
  sockets: Map<string, WebSocket>;
  /** Raw text frames the CSMS received, per station. */
  received: Map<string, string[]>;
  requests: IncomingMessage[];
  connected(id: string): Promise<OcppPeer>;
  /** Applied to every new station peer (handlers). */
  setup: (peer: OcppPeer, id: string) => void;
  close(): Promise<void>;
}

export async function startCsms(opts: { port?: number; verifyClient?: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number) => void) => void } = {}): Promise<TestCsms> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    perMessageDeflate: true,
    // Both versions, as a CSMS serving 1.6 and 2.0.1 on one endpoint does; the station's socket offers one.
    handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : p.has('ocpp1.6') ? 'ocpp1.6' : false),
    verifyClient: opts.verifyClient,
  });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as AddressInfo).port;
  const waiters = new Map<string, ((p: OcppPeer) => void)[]>();
  const csms: TestCsms = {
    server,
    port,
    url: `ws://127.0.0.1:${port}/csms`,
    peers: new Map(),
    sockets: new Map(),
    received: new Map(),
    requests: [],
    setup: () => undefined,
    connected(id) {
      const p = csms.peers.get(id);
      if (p && csms.sockets.get(id)?.readyState === WebSocket.OPEN) return Promise.resolve(p);
      return new Promise((r) => waiters.set(id, [...(waiters.get(id) ?? []), r]));
    },
    async close() {
      for (const s of server.clients) s.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on('connection', (ws, req) => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    csms.requests.push(req);
    ws.on('message', (d) => {
      const list = csms.received.get(id) ?? [];
      list.push(d.toString());
      csms.received.set(id, list);
    });
    const peer = new OcppPeer(ws, { validate: false });
    csms.peers.set(id, peer);
    csms.sockets.set(id, ws);
    csms.setup(peer, id);
    for (const w of waiters.get(id) ?? []) w(peer);
    waiters.delete(id);
  });
  return csms;
}

export interface TestRelay {
  relay: Relay;
  port: number;
  db: Db;
  dir: string;
  config: Config;
  stop(): Promise<void>;
}

export function testConfig(csmsUrl: string, overrides: Record<string, unknown> = {}, dbPath = ':memory:'): Config {
  const stations = (overrides.stations ?? {}) as Record<string, unknown>;
  const upstream = (overrides.upstream ?? {}) as Record<string, unknown>;
  return parseConfig({
    ...(overrides.controller ? { controller: overrides.controller } : {}),
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, ...stations },
    upstream: { url: csmsUrl, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 }, ...upstream },
    storage: { path: dbPath },
    site: { limitA: [32, 32, 32] },
  });
}

export async function startRelay(csmsUrl: string, overrides: Record<string, unknown> = {}, dir?: string): Promise<TestRelay> {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'relay-test-'));
  const config = testConfig(csmsUrl, overrides, join(d, 'db.sqlite'));
  const db = openDatabase(config.storage.path);
  const relay = createRelay({ config, db, log: silentLogger, upstreamHandshakeTimeoutMs: 2000 });
  const { port } = await relay.start();
  return {
    relay, port, db, dir: d, config,
    async stop() {
      await relay.stop();
      db.close();
      if (!dir) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface TestStation { ws: WebSocket; peer: OcppPeer; received: string[] }

export async function connectStation(port: number, id: string, opts: { protocols?: string[]; auth?: string } = {}): Promise<TestStation> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${encodeURIComponent(id)}`, opts.protocols ?? ['ocpp2.0.1'], {
    perMessageDeflate: true,
    headers: opts.auth ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {},
  });
  const received: string[] = [];
  ws.on('message', (d) => received.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return { ws, peer: new OcppPeer(ws, { validate: false }), received };
}

export function nextText(ws: WebSocket): Promise<string> {
  return new Promise((r) => ws.once('message', (d) => r(d.toString())));
}

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const NOW = '2026-01-01T00:00:00.000Z';
