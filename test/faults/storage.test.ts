// Storage faults with the real CLI process:
// - disk full for the journal (the process runs under `ulimit -f`, so SQLite gets "database or disk is full"):
//   the relay keeps relaying every frame, the journal logs that it cannot write, nothing crashes;
// - a corrupt SQLite file at start: exit 1 with a one-line error naming the file, the file untouched.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { until } from '../relay/helpers.js';
import { startCsmsStub } from '../fuzz/csms-stub.js';
import { baseConfig, CLI, startCli } from './cli.js';
import { stringify } from 'yaml';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faults-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// These tests pipeline thousands of frames to fill the disk fast: the per-station rate limit (which would cut such a
// station off as a flood; tested in test/relay/attacks.test.ts) is lifted.
const PIPELINING = {
  stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, rateLimit: { framesPerS: 1_000_000, burst: 1_000_000 } },
};

describe('storage faults (real process)', () => {
  it('disk full for the journal: every frame is still relayed, and the journal says it cannot write', async () => {
    const dir = tempDir();
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    const cli = await startCli(dir, baseConfig(dir, csms.url, PIPELINING), { fileSizeLimitKb: 1024 });
    cleanups.push(() => { cli.child.kill('SIGKILL'); });
    const ws = new WebSocket(`ws://127.0.0.1:${cli.stationsPort}/ocpp/CP1`, ['ocpp2.0.1']);
    cleanups.push(() => ws.terminate());
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    let answers = 0;
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as unknown[];
      if (f[0] === 2) ws.send(JSON.stringify([4, f[1], 'NotImplemented', '', {}]));
      else if (String(f[1]).startsWith('hb')) answers++;
    });
    const N = 30_000;
    for (let batch = 0; batch < N / 1000; batch++) {
      for (let i = 0; i < 1000; i++) ws.send(JSON.stringify([2, `hb${batch * 1000 + i}`, 'Heartbeat', {}]));
      await until(() => answers === (batch + 1) * 1000, 20_000);
    }
    await until(() => cli.lines().some((l) => String(l.msg).startsWith('journal: cannot write')), 10_000);
    const line = cli.lines().find((l) => String(l.msg).startsWith('journal: cannot write'))!;
    expect(String(line.err)).toMatch(/full|too large|I\/O/i);
    expect(answers).toBe(N);
    expect(cli.child.exitCode).toBeNull();
    // Still relaying after the journal failed.
    ws.send(JSON.stringify([2, 'hb-last', 'Heartbeat', {}]));
    await until(() => answers === N + 1, 10_000);
  });

  it('disk full during a CSMS outage: messages that cannot be queued are not acknowledged, nothing crashes', async () => {
    const dir = tempDir();
    // Nothing listens on port 9: the CSMS is unreachable, every transaction message goes to the queue.
    const cli = await startCli(dir, baseConfig(dir, 'ws://127.0.0.1:9/csms', PIPELINING), { fileSizeLimitKb: 1024 });
    cleanups.push(() => { cli.child.kill('SIGKILL'); });
    const ws = new WebSocket(`ws://127.0.0.1:${cli.stationsPort}/ocpp/CP1`, ['ocpp2.0.1']);
    cleanups.push(() => ws.terminate());
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    const answers = new Map<string, unknown[]>();
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as unknown[];
      if (f[0] === 2) ws.send(JSON.stringify([4, f[1], 'NotImplemented', '', {}]));
      else answers.set(String(f[1]), f);
    });
    const T = '2026-01-01T00:00:00.000Z';
    const sampledValue = Array.from({ length: 20 }, (_, i) => ({ value: i * 1.5, measurand: 'Energy.Active.Import.Register' }));
    const N = 1500;
    for (let i = 0; i < N; i++) {
      ws.send(JSON.stringify([2, `mv${i}`, 'MeterValues', { evseId: 1, meterValue: [{ timestamp: T, sampledValue }] }]));
      if (i % 100 === 99) await until(() => answers.size === i + 1, 20_000);
    }
    await until(() => answers.size === N, 20_000);
    const results = [...answers.values()];
    const stored = results.filter((f) => f[0] === 3).length;
    const refused = results.filter((f) => f[0] === 4);
    expect(stored).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f) => f[2] === 'GenericError' && /cannot store|full/.test(String(f[3])))).toBe(true);
    expect(cli.child.exitCode).toBeNull();
    // Still answering the station.
    ws.send(JSON.stringify([2, 'hb-after', 'Heartbeat', {}]));
    await until(() => answers.has('hb-after'), 10_000);
    expect(answers.get('hb-after')![0]).toBe(3);
  });

  for (const [name, corrupt] of [
    ['a file that is not a database', (file: string) => writeFileSync(file, 'not a database '.repeat(500))],
    ['a database with damaged pages', (file: string) => {
      const db = new Database(file);
      db.exec('CREATE TABLE t (x TEXT); CREATE INDEX tx ON t (x);');
      const ins = db.prepare('INSERT INTO t VALUES (?)');
      // One transaction: 3000 separate commits would each fsync.
      db.transaction(() => { for (let i = 0; i < 3000; i++) ins.run(`row ${i} ${'y'.repeat(50)}`); })();
      db.close();
      const bytes = readFileSync(file);
      bytes.fill(0xa5, 4096 * 3, 4096 * 6);
      writeFileSync(file, bytes);
    }],
  ] as const) {
    it(`refuses to start on ${name}: exit 1, one clear line, file untouched`, () => {
      const dir = tempDir();
      const file = join(dir, 'site.sqlite');
      corrupt(file);
      const before = readFileSync(file);
      const cfg = join(dir, 'site.yaml');
      writeFileSync(cfg, stringify(baseConfig(dir, 'ws://127.0.0.1:9/csms')));
      const r = spawnSync(process.execPath, [CLI, 'run', '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      const errLines = r.stderr.trim().split('\n');
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toContain(file);
      expect(errLines[0]).toMatch(/not a usable SQLite database/);
      expect(readFileSync(file).equals(before)).toBe(true);
    });
  }
});
