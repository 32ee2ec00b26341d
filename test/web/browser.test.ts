// The page in headless Chromium against the real web server fed by test streams: login, live overview, chargers,
// journal, settings (site limit → setExternalLimit → allocations), sessions, history chart; no console errors.
// Screenshots go to test-artifacts/screenshots/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startHarness, STATIONS, USER, type Harness } from './harness.js';
import { CHROMIUM_PATH, describeBrowser } from './chromium.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describeBrowser('the page in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  /** A refusal a step provokes on purpose (wrong password 401, limit above the fuse 400): Chromium logs it as a
   * resource error, which is expected there and nowhere else. */
  let expected: { status: number; path: string } | null = null;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await startHarness();
    // Some history to chart: the last 20 minutes, one sample every 30 s.
    const now = Date.now();
    for (let i = 40; i > 0; i--) {
      const t = now - i * 30_000;
      const wave = Math.sin(i / 5) * 8;
      h.server.history.write({
        at: t, gridCurrentA: [40 + wave, 36 + wave, 44 - wave], limitA: [63, 63, 63], gridPowerW: 27000 + wave * 600,
        pvPowerW: 7000 + i * 40, batteryPowerW: -2000, batterySoc: 60 + i / 10, chargingPowerW: 22000, stations: { CP01: 11000, CP02: 11000 + wave * 200 },
      });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error') return;
      if (expected && m.text().includes(`status of ${expected.status}`) && m.location().url.endsWith(expected.path)) return;
      problems.push(`console: ${m.text()} @ ${m.location().url}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => { if (!r.url().endsWith('/api/live')) problems.push(`request failed: ${r.url()}`); });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('login fails with a wrong password and succeeds with the right one', async () => {
    await page.goto(h.url);
    await page.locator('#login-username').waitFor();
    await page.screenshot({ path: join(SHOTS, 'login.png') });
    expected = { status: 401, path: '/api/login' };
    await page.fill('#login-username', USER);
    await page.fill('#login-password', 'not the password');
    await page.press('#login-password', 'Enter');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('Wrong username or password');
    await page.screenshot({ path: join(SHOTS, 'login-failed.png') });
    expected = null;
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#grid-L1').waitFor();
    expect(await page.locator('#username').textContent()).toBe(USER);
  });

  it('the overview shows live values that change when the meter changes', async () => {
    await expect.poll(() => page.locator('#grid-L1').textContent()).toBe('40.0 A');
    expect(await page.locator('#pv-power').textContent()).toBe('7.4 kW');
    // A PV forecast pushed in (PUT /api/forecast/pv) shows on the Solar tile while it reaches ahead.
    const pvSub = () => page.locator('#pv-power + .tile-sub').textContent();
    expect(await pvSub()).toBe('producing');
    const to = Date.now() + 3 * 3_600_000;
    h.server.pvForecast.set({ points: [{ at: Date.now() - 60_000, w: 7_000 }, { at: to, w: 2_000 }], setBy: 'integrator', setAt: Date.now() });
    await expect.poll(pvSub).toMatch(/^producing · forecast to \d/);
    h.server.pvForecast.clear();
    await expect.poll(pvSub).toBe('producing');
    expect(await page.locator('#battery').textContent()).toBe('64 %');
    // A battery kept for the EVs: the discharge limit the controller set, under its power.
    const batterySub = () => page.locator('#battery + .tile-sub').textContent();
    expect(await batterySub()).toBe('2.5 kW charging');
    h.control.next({ ...h.control.value, at: Date.now(), battery: { dischargeLimitW: 3200 } });
    await expect.poll(batterySub).toBe('2.5 kW charging · kept for EVs: up to 3.2 kW');
    // Refilled from PV: told to charge at least 2.5 kW (a negative discharge limit).
    h.control.next({ ...h.control.value, at: Date.now(), battery: { dischargeLimitW: -2500 } });
    await expect.poll(batterySub).toBe('2.5 kW charging · kept for EVs: refilled from PV, at least 2.5 kW');
    h.control.next({ ...h.control.value, at: Date.now(), battery: {} });
    await expect.poll(batterySub).toBe('2.5 kW charging · kept for EVs: released');
    expect(await page.locator('#limit-source').textContent()).toBe('Main fuse');
    h.grid([55.5, 21, 30.2], 24500);
    await expect.poll(() => page.locator('#grid-L1').textContent()).toBe('55.5 A');
    expect(await page.locator('#grid-L3').textContent()).toBe('30.2 A');
    expect(await page.locator('#grid-power').textContent()).toBe('24.5 kW');
    const alarms = await page.locator('#alarms').textContent();
    expect(alarms).toMatch(/CP02 EVSE 1 is not controllable/);
    expect(alarms).toMatch(/CSMS unreachable for CP02: 3 messages queued/);
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
    // The meter goes stale: the last values stay, greyed, and an alarm says so; a good reading clears both.
    h.readings.next({ deviceId: 'grid', at: Date.now(), quality: 'stale', reason: 'no answer for 5 s', values: {} });
    await expect.poll(() => page.locator('#alarms').textContent()).toMatch(/Grid meter "grid" is not answering: no answer for 5 s/);
    expect(await page.locator('#grid-quality').textContent()).toBe('No answer');
    expect(await page.locator('.phase.stale').count()).toBe(3);
    expect(await page.locator('#grid-L1').textContent()).toBe('55.5 A');
    await page.screenshot({ path: join(SHOTS, 'overview-meter-stale.png') });
    h.grid([55.5, 21, 30.2], 24500);
    await expect.poll(() => page.locator('.phase.stale').count()).toBe(0);
    expect(await page.locator('#alarms').textContent()).not.toMatch(/stale/);
  });

  it('the chargers page has a row for every station and shows its journal on demand', async () => {
    // CP03 speaks OCPP 1.6: the page says so beside its id.
    h.connections.next({ stationId: 'CP03', side: 'station', up: true, at: Date.now(), protocol: 'ocpp1.6' });
    await page.click('nav a[data-view="chargers"]');
    await page.locator('#chargers-body tr').first().waitFor();
    for (const id of STATIONS) expect(await page.locator(`#chargers-body tr[data-station="${id}"]`).count(), id).toBe(1);
    const cp01 = page.locator('#chargers-body tr[data-station="CP01"]');
    expect(await cp01.textContent()).toContain('tx-CP01');
    expect(await cp01.textContent()).toContain('31.5 A');
    expect(await cp01.locator('.protocol').textContent()).toBe('OCPP 2.0.1');
    await expect.poll(() => page.locator('#chargers-body tr[data-station="CP03"] .protocol').textContent()).toBe('OCPP 1.6');
    // A station whose clock is 10 minutes ahead: the page says so under its id (the others show nothing).
    h.control.next({ ...h.control.value, at: Date.now(), clockOffsetsS: { CP02: 600.2, CP01: 0.3 } });
    await expect.poll(() => page.locator('#chargers-body tr[data-station="CP02"] .station-clock').textContent()).toBe('clock 10 min ahead');
    expect(await cp01.locator('.station-clock').count()).toBe(0);
    // How the controller limits each station: what it supports, the fallbacks it needed (learned ones marked *), its
    // measured reaction time, a meter setup it could not get; a station without smart charging is a fixed load.
    const caps = { rateUnits: ['W' as const], phaseSwitching: false, source: 'station' as const, maxStackLevel: 0, periodsPerSchedule: 24, quirks: ['watts-only' as const, 'relative-only' as const],
      meter: { phaseResolved: false, note: 'MeterValuesSampledData is read-only (Energy.Active.Import.Register): no Current.Import' } };
    h.control.next({ ...h.control.value, at: Date.now(), stations: [
      { id: 'CP03', capabilities: caps, learned: ['relative-only'], reactionMs: 42_400 },
      { id: 'CP02', capabilities: { rateUnits: ['A'], phaseSwitching: false, source: 'station', smartCharging: false }, learned: [], fixedReason: 'no SmartCharging in SupportedFeatureProfiles' },
    ] });
    const cp03 = page.locator('#chargers-body tr[data-station="CP03"]');
    await expect.poll(() => cp03.locator('.station-fallbacks').textContent()).toBe('fallbacks: watts-only, relative-only*');
    expect(await cp03.locator('.station-supports').textContent()).toBe('limits in W · stack ≤ 0 · 24 periods');
    expect(await cp03.locator('.station-reaction').textContent()).toBe('reacts in 42 s');
    expect(await cp03.locator('.station-meter').textContent()).toContain('read-only');
    expect(await page.locator('#chargers-body tr[data-station="CP02"] .station-fixed').first().textContent()).toBe('fixed load: no SmartCharging in SupportedFeatureProfiles');
    await page.getByRole('button', { name: 'OCPP messages of CP01' }).click();
    await expect.poll(() => page.locator('#journal').textContent()).toContain('SetChargingProfile');
    await page.fill('#journal-action', 'BootNotification');
    await page.selectOption('#journal-direction', 'csms->station');
    await page.press('#journal-action', 'Enter');
    await expect.poll(() => page.locator('#journal tbody').textContent()).not.toContain('SetChargingProfile');
    expect(await page.locator('#journal tbody tr').count()).toBe(1);
    expect(await page.locator('#journal tbody').textContent()).toMatch(/CSMS → station.*RESULT.*BootNotification/);
    await page.screenshot({ path: join(SHOTS, 'chargers.png'), fullPage: true });
  });

  it('changing the site limit on the page calls setExternalLimit and changes the allocations', async () => {
    await page.click('nav a[data-view="settings"]');
    await page.locator('#site-limit-L1').waitFor();
    for (const i of [1, 2, 3]) await page.fill(`#site-limit-L${i}`, '30');
    await page.click('#site-limit-save');
    await expect.poll(() => page.locator('#settings-status').textContent()).toBe('Site limit saved.');
    expect(h.externalLimits.at(-1)).toEqual({ source: { id: 'page', kind: 'Other', page: true }, limitA: [30, 30, 30] });
    await expect.poll(() => page.locator('#audit-body').textContent()).toContain('Site limit');
    // Above the fuse: refused with the reason, nothing applied.
    expected = { status: 400, path: '/api/settings/site-limit' };
    await page.fill('#site-limit-L2', '80');
    await page.click('#site-limit-save');
    await expect.poll(() => page.locator('#settings-status').textContent()).toMatch(/above the site fuse/);
    await page.screenshot({ path: join(SHOTS, 'settings-refused.png') });
    expected = null;
    expect(h.externalLimits.at(-1)?.limitA).toEqual([30, 30, 30]);
    await page.selectOption('#mode-CP01', 'pv');
    await page.fill('#prio-CP01', '5');
    await page.locator('#prio-CP01').locator('xpath=../..').getByRole('button', { name: 'Apply' }).click();
    await expect.poll(async () => h.server.settings.current().control.modes.CP01).toBe('pv');
    expect(h.server.settings.current().control.priorities.CP01).toBe(5);
    await page.screenshot({ path: join(SHOTS, 'settings.png'), fullPage: true });

    await page.click('nav a[data-view="chargers"]');
    await expect.poll(() => page.locator('#chargers-body tr[data-station="CP01"]').textContent()).toContain('15.0 A');
    await page.click('nav a[data-view="overview"]');
    await expect.poll(() => page.locator('#limit-source').textContent()).toBe('Set on this page');
  });

  it('sessions list and CSV export', async () => {
    const t0 = Date.now() - 3600_000;
    const send = (eventType: string, at: number, kwh: number) => h.calls.next({
      stationId: 'CP01', origin: 'station', messageId: `s-${eventType}`, action: 'TransactionEvent', at,
      payload: { eventType, timestamp: new Date(at).toISOString(), triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'TX-900' },
        evse: { id: 1 }, idToken: { idToken: 'ABCDEF123456', type: 'ISO14443' }, meterValue: [{ timestamp: new Date(at).toISOString(), sampledValue: [{ value: kwh, unitOfMeasure: { unit: 'kWh' } }] }] },
    });
    send('Started', t0, 100);
    send('Ended', t0 + 1800_000, 108.25);
    await page.click('nav a[data-view="sessions"]');
    await expect.poll(() => page.locator('#sessions-body').textContent()).toContain('TX-900');
    const text = await page.locator('#sessions-body').textContent();
    expect(text).toContain('••••3456');
    expect(text).toContain('8.25 kWh');
    expect(text).not.toContain('ABCDEF123456');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sessions-csv')]);
    expect(download.suggestedFilename()).toBe('sessions.csv');
    await page.screenshot({ path: join(SHOTS, 'sessions.png'), fullPage: true });
  });

  it('the history chart renders with data', async () => {
    await page.click('nav a[data-view="history"]');
    await page.locator('#chart-grid canvas').waitFor();
    await expect.poll(() => page.locator('#history-note').textContent()).toMatch(/\d+ points/);
    expect(await page.locator('.chart .uplot').count()).toBe(3);
    // The canvas has drawn lines: some pixels are not background.
    const inked = await page.locator('#chart-grid canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    expect(await page.locator('#chart-stations .u-legend').textContent()).toContain('CP02');
    await page.screenshot({ path: join(SHOTS, 'history.png'), fullPage: true });
  });

  it('is usable with the keyboard and on a tablet', async () => {
    await page.setViewportSize({ width: 800, height: 1100 });
    await page.click('nav a[data-view="overview"]');
    await page.reload();
    await page.locator('#grid-L1').waitFor();
    await page.screenshot({ path: join(SHOTS, 'overview-tablet.png'), fullPage: true });
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent);
    expect(first).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Overview');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.locator('#chargers-body').waitFor();
    expect(page.url()).toContain('#/chargers');
  });

  it('logs out and back to the login form; no console errors anywhere', async () => {
    await page.click('#logout');
    await page.locator('#login-username').waitFor();
    expect(await page.locator('#topbar').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });
});
