// The page in headless Chromium against the REAL controller process: the compiled CLI (`node dist/src/main.js run
// --config site.yaml`) with a test CSMS, three test stations (real WebSocket clients speaking OCPP, applying the
// TxProfiles they receive and reporting MeterValues), the simulated SunSpec grid meter, PV inverter and battery on
// Modbus TCP, and a web user whose password comes from the environment. A second controller with no meters and no
// stations checks the empty states. Screenshots go to test-artifacts/screenshots/controller-*.png.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseVector } from '../../algorithms/types.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { startCsms, TestStation, until, type TestCsms } from '../control/world.js';
import { startCliController, type CliController } from './cli-controller.js';
import { CHROMIUM_PATH, describeBrowser } from './chromium.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const USER = 'facility';
const PASSWORD = 'e2e secret password';
const FUSE = 80;

const txLimitOf = (payload: Record<string, unknown>) => (payload.chargingProfile as { chargingSchedule: { chargingSchedulePeriod: { limit: number }[] }[] }).chargingSchedule[0].chargingSchedulePeriod[0].limit;
const txLimits = (s: TestStation) => s.received
  .map((r) => r.payload.chargingProfile as { chargingProfilePurpose: string; chargingSchedule: { chargingSchedulePeriod: { limit: number }[] }[] })
  .filter((p) => p.chargingProfilePurpose === 'TxProfile')
  .map((p) => p.chargingSchedule[0].chargingSchedulePeriod[0].limit);

describeBrowser('the page against the real controller process', () => {
  let dir: string;
  let csms: TestCsms;
  let modbus: SimModbusSite;
  let site: CliController;
  let empty: CliController;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let physics: NodeJS.Timeout | undefined;
  const stations: TestStation[] = [];
  /** Base load per phase besides the stations (A); the grid meter reads base + what the stations draw. */
  let baseA: PhaseVector = [6, 9, 4];
  const problems: string[] = [];
  /** A refusal a step provokes on purpose (wrong password → 401): Chromium logs it as a resource error. */
  let expected: { status: number; path: string } | null = null;

  const watch = (p: Page, name: string) => {
    p.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error') return;
      if (expected && m.text().includes(`status of ${expected.status}`) && m.location().url.endsWith(expected.path)) return;
      problems.push(`${name} console: ${m.text()} @ ${m.location().url}`);
    });
    p.on('pageerror', (e) => problems.push(`${name} pageerror: ${e.message}`));
    p.on('requestfailed', (r) => { if (!r.url().endsWith('/api/live')) problems.push(`${name} request failed: ${r.url()}`); });
  };
  const shot = (p: Page, name: string, fullPage = true) => p.screenshot({ path: join(SHOTS, `controller-${name}.png`), fullPage });
  const text = async (p: Page, selector: string) => (await p.locator(selector).textContent()) ?? '';
  const amps = async (p: Page, selector: string) => Number.parseFloat(await text(p, selector));
  const go = async (p: Page, view: string) => {
    await p.click(`nav a[data-view="${view}"]`);
    await p.waitForURL(`**/#/${view}`);
  };
  const login = async (p: Page, url: string) => {
    await p.goto(url);
    await p.fill('#login-username', USER);
    await p.fill('#login-password', PASSWORD);
    await p.click('#login-submit');
    await p.locator('#grid-L1').waitFor();
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'web-browser-e2e-'));
    mkdirSync(join(dir, 'site'));
    mkdirSync(join(dir, 'empty'));
    csms = await startCsms();
    modbus = new SimModbusSite(undefined, { host: '127.0.0.1', port: 0 });
    const modbusPort = await modbus.start();
    modbus.model.setPv({ powerW: 5200 });
    modbus.model.setBattery({ socPct: 64, powerW: -1500 });
    const physicsTick = () => {
      const draw = stations.reduce((a, s) => a + s.drawA, 0);
      modbus.model.setGrid({ currentsA: baseA.map((b) => b + draw) as PhaseVector });
    };
    physicsTick();
    physics = setInterval(physicsTick, 20);

    const meter = (id: string, role: string, unitId: number) => ({ id, role, driver: 'modbus-tcp', host: '127.0.0.1', port: modbusPort, unitId, map: 'sunspec', pollMs: 200, staleMs: 3000, timeoutMs: 500 });
    const env = { SC_E2E_PASSWORD: PASSWORD };
    const web = { host: '127.0.0.1', port: 0, users: [{ username: USER, passwordEnv: 'SC_E2E_PASSWORD' }] };
    [site, empty] = await Promise.all([
      startCliController(join(dir, 'site'), {
        controller: { identity: 'e2e-controller' },
        stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, list: [{ id: 'CP01', maxA: 32 }, { id: 'CP02', maxA: 32 }, { id: 'CP03', maxA: 16 }] },
        upstream: { url: csms.url, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 } },
        storage: { path: join(dir, 'site', 'site.sqlite') },
        web,
        site: { limitA: [FUSE, FUSE, FUSE], voltage: 230 },
        meters: [meter('grid-meter', 'grid', 1), meter('pv-inverter', 'pv', 2), meter('home-battery', 'battery', 3)],
        control: { loopMs: 500, rampAPerS: 100, hysteresisA: 0.5, profileValidityS: 30 },
        log: { level: 'info' },
      }, env),
      // A controller just installed: no meters, no stations yet, and its CSMS not reachable.
      startCliController(join(dir, 'empty'), {
        controller: { identity: 'new-controller' },
        stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, list: [] },
        upstream: { url: 'ws://127.0.0.1:9/ocpp', retry: { waitMinimumS: 1, randomRangeS: 1, repeatTimes: 2 } },
        storage: { path: join(dir, 'empty', 'site.sqlite') },
        web,
        site: { limitA: [40, 40, 40] },
        log: { level: 'info' },
      }, env),
    ]);
    for (const id of ['CP01', 'CP02', 'CP03']) {
      const s = new TestStation(id, { lagMs: 100, meterEveryMs: 250, evMaxA: id === 'CP03' ? 16 : 32 });
      await s.connect(site.stationsPort);
      stations.push(s);
    }
    // A car plugs in and starts: the connector goes Occupied, then the transaction starts.
    for (const [i, tx] of [[0, 'TX-A'], [1, 'TX-B']] as const) {
      await stations[i].peer.call('StatusNotification', { timestamp: new Date().toISOString(), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
      await stations[i].startTransaction(tx);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    watch(page, 'site');
  }, 45_000);

  afterAll(async () => {
    if (physics) clearInterval(physics);
    await browser?.close();
    for (const s of stations) s.close();
    await Promise.all([site?.stop(), empty?.stop()]);
    await modbus?.close();
    await csms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('login fails with a wrong password and succeeds with the right one (user from passwordEnv)', async () => {
    await page.goto(site.url);
    await page.locator('#login-username').waitFor();
    expected = { status: 401, path: '/api/login' };
    await page.fill('#login-username', USER);
    await page.fill('#login-password', 'wrong password');
    await page.press('#login-password', 'Enter');
    await expect.poll(() => text(page, '#login-error')).toContain('Wrong username or password');
    expect(await page.locator('#topbar').isHidden()).toBe(true);
    await shot(page, 'login-failed', false);
    expected = null;
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#grid-L1').waitFor();
    expect(await text(page, '#username')).toBe(USER);
  });

  it('the overview shows the metered grid live, and follows the simulated meter when it changes', async () => {
    // Both sessions at their 32 A maximum under the 80 A fuse: the grid meter reads base + 64 A.
    await until(() => stations[0].lastTxLimit() === 32 && stations[1].lastTxLimit() === 32, 20_000, 'both sessions at 32 A');
    await expect.poll(() => text(page, '#grid-L1'), { timeout: 15_000 }).toBe('70.0 A');
    expect(await text(page, '#grid-L2')).toBe('73.0 A');
    expect(await text(page, '#grid-L3')).toBe('68.0 A');
    expect(await text(page, '#grid-quality')).toBe('Live');
    expect(await text(page, '#limit-source')).toBe('Main fuse');
    expect(await text(page, '#pv-power')).toBe('5.2 kW');
    expect(await text(page, '#battery')).toBe('64 %');
    await expect.poll(() => text(page, '#charging-power'), { timeout: 10_000 }).toBe('44.2 kW'); // 2 × 3 × 32 A × 230 V
    await shot(page, 'overview');

    // The site's other loads drop: the meter reads less on every phase, and the page shows it without a reload.
    baseA = [2.5, 5, 3];
    await expect.poll(() => text(page, '#grid-L1'), { timeout: 10_000 }).toBe('66.5 A');
    await expect.poll(() => text(page, '#grid-L2')).toBe('69.0 A');
    await expect.poll(() => text(page, '#grid-L3')).toBe('67.0 A');
    await shot(page, 'overview-meter-changed');
  });

  it('a charger row for every station, with its session and allocation', async () => {
    await go(page, 'chargers');
    await page.locator('#chargers-body tr').first().waitFor();
    for (const id of ['CP01', 'CP02', 'CP03']) expect(await page.locator(`#chargers-body tr[data-station="${id}"]`).count(), id).toBe(1);
    await expect.poll(() => text(page, '#chargers-body tr[data-station="CP01"]'), { timeout: 10_000 }).toContain('TX-A');
    expect(await text(page, '#chargers-body tr[data-station="CP02"]')).toContain('TX-B');
    expect(await text(page, '#chargers-body tr[data-station="CP01"]')).toContain('32.0 A');
    expect(await text(page, '#chargers-body tr[data-station="CP03"]')).toContain('Available');
    await shot(page, 'chargers');
  });

  it('a lower site limit set on the page lowers the TxProfiles the stations receive; clearing it gives them back', async () => {
    const before = stations.map((s) => s.received.length);
    await go(page, 'settings');
    await page.locator('#site-limit-L1').waitFor();
    for (const i of [1, 2, 3]) await page.fill(`#site-limit-L${i}`, '40');
    await page.click('#site-limit-save');
    await expect.poll(() => text(page, '#settings-status')).toBe('Site limit saved.');
    // 40 A for the site with up to 5 A of other load: about 17.5 A for each session, never more than 20 A.
    const settled = () => [0, 1].every((i) => { const l = stations[i].lastTxLimit() ?? 99; return l >= 6 && l <= 20; });
    await until(settled, 15_000, 'both sessions limited under the page limit');
    if (process.env.E2E_DEBUG) for (const st of stations) console.log(st.id, JSON.stringify(st.received.map((r) => [r.at % 100000, (r.payload.chargingProfile as { chargingProfilePurpose: string }).chargingProfilePurpose, txLimitOf(r.payload)])));
    for (const i of [0, 1]) {
      const newOnes = txLimits(stations[i]).slice(txLimits(stations[i]).length - (stations[i].received.length - before[i]));
      expect(newOnes.length, stations[i].id).toBeGreaterThan(0);
      expect(Math.min(...newOnes), stations[i].id).toBeLessThan(32);
      expect(stations[i].lastTxLimit(), stations[i].id).toBeGreaterThanOrEqual(6);
    }
    expect(stations[0].lastTxLimit()! + stations[1].lastTxLimit()! + 5).toBeLessThanOrEqual(40.5);
    await expect.poll(() => text(page, '#audit-body')).toContain('Site limit');
    await shot(page, 'settings');

    await go(page, 'overview');
    await expect.poll(() => text(page, '#limit-source'), { timeout: 10_000 }).toBe('Set on this page');
    // Once the stations follow, the grid is under the new limit on every phase.
    await expect.poll(() => amps(page, '#grid-L2'), { timeout: 15_000 }).toBeLessThanOrEqual(40.5);
    expect(await text(page, '#limit-L1')).toContain('fuse 80 A');
    await shot(page, 'overview-page-limit');
    await go(page, 'chargers');
    await expect.poll(() => text(page, '#chargers-body tr[data-station="CP01"]'), { timeout: 10_000 }).toMatch(/1\d\.\d A/);
    await shot(page, 'chargers-page-limit');

    if (process.env.E2E_DEBUG) for (const st of stations) console.log(st.id, JSON.stringify(st.received.map((r) => [r.at % 100000, (r.payload.chargingProfile as { chargingProfilePurpose: string }).chargingProfilePurpose, txLimitOf(r.payload)])));
    await go(page, 'settings');
    await page.click('#site-limit-clear');
    await until(() => stations[0].lastTxLimit() === 32 && stations[1].lastTxLimit() === 32, 15_000, 'both sessions back at 32 A');
    await go(page, 'overview');
    await expect.poll(() => text(page, '#limit-source'), { timeout: 10_000 }).toBe('Main fuse');
  });

  it('the sessions view lists both sessions from the stations\' TransactionEvents', async () => {
    await go(page, 'sessions');
    await expect.poll(() => text(page, '#sessions-body'), { timeout: 10_000 }).toContain('TX-B');
    expect(await text(page, '#sessions-body')).toContain('TX-A');
    expect(await page.locator('#sessions-body .badge', { hasText: 'charging' }).count()).toBe(2);
    await shot(page, 'sessions');
  });

  it('a grid meter that stops answering: last values greyed, an alarm, the safe limit; all clear when it is back', async () => {
    await go(page, 'overview');
    await expect.poll(() => text(page, '#grid-quality'), { timeout: 10_000 }).toBe('Live');
    const before = await text(page, '#grid-L1');
    await modbus.stop();
    await expect.poll(() => text(page, '#grid-quality'), { timeout: 15_000 }).toMatch(/No answer|Meter fault/);
    await expect.poll(() => text(page, '#alarms'), { timeout: 10_000 }).toMatch(/Grid meter "grid-meter" (cannot be reached|is not answering)/);
    expect(await page.locator('.phase.stale').count()).toBe(3);
    // The last good value stays on screen (greyed), never a zero.
    expect(Number.parseFloat(await text(page, '#grid-L1'))).toBeGreaterThan(0);
    expect(await text(page, '#grid-note')).toMatch(/Last good reading at/);
    await expect.poll(() => text(page, '#alarms'), { timeout: 10_000 }).toMatch(/The site charges on its safe limit \(6 A per phase\)/);
    await shot(page, 'overview-meter-stale');
    await modbus.start();
    await expect.poll(() => text(page, '#grid-quality'), { timeout: 15_000 }).toBe('Live');
    await expect.poll(() => page.locator('.phase.stale').count()).toBe(0);
    await expect.poll(() => text(page, '#alarms'), { timeout: 10_000 }).not.toMatch(/grid-meter/);
    expect(before).not.toBe('');
  });

  it('the history charts render with what the controller recorded', async () => {
    // The controller samples the site every 10 s; two samples make a line.
    await go(page, 'history');
    await expect.poll(async () => {
      await page.click('#history-refresh');
      return Number.parseInt(await text(page, '#history-note'), 10) || 0;
    }, { timeout: 25_000, interval: 1000 }).toBeGreaterThanOrEqual(2);
    const inked = await page.locator('#chart-grid canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    expect(await text(page, '#chart-stations .u-legend')).toContain('CP01');
    await shot(page, 'history');
  });

  it('reads on a tablet', async () => {
    await page.setViewportSize({ width: 820, height: 1180 });
    await go(page, 'overview');
    await shot(page, 'overview-tablet');
    await go(page, 'chargers');
    await shot(page, 'chargers-tablet');
    // Nothing wider than the screen except inside the scrollable tables.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('a controller with no meters and no stations: empty states, no errors; settings work from the keyboard alone', async () => {
    const p = await context.newPage();
    watch(p, 'empty');
    await login(p, empty.url);
    await expect.poll(() => text(p, '#grid-quality')).toBe('No meter');
    await expect.poll(() => text(p, '#alarms'), { timeout: 15_000 }).toMatch(/CSMS/);
    await shot(p, 'empty-overview');
    await go(p, 'chargers');
    await expect.poll(() => text(p, '#chargers-body')).toMatch(/No stations/);
    await shot(p, 'empty-chargers');
    await go(p, 'sessions');
    await expect.poll(() => text(p, '#sessions-body')).toMatch(/No charging sessions/);
    await go(p, 'history');
    await expect.poll(() => text(p, '#history-note')).toMatch(/No data|points/);
    await shot(p, 'empty-history');

    // The API answers every read with a well-formed empty answer.
    const api = async (path: string) => p.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, body: await r.json() as Record<string, unknown> }; }, path);
    const state = await api('/api/state');
    expect(state.status).toBe(200);
    expect(state.body.stations).toEqual([]);
    expect((state.body.site as { quality: string }).quality).toBe('none');
    for (const path of ['/api/settings', '/api/sessions', '/api/history?range=day', '/api/audit']) expect((await api(path)).status, path).toBe(200);

    // Keyboard only: Settings from the nav, Tab to the site limit, type, Enter applies it.
    await go(p, 'overview');
    await p.locator('nav a[data-view="settings"]').focus();
    await p.keyboard.press('Enter');
    await p.locator('#site-limit-L1').waitFor();
    let guard = 0;
    while (await p.evaluate(() => document.activeElement?.id) !== 'site-limit-L1' && guard++ < 30) await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('site-limit-L1');
    for (const v of ['25', '25', '25']) {
      await p.keyboard.press('ControlOrMeta+a');
      await p.keyboard.type(v);
      await p.keyboard.press('Tab');
    }
    await p.keyboard.press('Enter');
    await expect.poll(() => text(p, '#settings-status')).toBe('Site limit saved.');
    // Focus is not lost after the change re-renders the form.
    expect(await p.evaluate(() => document.activeElement?.tagName)).not.toBe('BODY');
    await expect.poll(() => text(p, '#audit-body')).toContain('25 / 25 / 25 A');
    await p.keyboard.press('Shift+Tab');
    await shot(p, 'empty-settings-keyboard');
    await p.close();
  });

  it('no console errors anywhere, the controllers logged no errors, and Ctrl-C stops both cleanly', async () => {
    expect(problems).toEqual([]);
    expect(site.problems().filter((l) => l.level >= 50)).toEqual([]);
    expect(empty.problems().filter((l) => l.level >= 50)).toEqual([]);
    expect(await Promise.all([site.stop(), empty.stop()])).toEqual([0, 0]);
  });
});
