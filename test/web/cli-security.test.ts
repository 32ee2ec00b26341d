// The real controller process under station-port attacks (issue 16 #1, #2, #11): refused handshakes leave the page,
// /metrics and the real station untouched; the data folder and SQLite file are the service user's alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { connectStation, startCsms, until, type TestCsms, type TestStation } from '../relay/helpers.js';
import { startCliController, type CliController } from './cli-controller.js';

const PASSWORD = 'station password 0001';
const USER = 'manager';
const USER_PASSWORD = 'manager password 0001';

function attempt(port: number, id: string, auth?: string): Promise<number | 'open'> {
  const headers: Record<string, string> = auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {};
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp2.0.1'], { headers });
  return new Promise((resolve) => {
    ws.once('open', () => { ws.terminate(); resolve('open'); });
    ws.once('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('error', () => resolve(0));
  });
}

describe('the controller process under station-port attacks', () => {
  let dir: string;
  let csms: TestCsms;
  let proc: CliController;
  let cp02: TestStation;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-security-'));
    csms = await startCsms();
    const hash = hashPasswordSync(PASSWORD, { N: 1024, r: 8, p: 1 });
    proc = await startCliController(dir, {
      controller: { identity: 'LC-SECURITY' },
      stations: { listen: { host: '127.0.0.1', port: 0 }, auth: 'basic', pingIntervalS: 0, list: [{ id: 'CP01', passwordHash: hash }, { id: 'CP02', passwordHash: hash }] },
      upstream: { url: csms.url, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 } },
      storage: { path: join(dir, 'data', 'site.sqlite') },
      web: { host: '127.0.0.1', port: 0, users: [{ username: USER, passwordHash: hashPasswordSync(USER_PASSWORD, { N: 1024, r: 8, p: 1 }) }] },
      site: { limitA: [32, 32, 32] },
      log: { level: 'info' },
    });
    cp02 = await connectStation(proc.stationsPort, 'CP02', { auth: `CP02:${PASSWORD}` });
    await csms.connected('CP02');
  }, 60_000);

  afterAll(async () => {
    cp02?.ws.terminate();
    await proc?.stop();
    await csms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refused handshakes leave the page, /metrics and the connected station untouched', async () => {
    for (let i = 0; i < 5; i++) expect(await attempt(proc.stationsPort, 'CP02')).toBe(401);
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => attempt(proc.stationsPort, `GHOST${i + j}`, `GHOST${i + j}:x`)));
    }
    expect(await attempt(proc.stationsPort, 'LC-SECURITY')).toBe(401);
    const login = await fetch(`${proc.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: USER, password: USER_PASSWORD }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const state = (await (await fetch(`${proc.url}/api/state`, { headers: { cookie } })).json()) as { stations: { id: string; connected: boolean }[] };
    expect(state.stations.map((s) => [s.id, s.connected])).toEqual([['CP01', false], ['CP02', true]]);
    const metrics = await (await fetch(`${proc.url}/metrics`)).text();
    expect(metrics).not.toContain('GHOST');
    expect(Number(/relay_auth_failures_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/relay_stations_connected 1\b/);
    expect(cp02.ws.readyState).toBe(WebSocket.OPEN);
    // No "station down" for CP02 was ever logged.
    await until(() => proc.output().includes('station refused'), 5000);
    expect(proc.output()).not.toMatch(/"stationId":"CP02"[^\n]*station disconnected|connection lost/);
  });

  it('creates the data folder 0700 and the SQLite file 0600', () => {
    expect((statSync(join(dir, 'data')).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(dir, 'data', 'site.sqlite')).mode & 0o777).toString(8)).toBe('600');
  });
});
