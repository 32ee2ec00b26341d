// Test fixtures for the controller stage: a real `ws` test CSMS on 127.0.0.1:0, temp SQLite files, a config, and a
// virtual clock that can be advanced while real sockets run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VirtualTimeScheduler } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { OcppPeer } from '../../src/ocpp/index.js';
import { openDatabase, type Db } from '../../src/store/db.js';

/** Virtual time starting at a real-looking instant; advance() runs every action due up to the new time. */
export class VirtualClock extends VirtualTimeScheduler {
  constructor(start: number) {
    super();
    this.frame = start;
  }
  advance(ms: number): void {
    const target = this.frame + ms;
    this.maxFrames = target;
    this.flush();
    this.frame = target;
    this.maxFrames = Infinity;
  }
  advanceTo(t: number): void {
    this.advance(t - this.frame);
  }
}

export function makeConfig(raw: Record<string, unknown> = {}): Config {
  const base: Record<string, unknown> = {
    stations: { listen: { port: 0 } },
    upstream: { url: 'ws://127.0.0.1:1', retry: { waitMinimumS: 1, randomRangeS: 0, repeatTimes: 2 } },
    site: { limitA: [63, 63, 63], voltage: 230 },
    ...raw,
  };
  return parseConfig(base);
}

export interface TempDir {
  dir: string;
  open(): Db;
  cleanup(): void;
}

export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), 'controller-test-'));
  const dbs: Db[] = [];
  return {
    dir,
    open() {
      const db = openDatabase(join(dir, 'site.sqlite'));
      dbs.push(db);
      return db;
    },
    cleanup() {
      for (const db of dbs) if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedCall {
  action: string;
  payload: Record<string, unknown>;
}

export interface CsmsConnection {
  peer: OcppPeer;
  socket: WebSocket;
  path: string;
  authorization?: string;
  protocol: string;
}

type Handler = (payload: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>;

/** A test CSMS: answers BootNotification/Heartbeat/etc. with what the test sets and records every CALL it gets. */
export class TestCsms {
  readonly calls: ReceivedCall[] = [];
  readonly connections: CsmsConnection[] = [];
  readonly handlers = new Map<string, Handler>();
  private waiters: Array<() => void> = [];

  private constructor(readonly server: WebSocketServer, readonly url: string) {
    this.handlers.set('BootNotification', () => ({ status: 'Accepted', interval: 60, currentTime: new Date().toISOString() }));
    this.handlers.set('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
    this.handlers.set('NotifyReport', () => ({}));
    this.handlers.set('ReportChargingProfiles', () => ({}));
    this.handlers.set('NotifyChargingLimit', () => ({}));
    this.handlers.set('ClearedChargingLimit', () => ({}));
    server.on('connection', (socket: WebSocket, req: IncomingMessage) => {
      const peer = new OcppPeer(socket);
      const conn: CsmsConnection = { peer, socket, path: req.url ?? '', authorization: req.headers.authorization, protocol: socket.protocol };
      this.connections.push(conn);
      for (const action of ['BootNotification', 'Heartbeat', 'NotifyReport', 'ReportChargingProfiles', 'NotifyChargingLimit', 'ClearedChargingLimit']) {
        peer.handle(action, async (payload) => {
          this.calls.push({ action, payload });
          const result = await this.handlers.get(action)!(payload);
          this.wake();
          return result;
        });
      }
      this.wake();
    });
  }

  static async start(): Promise<TestCsms> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false) });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    return new TestCsms(server, `ws://127.0.0.1:${port}/ocpp`);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `cond` holds (checked on every received CALL or connection), or rejects after `ms` real time. */
  async until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  callsOf(action: string): ReceivedCall[] {
    return this.calls.filter((c) => c.action === action);
  }

  get current(): CsmsConnection {
    const c = this.connections[this.connections.length - 1];
    if (!c) throw new Error('no connection');
    return c;
  }

  /** Drops every open connection (simulates a CSMS-side disconnect). */
  dropAll(): void {
    for (const c of this.connections) c.socket.terminate();
  }

  async stop(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
