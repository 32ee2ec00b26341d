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
    reporters: ['default'],
    // After the summary: which browser tests were skipped for want of Chromium, and how to install it.
    globalSetup: ['test/global-setup.ts'],
  },
});
