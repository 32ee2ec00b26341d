import { defineConfig } from 'vitest/config';

// Integration tests open real sockets, servers, SQLite files and Chromium: give them time, keep them in
// separate processes (forks) so a crash in one file cannot hide another's result, and cap parallelism to the
// machine's two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules', 'dist'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits for an outcome (a page update, a station's answer): on a loaded 2-core machine a scrypt check
    // or a page render can take seconds, so wait up to 15 s rather than vitest's 1 s default.
    expect: { poll: { timeout: 15_000 } },
    reporters: ['default'],
    // After the summary: which browser tests were skipped for want of Chromium, and how to install it.
    globalSetup: ['test/global-setup.ts'],
  },
});
