// What the loop learned per station survives a restart (a real SQLite file), and bad rows lose nothing else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { openStationNotes } from '../../src/store/station-notes.js';

const dir = mkdtempSync(join(tmpdir(), 'station-notes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('station notes', () => {
  it('keeps capabilities, learned quirks and the reaction time across a restart', () => {
    const path = join(dir, 'a.sqlite');
    let db = openDatabase(path);
    const caps = { rateUnits: ['W' as const], phaseSwitching: false, source: 'station' as const, smartCharging: true, maxStackLevel: 3 };
    openStationNotes(db).save('CP01', { caps, learned: ['watts-only', 'relative-only'], reactionMs: 45_123.4, updatedAt: 5 });
    db.close();
    db = openDatabase(path);
    const notes = openStationNotes(db);
    expect(notes.load('CP01')).toEqual({ caps, learned: ['watts-only', 'relative-only'], reactionMs: 45_123, updatedAt: 5 });
    expect(notes.load('CP02')).toBeUndefined();
    // A row written by something else (or damaged): unknown quirks dropped, unreadable caps ignored.
    db.prepare("UPDATE station_notes SET learned = '[\"watts-only\",\"made-up\"]', caps = 'not json' WHERE station_id = 'CP01'").run();
    expect(notes.load('CP01')).toEqual({ learned: ['watts-only'], reactionMs: 45_123, updatedAt: 5 });
    db.close();
  });
});
