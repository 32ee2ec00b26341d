// Reads vitest's JSON report and prints "N passed, N failed". A browser test that was skipped counts as failed:
// CI installs Chromium, so a skip there means the page went untested (test/web/chromium.ts).
// usage: node .ci/summary.cjs REPORT.json EXIT_STATUS   (exits 1 when anything failed or a browser test was skipped)
const fs = require('fs');
const [report, status] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const skippedBrowser = [];
try {
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  for (const f of r.testResults || []) {
    // A file that failed to load has no failed test of its own: count it once.
    if (f.status === 'failed' && !(f.assertionResults || []).some((a) => a.status === 'failed')) failed += 1;
    let source = '';
    try { source = fs.readFileSync(f.name, 'utf8'); } catch { /* a file that is gone cannot be a browser test */ }
    if (!source.includes('playwright-core')) continue;
    for (const a of f.assertionResults || []) {
      if (a.status === 'skipped' || a.status === 'pending' || a.status === 'todo') skippedBrowser.push(`${f.name}: ${a.fullName || a.title}`);
    }
  }
} catch {
  failed = 1;
}
if (skippedBrowser.length) {
  console.log(`browser tests skipped (Chromium missing?), counted as failed:\n  ${skippedBrowser.join('\n  ')}`);
  failed += skippedBrowser.length;
}
if (status !== '0' && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
