// Needs entered on the page survive a restart of the controller (a real SQLite file), one entry per EVSE, and entries
// long past their departure are dropped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { createEnteredNeedsStore } from '../../src/store/entered-needs.js';

const dir = mkdtempSync(join(tmpdir(), 'entered-needs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const H = 3_600_000;
const entry = (stationId: string, transactionId: string, at: number, energyWh = 20_000) =>
  ({ stationId, evseId: 1, transactionId, energyWh, departureAt: at + 4 * H, enteredBy: 'manager', enteredAt: at });

describe('entered needs', () => {
  it('are kept across a restart, replaced per EVSE, and pruned a day after their departure', async () => {
    const path = join(dir, 'a.sqlite');
    const t0 = Date.UTC(2026, 11, 6, 8);
    let db = openDatabase(path);
    let store = createEnteredNeedsStore(db);
    expect(store.set(entry('CP01', '17', t0))).toBeUndefined();
    expect(store.set(entry('CP01', '18', t0 + H, 9_000))?.transactionId).toBe('17');
    store.set(entry('CP02', 'A-1', t0 + H));
    db.close();

    db = openDatabase(path);
    store = createEnteredNeedsStore(db);
    expect(await firstValueFrom(store.needs$)).toEqual([entry('CP01', '18', t0 + H, 9_000), entry('CP02', 'A-1', t0 + H)]);
    // Two days later someone enters needs elsewhere: yesterday's entries are gone.
    store.set(entry('CP03', 'X', t0 + 48 * H));
    expect(store.list().map((e) => e.stationId)).toEqual(['CP03']);
    expect(store.clear('CP03', 1)?.transactionId).toBe('X');
    expect(store.clear('CP03', 1)).toBeUndefined();
    expect(await firstValueFrom(store.needs$)).toEqual([]);
    db.close();
  });
});
