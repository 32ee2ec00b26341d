// The page against the real stages (until main.ts wires them, assembled here): the real relay with test stations
// and a test CSMS, the simulated SunSpec meter read over Modbus TCP by the real driver, the controller's real
// site-limit publisher, the real control loop reading the page's settings$, and the page in headless Chromium.
// Changing the site limit on the page must change the TxProfile limits the stations receive.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { asyncScheduler, merge, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseVector } from '../../algorithms/types.js';
import { createDevice, type Device } from '../../drivers/device.js';
import { silentLogger } from '../../src/common/log.js';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { parseConfig } from '../../src/config/load.js';
import { createControlLoop } from '../../src/control/loop.js';
import { createStations } from '../../src/stations/stations.js';
import { createSessionStore } from '../../src/store/sessions.js';
import { wireRecordsAndPageLimit } from '../../src/wiring.js';
import type { ControlLoop } from '../../src/control/types.js';
import { SiteLimitPublisher } from '../../src/controller/site-limit-stream.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { SimModbusSite } from '../../src/sim/devices/modbus-site.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { createSettingsStore } from '../../src/store/settings.js';
import { createWebServer, type WebServer } from '../../src/web/server.js';
import { startCsms, TestStation, until, type TestCsms } from '../control/world.js';
import { CHROMIUM_PATH, describeBrowser } from './chromium.js';

const SHOTS = join(process.cwd(), 'test-artifacts', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describeBrowser('page → controller → control loop → stations', () => {
  let dir: string;
  let csms: TestCsms;
  let modbus: SimModbusSite;
  let db: Db;
  let relay: Relay;
  let meter: Device;
  let publisher: SiteLimitPublisher;
  let loop: ControlLoop;
  let web: WebServer;
  let url: string;
  let browser: Browser;
  let page: Page;
  let physics: NodeJS.Timeout;
  const stations: TestStation[] = [];
  const subs: Subscription[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'web-e2e-'));
    csms = await startCsms();
    modbus = new SimModbusSite(undefined, { host: '127.0.0.1', port: 0 });
    const modbusPort = await modbus.start();
    const config = parseConfig({
      stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0, list: [{ id: 'CP01' }, { id: 'CP02' }] },
      upstream: { url: csms.url, callTimeoutS: 5, retry: { waitMinimumS: 0.05, randomRangeS: 0.05, repeatTimes: 2 } },
      storage: { path: join(dir, 'db.sqlite') },
      web: { users: [{ username: 'fm', passwordHash: hashPasswordSync('fm-password', { N: 1024, r: 8, p: 1 }) }] },
      site: { limitA: [80, 80, 80] },
      meters: [{ id: 'grid', role: 'grid', driver: 'modbus-tcp', host: '127.0.0.1', port: modbusPort, unitId: 1, map: 'sunspec', pollMs: 100, staleMs: 1000, timeoutMs: 300 }],
      control: { loopMs: 300, rampAPerS: 100, hysteresisA: 0.5, profileValidityS: 10 },
    });
    db = openDatabase(config.storage.path);
    relay = createRelay({ config, db, log: silentLogger, upstreamHandshakeTimeoutMs: 2000 });
    const m = config.meters[0];
    meter = createDevice({ id: m.id, driver: 'modbus-tcp', host: m.host, port: m.port, unitId: m.unitId, map: m.map, pollMs: m.pollMs, staleMs: m.staleMs, timeoutMs: m.timeoutMs }, { dataDir: dir });
    const readings$ = merge(meter.readings$);
    publisher = new SiteLimitPublisher(config.site, asyncScheduler, undefined);
    publisher.start();
    const settings = createSettingsStore(db, config);
    const stationModel = createStations({ relay, caller: relay });
    wireRecordsAndPageLimit({ events$: stationModel.events$, sessions: createSessionStore(db), settings, setExternalLimit: (source, limitA) => publisher.setExternal(source, limitA), log: silentLogger });
    loop = createControlLoop({ scheduler: asyncScheduler, config, stations: stationModel, readings$, siteLimit$: publisher.siteLimit$, settings$: settings.settings$, log: silentLogger });
    web = createWebServer({
      config, db, log: silentLogger, settings, port: 0,
      ports: {
        controlState$: loop.state$, readings$, siteLimit$: publisher.siteLimit$, connections$: relay.connections$,
        setExternalLimit: (source, limitA) => publisher.setExternal(source, limitA),
        journal: relay.journal, queueLengths: () => relay.queueLengths(),
        connectedStations: () => relay.connectedStations(), upstreamConnected: (id) => relay.upstreamConnected(id),
      },
    });
    url = (await web.start()).url;
    const { port } = await relay.start();
    for (const id of ['CP01', 'CP02']) {
      const s = new TestStation(id, { lagMs: 100, meterEveryMs: 200 });
      await s.connect(port);
      stations.push(s);
    }
    // Site physics: the grid meter sees a base load plus what the stations draw.
    physics = setInterval(() => {
      const draw = stations.reduce((a, s) => a + s.drawA, 0);
      modbus.model.setGrid({ currentsA: [10 + draw, 10 + draw, 10 + draw] as PhaseVector });
    }, 20);
    await stations[0].startTransaction('TX-A');
    await stations[1].startTransaction('TX-B');
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  afterAll(async () => {
    clearInterval(physics);
    await browser?.close();
    for (const s of subs) s.unsubscribe();
    await web?.stop();
    await loop?.stop();
    for (const s of stations) s.close();
    publisher?.stop();
    await meter?.close();
    await relay?.stop();
    db?.close();
    await modbus?.close();
    await csms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the live site and the allocations, and a lower site limit on the page lowers what the stations get', async () => {
    // Both sessions get their maximum under the 80 A fuse (10 A base + 2 × 32 A).
    await until(() => stations.every((s) => s.lastTxLimit() === 32), 15_000, 'both stations at 32 A');
    await page.goto(url);
    await page.fill('#login-username', 'fm');
    await page.fill('#login-password', 'fm-password');
    await page.click('#login-submit');
    await page.locator('#grid-L1').waitFor();
    await expect.poll(() => page.locator('#grid-L1').textContent(), { timeout: 10_000 }).toBe('74.0 A');
    await page.click('nav a[data-view="chargers"]');
    await expect.poll(() => page.locator('#chargers-body tr[data-station="CP01"]').textContent(), { timeout: 10_000 }).toContain('TX-A');
    expect(await page.locator('#chargers-body tr[data-station="CP02"]').textContent()).toContain('TX-B');
    await page.screenshot({ path: join(SHOTS, 'e2e-chargers-before.png'), fullPage: true });

    // 40 A per phase for the site, 10 A of base load: 30 A left, 15 A each.
    await page.click('nav a[data-view="settings"]');
    for (const i of [1, 2, 3]) await page.fill(`#site-limit-L${i}`, '40');
    await page.click('#site-limit-save');
    await expect.poll(() => page.locator('#settings-status').textContent()).toBe('Site limit saved.');
    await until(() => stations.every((s) => (s.lastTxLimit() ?? 99) <= 15.5), 15_000, 'stations limited to about 15 A');
    await page.click('nav a[data-view="overview"]');
    await expect.poll(() => page.locator('#limit-source').textContent(), { timeout: 10_000 }).toBe('Set on this page');
    await expect.poll(async () => Number.parseFloat((await page.locator('#grid-L1').textContent()) ?? '99'), { timeout: 10_000 }).toBeLessThanOrEqual(40.5);
    await page.screenshot({ path: join(SHOTS, 'e2e-overview-after.png'), fullPage: true });
    await page.click('nav a[data-view="chargers"]');
    await expect.poll(() => page.locator('#chargers-body tr[data-station="CP01"]').textContent(), { timeout: 10_000 }).toMatch(/1[45]\.\d A/);
    await page.screenshot({ path: join(SHOTS, 'e2e-chargers-after.png'), fullPage: true });

    // The sessions view has both sessions from the stations' TransactionEvents.
    await page.click('nav a[data-view="sessions"]');
    await expect.poll(() => page.locator('#sessions-body').textContent()).toContain('TX-B');

    // Removing the page limit gives the fuse back.
    await page.click('nav a[data-view="settings"]');
    await page.click('#site-limit-clear');
    await until(() => stations.every((s) => s.lastTxLimit() === 32), 15_000, 'both stations back at 32 A');
    expect(problems).toEqual([]);
  });
});
