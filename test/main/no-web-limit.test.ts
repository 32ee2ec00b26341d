// `site-controller run` with web.enabled: false: a site limit saved on the page earlier still binds — the station's
// TxProfile stays under it. (It was wired inside the web server, so a run without the page charged at the fuse.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { openDatabase } from '../../src/store/db.js';
import { createSettingsStore } from '../../src/store/settings.js';
import { TestStation } from '../control/world.js';

const bin = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'no-web-limit-'));
let child: ChildProcess | undefined;
let station: TestStation | undefined;

afterAll(() => {
  station?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => T | undefined, log: () => string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`controller exited while waiting for ${what}:\n${log().slice(-2000)}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('site-controller run without the page', () => {
  it('applies the site limit saved on the page', async () => {
    const storage = join(dir, 'site.sqlite');
    const lines = [
      'stations: { listen: { host: 127.0.0.1, port: 0 }, list: [{ id: CP01 }] }',
      'upstream: { url: "ws://127.0.0.1:1/ocpp" }', // nothing listens there: the CSMS is unreachable
      'site: { limitA: [40, 40, 40] }',
      `storage: { path: ${storage} }`,
      'web: { enabled: false }',
      'log: { level: info }',
    ];
    const file = join(dir, 'site.yaml');
    writeFileSync(file, lines.join('\n'));
    // Saved on the page in an earlier run.
    const db = openDatabase(storage);
    createSettingsStore(db, parseConfig({ stations: { listen: { host: '127.0.0.1', port: 0 }, list: [{ id: 'CP01' }] }, upstream: { url: 'ws://127.0.0.1:1/ocpp' }, site: { limitA: [40, 40, 40] }, storage: { path: storage } })).setSiteLimit([12, 12, 12]);
    db.close();

    child = spawn(process.execPath, [bin, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const port = await until('the station port in the log', () => {
      const m = /stations connect to ws:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      return m ? Number(m[1]) : undefined;
    }, () => out);

    station = new TestStation('CP01', { lagMs: 50 });
    await station.connect(port);
    await station.startTransaction('TX-1');
    // The loop ramps a new session up from its default limit; the EV could take 32 A and the fuse is 40 A, so without
    // the page's 12 A the limit climbs past 12 A. It reaches what the page allows and stays there.
    const txLimits = () => station!.received
      .filter((r) => (r.payload.chargingProfile as { chargingProfilePurpose: string }).chargingProfilePurpose === 'TxProfile')
      .map((r) => (r.payload.chargingProfile as { chargingSchedule: Array<{ chargingSchedulePeriod: Array<{ limit: number }> }> }).chargingSchedule[0].chargingSchedulePeriod[0].limit);
    await until('the session limit at what the page allows', () => (txLimits().some((l) => l >= 11) ? true : undefined), () => `${out}
limits: ${txLimits().join(', ')}`);
    // A few more loop periods: nothing above the page's limit.
    await new Promise((r) => setTimeout(r, 3000));
    expect(Math.max(...txLimits())).toBeLessThanOrEqual(12);
  }, 90_000); // a real CLI start under a loaded suite: room for `until`'s own 30 s waits to report what they saw
});
