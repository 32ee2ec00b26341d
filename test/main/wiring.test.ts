// What main.ts wires with or without the page (src/wiring.ts): a site limit saved on the page applies after a
// restart without the page (`--no-web`, web.enabled: false), and charging sessions are still recorded — real SQLite
// file, real settings store, real controller station, real relay events through the station model.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, NEVER, Subject, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import { createControllerStation } from '../../src/controller/index.js';
import type { OcppCallEvent } from '../../src/relay/events.js';
import { createStations } from '../../src/stations/stations.js';
import { openDatabase } from '../../src/store/db.js';
import { createSessionStore } from '../../src/store/sessions.js';
import { createSettingsStore } from '../../src/store/settings.js';
import { wireRecordsAndPageLimit } from '../../src/wiring.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('wiring without the page', () => {
  it('applies the site limit saved on the page after a restart without the page, and records sessions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wiring-'));
    dirs.push(dir);
    const config = parseConfig({
      stations: { listen: { host: '127.0.0.1', port: 0 } },
      upstream: { url: 'ws://127.0.0.1:1/ocpp' },
      site: { limitA: [40, 40, 40] },
      storage: { path: join(dir, 'site.sqlite') },
      web: { enabled: false },
    });
    // Yesterday, on the page: the facility manager lowered the site limit to 25 A.
    let db = openDatabase(config.storage.path);
    createSettingsStore(db, config).setSiteLimit([25, 25, 25]);
    db.close();

    // Today: a run without the page, wired as main.ts wires it.
    db = openDatabase(config.storage.path);
    const controller = createControllerStation({ config, db, log: silentLogger });
    controller.start();
    const calls$ = new Subject<OcppCallEvent>();
    const stations = createStations({
      relay: { connections$: NEVER, calls$, results$: NEVER },
      caller: { call: () => Promise.reject(new Error('not connected')), connectedStations: () => [] },
    });
    const sessions = createSessionStore(db);
    const wiring = wireRecordsAndPageLimit({
      events$: stations.events$, sessions, settings: createSettingsStore(db, config),
      setExternalLimit: (source, limitA) => controller.setExternalLimit(source, limitA), log: silentLogger,
    });
    try {
      const limit = await firstValueFrom(controller.siteLimit$.pipe(filter((l) => l.limitA[0] < 40)));
      expect(limit.limitA).toEqual([25, 25, 25]);
      expect(limit.binding.kind).toBe('page');

      calls$.next({ stationId: 'CP01', origin: 'station', messageId: '1', action: 'TransactionEvent', at: Date.now(),
        payload: { eventType: 'Started', timestamp: '2026-01-01T10:00:00Z', transactionInfo: { transactionId: 'T1' }, evse: { id: 1 }, meterValue: [{ timestamp: 'x', sampledValue: [{ value: 500 }] }] } });
      expect(sessions.list()).toEqual([expect.objectContaining({ stationId: 'CP01', evseId: 1, transactionId: 'T1', endedAt: null })]);
    } finally {
      wiring.unsubscribe();
      await controller.stop();
      db.close();
    }
  });
});
