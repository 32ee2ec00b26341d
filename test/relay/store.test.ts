// The relay's SQLite parts on a real file: journal (batching, query, retention), the forward queue and the
// authorization cache.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';
import { openDatabase, type Db } from '../../src/store/db.js';
import { Journal } from '../../src/store/journal.js';
import { ForwardQueue } from '../../src/store/queue.js';
import { AuthCache } from '../../src/store/auth-cache.js';
import { StationBootStore } from '../../src/store/station-boot.js';
import { forwardKey, forwardRule, type OcppProtocol } from '../../src/relay/forward-rules.js';

let dir: string;
let db: Db;
function open(): Db {
  dir = mkdtempSync(join(tmpdir(), 'relay-store-'));
  db = openDatabase(join(dir, 'db.sqlite'));
  return db;
}
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('journal', () => {
  it('batches rows until the flush interval and answers queries by station, action, direction and time', () => {
    const vt = new VirtualTimeScheduler();
    const j = new Journal(open(), { scheduler: vt, flushMs: 100, pruneMs: 3_600_000 });
    for (let i = 0; i < 10; i++) {
      j.record({ at: 1000 + i, stationId: i % 2 ? 'CP1' : 'CP2', direction: i % 3 ? 'station->csms' : 'csms->station', kind: 2, action: i < 5 ? 'Heartbeat' : 'TransactionEvent', messageId: `m${i}`, size: 10 });
    }
    expect(j.query()).toHaveLength(0);
    vt.maxFrames = 100;
    vt.flush();
    // The flush timer handed the batch to the writer; flush() waits until it is in the database.
    expect(j.pending).toBe(0);
    j.flush();
    expect(j.query()).toHaveLength(10);
    expect(j.query({ stationId: 'CP1' }).map((r) => r.messageId)).toEqual(['m9', 'm7', 'm5', 'm3', 'm1']);
    expect(j.query({ stationId: 'CP1', action: 'TransactionEvent' }).map((r) => r.messageId)).toEqual(['m9', 'm7', 'm5']);
    expect(j.query({ direction: 'csms->station' }).map((r) => r.messageId)).toEqual(['m9', 'm6', 'm3', 'm0']);
    expect(j.query({ from: 1002, to: 1004 }).map((r) => r.messageId)).toEqual(['m3', 'm2']);
    expect(j.query({ limit: 2 })).toHaveLength(2);
    j.close();
  });

  it('prunes by age and by row count', () => {
    const j = new Journal(open(), { retentionDays: 1, maxRows: 5, pruneMs: 3_600_000 });
    const day = 86_400_000;
    for (let i = 0; i < 8; i++) j.record({ at: i < 2 ? 0 : 2 * day, stationId: 'CP1', direction: 'station->csms', kind: 2, size: 1, messageId: `m${i}` });
    j.flush();
    expect(j.prune(2 * day + 1)).toBe(3);
    expect(j.query().map((r) => r.messageId)).toEqual(['m7', 'm6', 'm5', 'm4', 'm3']);
    j.close();
  });
});

describe('forward queue', () => {
  it('keeps messages per station in order across reopening, with limits', () => {
    const q = new ForwardQueue(open(), { perStation: 3, total: 4 });
    expect(q.enqueue('CP1', 'a', 'TransactionEvent', '[2,"a"]', 1).queued).toBe(true);
    expect(q.enqueue('CP1', 'b', 'TransactionEvent', '[2,"b"]', 2).queued).toBe(true);
    expect(q.enqueue('CP2', 'c', 'MeterValues', '[2,"c"]', 3).queued).toBe(true);
    // a retry of an already queued id is not stored twice
    expect(q.enqueue('CP1', 'a', 'TransactionEvent', '[2,"a"]', 4).queued).toBe(true);
    expect(q.lengths()).toEqual({ CP1: 2, CP2: 1 });
    // ... but a new message reusing an id (a station counting ids from 1 again after a reboot) is kept
    const memory = openDatabase(':memory:');
    const reused = new ForwardQueue(memory, { perStation: 3, total: 4 });
    reused.enqueue('CP1', '1', 'StartTransaction', '[2,"1","StartTransaction",{"timestamp":"10:00"}]', 1);
    reused.enqueue('CP1', '1', 'StartTransaction', '[2,"1","StartTransaction",{"timestamp":"11:00"}]', 2);
    expect(reused.length('CP1')).toBe(2);
    memory.close();
    expect(q.enqueue('CP1', 'd', 'TransactionEvent', '[2,"d"]', 5).queued).toBe(true);
    expect(q.enqueue('CP1', 'e', 'TransactionEvent', '[2,"e"]', 6)).toMatchObject({ queued: false });
    expect(q.enqueue('CP3', 'f', 'TransactionEvent', '[2,"f"]', 7)).toMatchObject({ queued: false });
    const reopened = new ForwardQueue(db, { perStation: 3, total: 4 });
    expect(reopened.totalLength).toBe(4);
    const head = reopened.head('CP1')!;
    expect(head).toMatchObject({ messageId: 'a', frame: '[2,"a"]', action: 'TransactionEvent' });
    reopened.remove(head);
    expect(reopened.head('CP1')!.messageId).toBe('b');
    expect(reopened.lengths()).toEqual({ CP1: 2, CP2: 1 });
  });
});

describe('authorization cache', () => {
  it('caches accepted tokens until they expire and forgets rejected ones', () => {
    const c = new AuthCache(open(), 1000);
    const tok = { idToken: 'T1', type: 'ISO14443' };
    c.learn(tok, { status: 'Accepted' }, 0);
    expect(c.lookup(tok, 500)).toEqual({ status: 'Accepted' });
    expect(c.lookup(tok, 1000)).toBeUndefined();
    c.learn(tok, { status: 'Accepted', cacheExpiryDateTime: new Date(50_000).toISOString() }, 0);
    expect(c.lookup(tok, 10_000)).toMatchObject({ status: 'Accepted' });
    c.learn(tok, { status: 'Blocked' }, 1);
    expect(c.lookup(tok, 2)).toBeUndefined();
    expect(c.lookup({ idToken: 'T1', type: 'eMAID' }, 0)).toBeUndefined();
  });
});

describe('forward rules (per protocol and action)', () => {
  it('keeps every transaction message in order and only the latest status per connector, for 2.0.1 and 1.6 rows alike', () => {
    const q = new ForwardQueue(open(), { perStation: 100, total: 100 });
    const put = (id: string, action: string, payload: Record<string, unknown>, protocol: OcppProtocol) => {
      const rule = forwardRule(action, protocol);
      if (!rule) return false;
      expect(q.enqueue('CP1', id, action, JSON.stringify([2, id, action, payload]), 0, forwardKey(rule, payload)).queued).toBe(true);
      return true;
    };
    expect(put('a', 'StartTransaction', { connectorId: 1 }, 'ocpp1.6')).toBe(true);
    expect(put('b', 'StatusNotification', { connectorId: 1, status: 'Charging' }, 'ocpp1.6')).toBe(true);
    expect(put('c', 'MeterValues', { connectorId: 1, transactionId: 5 }, 'ocpp1.6')).toBe(true);
    expect(put('d', 'StatusNotification', { connectorId: 1, status: 'Finishing' }, 'ocpp1.6')).toBe(true);
    expect(put('e', 'StopTransaction', { transactionId: 5 }, 'ocpp1.6')).toBe(true);
    expect(put('f', 'Heartbeat', {}, 'ocpp1.6')).toBe(false);
    expect(put('g', 'StatusNotification', { evseId: 1, connectorId: 1, connectorStatus: 'Occupied' }, 'ocpp2.0.1')).toBe(true);
    expect(put('h', 'StatusNotification', { evseId: 2, connectorId: 1, connectorStatus: 'Occupied' }, 'ocpp2.0.1')).toBe(true);
    expect(put('i', 'StatusNotification', { evseId: 1, connectorId: 1, connectorStatus: 'Available' }, 'ocpp2.0.1')).toBe(true);
    const ids: string[] = [];
    for (let m = q.head('CP1'); m; m = q.head('CP1')) {
      ids.push(m.messageId);
      q.remove(m);
    }
    // 'b' and 'g' were replaced by newer statuses of the same connector, which take their own (later) place.
    expect(ids).toEqual(['a', 'c', 'd', 'e', 'h', 'i']);
    expect(q.length('CP1')).toBe(0);
    expect(q.totalLength).toBe(0);
  });
});

describe('station registration', () => {
  it('is kept across a restart (a station reconnecting without a boot is still known to be accepted)', () => {
    const first = new StationBootStore(open());
    expect(first.get('CP1')).toBeUndefined();
    expect(first.set('CP1', 'Pending', 1)).toBe(true);
    expect(first.set('CP1', 'Accepted', 2)).toBe(true);
    expect(first.set('CP1', 'Accepted', 3)).toBe(false);
    db.close();
    db = openDatabase(join(dir, 'db.sqlite'));
    expect(new StationBootStore(db).get('CP1')).toBe('Accepted');
  });
});
