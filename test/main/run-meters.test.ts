// `site-controller run` with only meters configured (no station connected yet, CSMS not reachable): the meters' live
// readings show in the logs and in GET /api/state, and follow a change on the (simulated) device.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimDevices, type SimDevices } from '../../src/sim/devices/index.js';

const bin = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'run-meters-'));
let child: ChildProcess | undefined;
let devices: SimDevices | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await devices?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, log: () => string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`controller exited while waiting for ${what}:\n${log().slice(-2000)}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('site-controller run with only meters', () => {
  it('shows live meter readings in the logs and in /api/state', async () => {
    devices = await startSimDevices({ dataDir: dir });
    devices.model.setGrid({ currentsA: [12.5, 7, 3.2], voltagesV: [230, 230, 230] });
    const config = join(dir, 'site.yaml');
    writeFileSync(
      config,
      [
        'stations: { listen: { host: 127.0.0.1, port: 0 } }',
        'upstream: { url: "ws://127.0.0.1:1/ocpp" }', // nothing listens there: the CSMS is unreachable
        'site: { limitA: [40, 40, 40] }',
        `storage: { path: ${join(dir, 'site.sqlite')} }`,
        'web: { host: 127.0.0.1, port: 0, users: [{ username: fm, passwordEnv: SC_TEST_PASSWORD }] }',
        'meters:',
        `  - { id: grid, role: grid, driver: modbus-tcp, host: 127.0.0.1, port: ${devices.modbus.port}, unitId: 1, map: sunspec, pollMs: 200, staleMs: 2000 }`,
        'log: { level: info }',
      ].join('\n'),
    );
    child = spawn(process.execPath, [bin, 'run', '--config', config], {
      env: { ...process.env, SC_TEST_PASSWORD: 'a-long-test-password' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

    const reading = await until('a meter reading in the log', () => lines().find((l) => l.msg === 'meter reading' && l.meter === 'grid'), () => out);
    expect((reading.values as { phaseCurrentsA: number[] }).phaseCurrentsA).toEqual([12.5, 7, 3.2]);

    const url = await until('the page URL', () => lines().find((l) => typeof l.url === 'string' && String(l.msg).startsWith('facility manager page'))?.url as string | undefined, () => out);
    const login = await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'fm', password: 'a-long-test-password' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const state = async () => (await (await fetch(`${url}/api/state`, { headers: { cookie } })).json()) as { site: { gridCurrentA: number[]; quality: string; limitA: number[] } };
    const first = await until('good grid values in /api/state', async () => {
      const s = await state();
      return s.site.quality === 'good' && s.site.gridCurrentA[0] === 12.5 ? s : undefined;
    }, () => out);
    expect(first.site.gridCurrentA).toEqual([12.5, 7, 3.2]);
    expect(first.site.limitA).toEqual([40, 40, 40]);

    devices.model.setGrid({ currentsA: [20, 21, 22] });
    const changed = await until('the changed grid current', async () => {
      const s = await state();
      return s.site.gridCurrentA[2] === 22 ? s : undefined;
    }, () => out);
    expect(changed.site.gridCurrentA).toEqual([20, 21, 22]);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
