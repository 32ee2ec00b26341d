// Repeats the browser-test notice after the summary, where a person reads it: which files were skipped for want of
// Chromium and how to install it (test/web/chromium.ts prints it too, but at the top of a long run).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_PATH, chromiumFound, INSTALL_HINT } from './web/chromium.js';

export default function setup(): () => void {
  return () => {
    if (chromiumFound() || process.env.CI === 'true') return;
    const dir = join(import.meta.dirname, 'web');
    const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts') && readFileSync(join(dir, f), 'utf8').includes('describeBrowser('));
    const bar = '!'.repeat(100);
    process.stderr.write(
      `\n${bar}\n!! SKIPPED the browser tests (${files.map((f) => `test/web/${f}`).join(', ')}): Chromium not found at ${CHROMIUM_PATH}.\n` +
        `!! Everything else ran. To run them, ${INSTALL_HINT}.\n${bar}\n`,
    );
  };
}
