// The demo as a new user starts it (the compiled bin, `site-controller demo` on config/demo.yaml with only its ports
// and data folder moved so parallel tests never collide), and `site-controller score` on a shipped scenario.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModbusConnection } from '../../drivers/modbus/client.js';
import { discoverSunSpec } from '../../drivers/sunspec/discovery.js';
import { loadSunSpecModel } from '../../drivers/sunspec/model.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'src', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'sim-demo-'));
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface State {
  stations: {
    id: string;
    protocol?: string;
    connected: boolean;
    clockOffsetS?: number | null;
    evses: { status?: string; transactionId?: string | null; measuredCurrentA?: number[] | null; appliedLimitA?: number | null; limitA?: number | null; controllable?: boolean }[];
  }[];
  site: { gridCurrentA: number[]; quality: string; batteryPowerW: number | null; batteryReserve?: { dischargeLimitW: number | null } };
  alarms?: { kind: string }[];
}

describe('demo', () => {
  it('starts as a new user would, stations charge, GET /api/state shows it, Ctrl-C stops cleanly with the data kept', async () => {
    const [stations, csms, modbus, board, ua, web] = await Promise.all(Array.from({ length: 6 }, freePort));
    const db = join(dir, 'demo.sqlite');
    const text = readFileSync(join(root, 'config', 'demo.yaml'), 'utf8')
      .replace('port: 9000', `port: ${stations}`)
      .replace('url: ws://127.0.0.1:9100', `url: ws://127.0.0.1:${csms}`)
      .replaceAll('port: 15020', `port: ${modbus}`)
      .replace('port: 15021', `port: ${board}`)
      .replace('endpoint: opc.tcp://127.0.0.1:4841', `endpoint: opc.tcp://127.0.0.1:${ua}`)
      .replace('port: 8080', `port: ${web}`)
      .replace('path: ../data/demo.sqlite', `path: ${db}`)
      .replace('scenario: scenarios/demo-site.yaml', `scenario: ${join(root, 'config', 'scenarios', 'demo-site.yaml')}`);
    const file = join(dir, 'demo.yaml');
    writeFileSync(file, text);

    child = spawn(process.execPath, [bin, 'demo', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number) => {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (child!.exitCode !== null) throw new Error(`demo exited (${child!.exitCode}) while waiting for ${what}:\n${out.slice(-3000)}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${out.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // It prints the page URL and the demo login.
    await until('the page URL and login', () => out.includes('login: demo / demo-demo'), 40_000);
    expect(out).toContain(`http://127.0.0.1:${web}`);
    // Not a terminal: JSON lines only, the banner included (log.format auto).
    for (const l of stdout.split('\n').filter(Boolean)) expect(() => JSON.parse(l) as unknown, l).not.toThrow();

    const base = `http://127.0.0.1:${web}`;
    expect((await fetch(`${base}/api/state`)).status).toBe(401);
    const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'demo-demo' }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    // The demo pushes in a PV forecast for the next 24 h, as a site's integrator would: the planner plans the kept
    // battery's refill with it (docs/control.md).
    const forecast = (await (await fetch(`${base}/api/forecast/pv`, { headers: { cookie } })).json()) as { points: { at: string; w: number }[]; setBy: string };
    expect(forecast.setBy).toBe('demo');
    expect(forecast.points.length).toBeGreaterThan(90);
    // 24 virtual hours at the demo's 10× speed: 2.4 h of real time.
    expect(Date.parse(forecast.points.at(-1)!.at)).toBeGreaterThan(Date.now() + 2 * 3_600_000);
    expect(Math.max(...forecast.points.map((p) => p.w))).toBeGreaterThan(10_000);
    // The battery is kept for the EVs (config/demo.yaml): held while the grid connection has room (as when the first
    // EVs come), and what the page says it may discharge is what its inverter was told, read back over Modbus as an
    // installer would (SunSpec model 124: StorCtl_Mod bit 1, OutWRte % of WChaMax).
    const conn = new ModbusConnection({ kind: 'tcp', host: '127.0.0.1', port: modbus }, 2000);
    await conn.connect();
    try {
      const read = (a: number, c: number) => conn.read(3, 'holding', a, c);
      const storage = (await discoverSunSpec(read)).models.find((m) => m.id === 124)!;
      const model = loadSunSpecModel(124)!;
      const point = async (name: string) => {
        const p = model.points.get(name)!;
        const [raw] = await read(storage.address + p.offset, 1);
        const sf = p.sf ? ((await read(storage.address + model.points.get(p.sf)!.offset, 1))[0] << 16) >> 16 : 0;
        return (p.type === 'int16' ? (raw << 16) >> 16 : raw) * 10 ** sf;
      };
      const inverterLimitW = async () => ((await point('StorCtl_Mod')) & 0b10 ? ((await point('OutWRte')) / 100) * (await point('WChaMax')) : null);
      let pageSays: number | null | undefined;
      let inverterHas: number | null = null;
      await until('the page and the inverter agreeing on the battery limit', async () => {
        const r = await fetch(`${base}/api/state`, { headers: { cookie } });
        pageSays = ((await r.json()) as State).site.batteryReserve?.dischargeLimitW;
        inverterHas = await inverterLimitW();
        if (typeof pageSays === 'number') return inverterHas !== null && Math.abs(inverterHas - pageSays) <= 200;
        // Released: the inverter's registers look like a battery nobody controls, so the controller's log must show
        // that it wrote a hold to it before (the first EVs come to a grid connection with room).
        return pageSays === null && inverterHas === null && /"dischargeLimitW":\d/.test(out);
      }, 60_000);
      console.log(`demo: battery limit on the page ${pageSays ?? 'released'}, in the inverter ${inverterHas ?? 'released'}`);
    } finally {
      await conn.close();
    }
    let state: State | undefined;
    const charging = () => (state?.stations ?? []).filter((s) => s.connected && s.evses.some((e) => e.transactionId && (e.measuredCurrentA ?? []).some((a) => a > 0)));
    await until('stations charging', async () => {
      const r = await fetch(`${base}/api/state`, { headers: { cookie } });
      state = (await r.json()) as State;
      return charging().length >= 3;
    }, 40_000);
    expect(state!.stations.length).toBeGreaterThanOrEqual(8);
    expect(state!.stations.every((s) => s.connected)).toBe(true);
    // A mixed fleet on one station port: CP03, CP06 and CP08 speak OCPP 1.6J (config/demo.yaml), the page shows each protocol.
    expect(Object.fromEntries(state!.stations.map((s) => [s.id, s.protocol]))).toMatchObject({
      CP01: 'ocpp2.0.1', CP02: 'ocpp2.0.1', CP03: 'ocpp1.6', CP04: 'ocpp2.0.1', CP05: 'ocpp2.0.1', CP06: 'ocpp1.6', CP07: 'ocpp2.0.1', CP08: 'ocpp1.6',
    });
    // A 1.6 station's session reaches the page with the CSMS's integer transaction id and its measured current.
    await until('a 1.6 station charging', async () => {
      const r = await fetch(`${base}/api/state`, { headers: { cookie } });
      state = (await r.json()) as State;
      const cp03 = state.stations.find((s) => s.id === 'CP03');
      return !!cp03?.evses.some((e) => /^\d+$/.test(e.transactionId ?? '') && (e.measuredCurrentA ?? []).some((a) => a > 0));
    }, 60_000);
    expect(state!.site.quality).toBe('good');
    expect(Math.max(...state!.site.gridCurrentA)).toBeGreaterThan(0);

    // The controller really controls: EVs allocated more than the 6 A default draw what the station accepted (the
    // world runs 10x faster than the controller's clock; the stations' profiles must still be in force).
    type Evse = State['stations'][number]['evses'][number] & { stationId: string };
    const followers = () =>
      (state?.stations ?? []).flatMap((s) => s.evses.map((e): Evse => ({ ...e, stationId: s.id }))).filter((e) => {
        const drawn = Math.max(0, ...(e.measuredCurrentA ?? []).filter((a) => a > 0.5));
        return e.controllable && e.transactionId && e.appliedLimitA != null && e.appliedLimitA > 7 && drawn > 6.5 && Math.abs(drawn - e.appliedLimitA) <= 0.6;
      });
    await until('controlled EVs drawing their applied limit above 6 A', async () => {
      const r = await fetch(`${base}/api/state`, { headers: { cookie } });
      state = (await r.json()) as State;
      return followers().length >= 3;
    }, 60_000);
    // And none keeps drawing above what it was given while a user watches. A sample taken before a decrease reached
    // the station lags the limit by a reaction time and a meter interval (about 1.5 s here), so a draw is judged
    // against the highest limit the page showed in the last 2.5 s: an EV that follows a staircase of cuts one step
    // behind (seen under CI load: limits 12 → 9.3 → 6 A a second apart, draws 14 → 12 → 9.3 A) is following, not
    // lagging. Only a draw above that in several polls in a row counts, and only beyond the control hysteresis (1 A).
    const LAG_MS = 2_500;
    const shown = new Map<string, { at: number; cap: number }[]>();
    const over = new Map<string, number>();
    let worst: string | undefined;
    let followedPolls = 0;
    // Nor does the loop cut every EV to nothing when the grid goes an ampere over its fuse: it cuts what is over (it had
    // paused all of them every 15 s while the battery's and the PV's export was credited).
    const allPaused: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`${base}/api/state`, { headers: { cookie } });
      state = (await r.json()) as State;
      if (followers().length >= 1) followedPolls += 1;
      const running = state.stations.flatMap((s) => s.evses).filter((e) => e.controllable && e.transactionId && e.limitA != null);
      if (running.length >= 3 && running.every((e) => e.limitA === 0)) allPaused.push(`poll ${i}: grid ${state.site.gridCurrentA.map((a) => a.toFixed(1)).join('/')} A`);
      for (const s of state.stations) {
        for (const e of s.evses) {
          const key = `${s.id}/${e.transactionId ?? ''}`;
          if (!e.controllable || !e.transactionId || e.appliedLimitA == null || !e.measuredCurrentA) continue;
          // CP08 ignores profiles (config/scenarios/demo-site.yaml): since 1.6 stations are controlled it is judged
          // like any station, after its reaction time (15 s), and counted as a fixed load from then; until then it
          // draws above its limit by design of the world.
          if (s.id === 'CP08') continue;
          const at = Date.now();
          const recent = [...(shown.get(key) ?? []).filter((x) => x.at >= at - LAG_MS), { at, cap: Math.max(e.appliedLimitA, e.limitA ?? 0, 6) }];
          shown.set(key, recent);
          const cap = Math.max(...recent.map((x) => x.cap));
          const drawn = Math.max(...e.measuredCurrentA);
          const n = drawn > cap + 1 ? (over.get(key) ?? 0) + 1 : 0;
          over.set(key, n);
          if (n >= 6) worst = `${s.id} draws ${drawn} A above its ${cap} A limit (the highest of the last ${LAG_MS / 1000} s) in ${n} polls`;
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(worst).toBeUndefined();
    expect(allPaused).toEqual([]);
    // The stations' clocks keep real time (the world runs faster, their clocks do not): measured within a few seconds.
    for (const s of state!.stations) if (s.clockOffsetS != null) expect(Math.abs(s.clockOffsetS), `${s.id} clock`).toBeLessThan(5);
    // EVs keep following their limits while watched (a sample may fall between a limit change and the EV's reaction,
    // and an EV that tapers or reaches its own maximum draws less than it was given: the last poll alone proves little).
    console.log(`demo: ${followedPolls} of 40 polls showed an EV following its limit`);
    expect(followedPolls).toBeGreaterThanOrEqual(1);


    // Ctrl-C: a clean stop, exit code 0, the SQLite file kept.
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(db)).toBe(true);
  }, 150_000);

  it('score prints the table, or with --json one JSON line last; a bad scenario is one line, exit 1', () => {
    const ok = spawnSync(process.execPath, [bin, 'score', join(root, 'config', 'scenarios', 'ignoring-station.yaml'), '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(ok.status).toBe(0);
    const last = ok.stdout.trim().split('\n').pop()!;
    const score = JSON.parse(last) as Record<string, unknown> & { baselines: Record<string, Record<string, unknown>> };
    for (const k of ['name', 'overload_s', 'worst_overload_a', 'energy_wh', 'energy_allowed_wh', 'energy_optimal_wh', 'utilization', 'jain', 'jain_optimal', 'unmet_energy_wh']) expect(score).toHaveProperty(k);
    expect(Object.keys(score.baselines).sort()).toEqual(['fcfs', 'static']);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\nduration: 1h\nsite: { limitA: [1, 2] }\nchargers: [{ id: A }]\nevs: [{ charger: B, arrive: "7h", depart: "08:00", energyWh: 1 }]\n');
    const r = spawnSync(process.execPath, [bin, 'score', bad], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('site.limitA');
    expect(r.stderr).toContain('evs[0].arrive');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);
});
