// `npm run bench -- journal [--json] [messages=200000]`: how many frames per second the journal records into a
// SQLite file (WAL), through the same batched path the relay uses (record → flush every 100 ms / 5000 rows),
// including the final flush. For scale: 1000 stations × 1 msg/s × 2 frames each = 2000 rows/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/db.js';
import { Journal, type JournalDirection } from '../../src/store/journal.js';
import type { Bench } from './run.js';

export const run: Bench = async (opts) => {
  const a = opts.args.find((x) => x.startsWith('messages='));
  const messages = a ? Number(a.slice('messages='.length)) : 200_000;
  const dir = mkdtempSync(join(tmpdir(), 'bench-journal-'));
  try {
    const db = openDatabase(join(dir, 'journal.sqlite'));
    const journal = new Journal(db);
    const directions: JournalDirection[] = ['station->csms', 'csms->station'];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // Arrive in bursts of 1000 frames with an event-loop turn between them, as socket traffic does.
    for (let i = 0; i < messages; i += 1000) {
      const now = Date.now();
      for (let k = i; k < Math.min(messages, i + 1000); k++) {
        journal.record({ at: now, stationId: `CP${k % 1000}`, direction: directions[k & 1], kind: (k & 1) ? 3 : 2, action: 'TransactionEvent', messageId: `m-${k}`, size: 420 });
      }
      await new Promise((r) => setImmediate(r));
    }
    journal.flush();
    const seconds = (performance.now() - t0) / 1000;
    // CPU of the whole process (the relay's thread and the writer thread) per row: what the journal costs the relay's
    // CPU budget, which the wall-clock rate on a shared machine does not show.
    const cpu = process.cpuUsage(c0);
    const rows = journal.rowsWritten;
    const cpuUsPerRow = (cpu.user + cpu.system) / rows;
    opts.log(`${rows} rows in ${seconds.toFixed(2)} s, ${cpuUsPerRow.toFixed(2)} µs CPU per row`);
    // Query from the page while it is full.
    const q0 = performance.now();
    const found = journal.query({ stationId: 'CP7', action: 'TransactionEvent', limit: 200 }).length;
    opts.log(`query by station: ${found} rows in ${(performance.now() - q0).toFixed(1)} ms`);
    journal.close();
    db.close();
    return { messages: rows, msgs_per_s: Math.round(rows / seconds), cpu_us_per_row: Math.round(cpuUsPerRow * 100) / 100 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
