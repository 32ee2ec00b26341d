// Takes the README's screenshots of the demo (docs/img/): the demo as `npm start` runs it, on free ports, until
// controlled EVs charge above 6 A, then the chargers view in headless Chromium (docs/img/demo-chargers.png).
// usage: npm run build && node dist/test/web/demo-screenshot.js [OUT_DIR]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './chromium.js';

const root = join(import.meta.dirname, '..', '..', '..');
const out = process.argv[2] ?? join(root, 'docs', 'img');

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

interface Evse { appliedLimitA: number | null; measuredCurrentA: number[] | null; controllable: boolean; transactionId: string | null }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'demo-shot-'));
  const [stations, csms, modbus, board, ua, web] = await Promise.all(Array.from({ length: 6 }, freePort));
  const text = readFileSync(join(root, 'config', 'demo.yaml'), 'utf8')
    .replace('port: 9000', `port: ${stations}`)
    .replace('url: ws://127.0.0.1:9100', `url: ws://127.0.0.1:${csms}`)
    .replaceAll('port: 15020', `port: ${modbus}`)
    .replace('port: 15021', `port: ${board}`)
    .replace('endpoint: opc.tcp://127.0.0.1:4841', `endpoint: opc.tcp://127.0.0.1:${ua}`)
    .replace('port: 8080', `port: ${web}`)
    .replace('path: ../data/demo.sqlite', `path: ${join(dir, 'demo.sqlite')}`)
    .replace('scenario: scenarios/demo-site.yaml', `scenario: ${join(root, 'config', 'scenarios', 'demo-site.yaml')}`);
  writeFileSync(join(dir, 'demo.yaml'), text);
  const child = spawn(process.execPath, [join(root, 'dist', 'src', 'main.js'), 'demo', '--config', join(dir, 'demo.yaml')], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${web}`;
  try {
    let cookie = '';
    for (let i = 0; ; i++) {
      if (i > 240) throw new Error('the demo did not charge above 6 A within 2 minutes');
      await new Promise((r) => setTimeout(r, 500));
      try {
        if (!cookie) {
          const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'demo-demo' }) });
          if (login.status !== 200) continue;
          cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
        }
        const state = (await (await fetch(`${base}/api/state`, { headers: { cookie } })).json()) as { stations: { evses: Evse[] }[] };
        const above = state.stations.flatMap((s) => s.evses).filter((e) => e.controllable && e.transactionId && (e.appliedLimitA ?? 0) > 7 && Math.max(0, ...(e.measuredCurrentA ?? [])) > 7);
        if (above.length >= 4) break;
      } catch { /* not up yet */ }
    }
    mkdirSync(out, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(base);
    await page.fill('#login-username', 'demo');
    await page.fill('#login-password', 'demo-demo');
    await page.click('#login-submit');
    await page.locator('#grid-L1').waitFor();
    await page.click('nav a[data-view="chargers"]');
    await page.waitForURL('**/#/chargers');
    await new Promise((r) => setTimeout(r, 3000));
    await page.screenshot({ path: join(out, 'demo-chargers.png'), fullPage: true });
    await browser.close();
    process.stdout.write(`screenshots in ${out}\n`);
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 1500));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
