// Where the browser tests find Chromium, and what happens when it is missing: on a developer's machine the browser
// tests are skipped, loudly (which ones, and how to install Chromium), and the rest of `npm test` runs; in CI
// (CI=true) a missing Chromium fails the run (.ci/run installs it, and also fails on any skipped browser test).
import { existsSync } from 'node:fs';
import { describe, it, type SuiteFactory } from 'vitest';

/** The Chromium the browser tests launch (CHROMIUM_PATH overrides /usr/bin/chromium). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const INSTALL_HINT = 'install it with `sudo apt-get install chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary';

export const chromiumFound = (): boolean => existsSync(CHROMIUM_PATH);

/** describe() for tests that need Chromium: skipped with a loud notice without it, or failing in CI. */
export function describeBrowser(name: string, factory: SuiteFactory): void {
  if (chromiumFound()) return void describe(name, factory);
  const why = `Chromium not found at ${CHROMIUM_PATH}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Chromium (CI installs it)', () => {
        throw new Error(`${why}: the browser tests cannot run in CI; ${INSTALL_HINT}`);
      });
    });
    return;
  }
  const bar = '!'.repeat(100);
  process.stderr.write(`\n${bar}\n!! SKIPPED browser tests "${name}" (${expectFile()}): ${why}.\n!! ${INSTALL_HINT}.\n${bar}\n\n`);
  describe.skip(`${name} [SKIPPED: ${why}; ${INSTALL_HINT}]`, factory);
}

/** The test file calling describeBrowser, for the notice. */
function expectFile(): string {
  const line = new Error().stack?.split('\n').find((l) => /test\/web\/[^/]+\.test\.ts/.test(l));
  return line?.match(/test\/web\/[^/:]+\.test\.ts/)?.[0] ?? 'a browser test file';
}
