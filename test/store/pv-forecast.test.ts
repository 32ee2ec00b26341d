// The PV forecast the integrator pushed in survives a restart of the controller (a real SQLite file); a new one
// replaces the old, and subscribers get the one in force.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { createPvForecastStore, type PvForecast } from '../../src/store/pv-forecast.js';

const dir = mkdtempSync(join(tmpdir(), 'pv-forecast-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const H = 3_600_000;
const t0 = Date.UTC(2026, 5, 21, 4);
const forecast = (setAt: number, peakW: number): PvForecast => ({
  points: [{ at: t0, w: 0 }, { at: t0 + 8 * H, w: peakW }, { at: t0 + 16 * H, w: 0 }], setBy: 'integrator', setAt,
});

describe('PV forecast store', () => {
  it('sets, replaces, replays the latest, keeps it across a restart and clears it', async () => {
    const path = join(dir, 'a.sqlite');
    let db = openDatabase(path);
    let store = createPvForecastStore(db);
    expect(store.current()).toBeUndefined();
    expect(await firstValueFrom(store.forecast$)).toBeUndefined();
    expect(store.clear()).toBeUndefined();

    expect(store.set(forecast(t0, 9_000))).toBeUndefined();
    expect(store.set(forecast(t0 + H, 7_500))).toEqual(forecast(t0, 9_000));
    expect(store.current()).toEqual(forecast(t0 + H, 7_500));
    // A subscriber that comes later gets the forecast in force at once.
    expect(await firstValueFrom(store.forecast$)).toEqual(forecast(t0 + H, 7_500));
    db.close();

    db = openDatabase(path);
    store = createPvForecastStore(db);
    expect(store.current()).toEqual(forecast(t0 + H, 7_500));
    expect(await firstValueFrom(store.forecast$)).toEqual(forecast(t0 + H, 7_500));
    const seen: (PvForecast | undefined)[] = [];
    const sub = store.forecast$.subscribe((f) => seen.push(f));
    expect(store.clear()).toEqual(forecast(t0 + H, 7_500));
    expect(store.clear()).toBeUndefined();
    sub.unsubscribe();
    expect(seen).toEqual([forecast(t0 + H, 7_500), undefined]);
    db.close();

    db = openDatabase(path);
    expect(createPvForecastStore(db).current()).toBeUndefined();
    db.close();
  });
});
