// Needs entered on the page, in headless Chromium against the real controller process (`node dist/src/main.js run`)
// with two OCPP 1.6 stations over real sockets — 1.6 cannot carry an EV's needs, so without the page both sessions
// share the fuse evenly. A facility manager enters what each car needs; the controller then gives the car that
// needs more sooner the larger share, and the stations receive it. Cleared, the share is even again.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from '../control/world.js';
import { startCsms16, WsStation16, type TestCsms16 } from '../control/world16.js';
import { startCliController, type CliController } from './cli-controller.js';
import { CHROMIUM_PATH, describeBrowser } from './chromium.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const USER = 'facility';
const PASSWORD = 'needs test password';
const FUSE = 20;

describeBrowser('needs entered on the page for 1.6 sessions (real controller process, Chromium)', () => {
  let dir: string;
  let csms: TestCsms16;
  let ctl: CliController;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const stations: WsStation16[] = [];
  const [urgent, patient] = ['URGENT16', 'PATIENT16'];
  const row = (id: string) => `#chargers-body tr[data-station="${id}"]`;
  const text = async (selector: string) => (await page.locator(selector).textContent()) ?? '';
  const applied = () => stations.map((s) => s.appliedA());
  /** A datetime-local value `h` hours ahead (the browser runs in UTC). */
  const ahead = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString().slice(0, 16);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'web-needs-'));
    csms = await startCsms16();
    ctl = await startCliController(dir, {
      controller: { identity: 'needs-controller' },
      stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, list: [{ id: urgent, maxA: 32 }, { id: patient, maxA: 32 }] },
      upstream: { url: csms.url },
      storage: { path: join(dir, 'site.sqlite') },
      web: { host: '127.0.0.1', port: 0, users: [{ username: USER, passwordEnv: 'SC_NEEDS_PASSWORD' }] },
      site: { limitA: [FUSE, FUSE, FUSE], voltage: 230 },
      control: { loopMs: 500, rampAPerS: 100, hysteresisA: 0.5 },
      log: { level: 'info' },
    }, { SC_NEEDS_PASSWORD: PASSWORD });
    for (const id of [urgent, patient]) {
      const s = new WsStation16(id, { reactionMs: 200, evMaxA: 32, meterEveryMs: 500 });
      stations.push(s);
      await s.connect(ctl.stationsPort);
      await s.startTransaction();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  }, 45_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of stations) s.close();
    await ctl?.stop();
    await csms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without needs the two 1.6 sessions share the fuse evenly', async () => {
    await until(() => applied().every((a) => Math.abs(a - FUSE / 2) <= 0.5), 30_000, `both at 10 A (now ${applied()})\n${ctl.output().slice(-1500)}`);
  });

  it('needs entered on the Chargers page: the car that needs more sooner gets the larger share, within the fuse', async () => {
    await page.goto(ctl.url);
    await page.fill('#login-username', USER);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.click('nav a[data-view="chargers"]');
    await page.locator(`${row(urgent)} .needs-button`).waitFor();

    await page.click(`${row(urgent)} .needs-button`);
    await page.fill('#needs-energy', '30');
    await page.fill('#needs-departure', ahead(1.5));
    await page.click('#needs-form button[type="submit"]');
    await expect.poll(() => text('#needs-note')).toContain('Saved: 30.0 kWh');
    await page.click(`${row(patient)} .needs-button`);
    await page.fill('#needs-energy', '5');
    await page.fill('#needs-departure', ahead(9));
    await page.click('#needs-form button[type="submit"]');
    await expect.poll(() => text('#needs-note')).toContain('Saved: 5.0 kWh');

    await expect.poll(() => text(`${row(urgent)} .session-needs`), { timeout: 10_000 }).toMatch(/^needs 30\.0 kWh by \d{1,2}:\d\d( [AP]M)? · [\d.]+ kWh to go \(entered by facility\)$/);
    await expect.poll(() => text(`${row(patient)} .session-needs`)).toContain('needs 5.0 kWh');
    expect(await text(`${row(urgent)} .needs-button`)).toBe('Change needs');
    await until(() => { const [u, p] = applied(); return u >= p + 4; }, 30_000, `the urgent car ahead (now ${applied()})`);
    for (let i = 0; i < 10; i++) {
      stations.forEach((s) => s.advance());
      expect(stations.reduce((a, s) => a + s.drawA, 0)).toBeLessThanOrEqual(FUSE + 0.01);
      await new Promise((r) => setTimeout(r, 200));
    }
    await page.screenshot({ path: join(SHOTS, 'controller-needs.png'), fullPage: true });
    // The overview's Charging now says it too.
    await page.click('nav a[data-view="overview"]');
    await expect.poll(() => text('#overview-sessions')).toContain('needs 30.0 kWh');
    expect(await text('#overview-sessions')).toContain('needs 5.0 kWh');
    await page.click('nav a[data-view="chargers"]');
    await page.locator(`${row(urgent)} .needs-button`).waitFor();
  });

  it('cleared, the urgent car is back to an even share', async () => {
    await page.click(`${row(urgent)} .needs-button`);
    await page.click('#needs-form button:has-text("Clear")');
    await expect.poll(() => text('#needs-note')).toContain('Cleared');
    await expect.poll(() => page.locator(`${row(urgent)} .session-needs`).count(), { timeout: 10_000 }).toBe(0);
    await until(() => applied().every((a) => Math.abs(a - FUSE / 2) <= 0.5), 30_000, `both at 10 A again (now ${applied()})`);
    expect(problems).toEqual([]);
  });
});
