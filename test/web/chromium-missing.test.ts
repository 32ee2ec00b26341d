// A machine without Chromium: `npm test` skips the browser tests, says so loudly with the install command, and passes
// the rest; in CI (CI=true) the same run fails, and .ci/summary.cjs fails the run for any skipped browser test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'chromium-missing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** vitest on one browser test file, as `npm test` runs it, with Chromium looked for where there is none. */
function vitest(env: Record<string, string>): { status: number | null; out: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'CI' && k !== 'NODE_ENV'));
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/web/browser.test.ts', '--reporter=default'], {
    cwd: root, encoding: 'utf8', timeout: 90_000, env: { ...clean, CHROMIUM_PATH: join(dir, 'no-chromium'), ...env },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('without Chromium', () => {
  it('the browser tests are skipped, named, with how to install Chromium; the run passes', () => {
    const r = vitest({});
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/SKIPPED browser tests "the page in Chromium" \(test\/web\/browser\.test\.ts\)/);
    expect(r.out).toContain('apt-get install chromium');
    expect(r.out).toMatch(/SKIPPED the browser tests \(.*test\/web\/browser\.test\.ts/);
  }, 120_000);

  it('in CI the run fails', () => {
    const r = vitest({ CI: 'true' });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('Chromium not found');
  }, 120_000);

  it('.ci/summary.cjs counts a skipped browser test as failed, and other skips not', () => {
    const report = (skippedIn: string) => {
      const file = join(dir, `report-${skippedIn.replace(/\W/g, '_')}.json`);
      writeFileSync(file, JSON.stringify({
        numPassedTests: 5, numFailedTests: 0,
        testResults: [
          { name: join(root, 'test', 'web', 'api.test.ts'), status: 'passed', assertionResults: [{ status: 'passed', title: 'a' }] },
          { name: join(root, skippedIn), status: 'skipped', assertionResults: [{ status: 'skipped', title: 'b', fullName: 'b' }] },
        ],
      }));
      return spawnSync(process.execPath, [join(root, '.ci', 'summary.cjs'), file, '0'], { encoding: 'utf8' });
    };
    const browser = report('test/web/browser.test.ts');
    expect(browser.status).toBe(1);
    expect(browser.stdout).toContain('browser tests skipped');
    expect(browser.stdout.trim().split('\n').pop()).toBe('5 passed, 1 failed');
    const other = report('test/drivers/rtu.test.ts');
    expect(other.status).toBe(0);
    expect(other.stdout.trim()).toBe('5 passed, 0 failed');
  });
});
