// Attacks on the station port that need no credentials (issue 16): each test performs the attack with real sockets
// and asserts what a site would notice — a real station kept, nothing left behind, guesses cut off.
import { afterEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect } from 'node:net';
import { WebSocket } from 'ws';
import { hashPasswordSync } from '../../src/common/passwords.js';
import type { ConnectionEvent } from '../../src/relay/events.js';
import { AuthCache } from '../../src/store/auth-cache.js';
import { Journal } from '../../src/store/journal.js';
import { openDatabase } from '../../src/store/db.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStation, startCsms, startRelay, until, type TestCsms, type TestRelay } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Record<string, unknown> = {}): Promise<{ csms: TestCsms; r: TestRelay }> {
  const csms = await startCsms();
  cleanups.push(() => csms.close());
  const r = await startRelay(csms.url, overrides);
  cleanups.push(() => r.stop());
  return { csms, r };
}

type Outcome = { status: number | 'open'; retryAfter?: string };
async function attempt(port: number, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, ['ocpp2.0.1'], { headers });
  return new Promise((resolve) => {
    ws.once('open', () => { ws.terminate(); resolve({ status: 'open' }); });
    ws.once('unexpected-response', (_req, res) => {
      const h = res.headers['retry-after'];
      resolve({ status: res.statusCode ?? 0, ...(typeof h === 'string' ? { retryAfter: h } : {}) });
      ws.terminate();
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
}

const PASSWORD = 'correct-horse-battery-staple';
const basic = (user: string, pw: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
// Cheap scrypt cost for tests; the relay checks whatever cost the hash names.
const HASH = hashPasswordSync(PASSWORD, { N: 1024, r: 8, p: 1 });
const HASH2 = hashPasswordSync(PASSWORD, { N: 1024, r: 8, p: 1 });
const basicSite = (extra: Record<string, unknown> = {}) => ({
  stations: { auth: 'basic', allowUnknown: false, list: [{ id: 'CP01', passwordHash: HASH }, { id: 'CP02', passwordHash: HASH2 }, { id: 'CP03', passwordHash: HASH }], ...extra },
});

describe('refused handshakes change nothing (issue 16 #1, #2)', () => {
  it('an unauthenticated handshake for a connected station\'s id does not announce it down', async () => {
    const { r, csms } = await setup(basicSite());
    const events: ConnectionEvent[] = [];
    const sub = r.relay.connections$.subscribe((e) => events.push(e));
    cleanups.push(() => sub.unsubscribe());
    const cp02 = await connectStation(r.port, 'CP02', { auth: `CP02:${PASSWORD}` });
    cleanups.push(() => cp02.ws.terminate());
    await csms.connected('CP02');
    await until(() => events.some((e) => e.stationId === 'CP02' && e.side === 'upstream' && e.up));
    const before = events.length;
    expect((await attempt(r.port, '/ocpp/CP02')).status).toBe(401);
    expect((await attempt(r.port, '/ocpp/CP02', basic('CP02', 'not-the-password'))).status).toBe(401);
    await new Promise((res) => setTimeout(res, 100));
    expect(events.slice(before)).toEqual([]);
    expect(r.relay.connectedStations()).toEqual(['CP02']);
    expect(cp02.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('made-up ids leave no trace: no events, no station, bounded limiter state', async () => {
    const { r } = await setup(basicSite({ handshakeLimits: { failuresPerAddress: 100000 } }));
    const events: ConnectionEvent[] = [];
    const sub = r.relay.connections$.subscribe((e) => events.push(e));
    cleanups.push(() => sub.unsubscribe());
    for (let i = 0; i < 120; i += 30) {
      const batch = await Promise.all(Array.from({ length: 30 }, (_, j) => attempt(r.port, `/ocpp/GHOST${i + j}`, basic(`GHOST${i + j}`, 'x'))));
      for (const o of batch) expect([401, 429, 503]).toContain(o.status);
    }
    expect(events).toEqual([]);
    expect(r.relay.connectedStations()).toEqual([]);
    expect(r.relay.queueLengths()).toEqual({});
    expect(r.relay.metrics().refused).toBe(120);
  });
});

describe('password guessing (issue 16 #3)', () => {
  it('backs off per identity and per address, counts failures, and lets a known station in meanwhile', async () => {
    const { r } = await setup(basicSite({ handshakeLimits: { failuresPerIdentity: 3, failuresPerAddress: 1000, firstBackoffS: 60, maxBackoffS: 600 } }));
    // CP01 has connected before: its password is known to this process.
    const cp01 = await connectStation(r.port, 'CP01', { auth: `CP01:${PASSWORD}` });
    cp01.ws.terminate();
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 10; i++) outcomes.push(await attempt(r.port, '/ocpp/CP02', basic('CP02', `guess-${i}`)));
    const statuses = outcomes.map((o) => o.status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3).every((s) => s === 429)).toBe(true);
    expect(Number(outcomes[3].retryAfter)).toBeGreaterThan(30);
    // Even the right password waits out the back-off from this address…
    expect((await attempt(r.port, '/ocpp/CP02', basic('CP02', PASSWORD))).status).toBe(429);
    // …while another station (already verified) connects at once.
    expect((await attempt(r.port, '/ocpp/CP01', basic('CP01', PASSWORD))).status).toBe('open');
    const m = r.relay.metrics();
    expect(m.authFailures).toBe(3);
    expect(m.throttled).toBe(8);
  });

  it('a concurrent flood of guesses from one address runs only a few scrypt checks', async () => {
    const { r } = await setup(basicSite({ handshakeLimits: { failuresPerAddress: 5, failuresPerIdentity: 1000, firstBackoffS: 60 } }));
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => attempt(r.port, '/ocpp/CP03', basic('CP03', `guess-${i}`))));
    const failures = outcomes.filter((o) => o.status === 401).length;
    const throttled = outcomes.filter((o) => o.status === 429 || o.status === 503).length;
    expect(failures + throttled).toBe(100);
    // At most inFlightPerAddress checks run at once, and the address is blocked after 5 failures.
    expect(failures).toBeLessThanOrEqual(12);
    expect(r.relay.metrics().authFailures).toBe(failures);
    // A later guess waits (the address is blocked now).
    expect((await attempt(r.port, '/ocpp/CP03', basic('CP03', 'later'))).status).toBe(429);
  });
});

describe('identities (issue 16 #6, #12)', () => {
  it('never accepts the controller\'s own identity or a reserved id on the station port', async () => {
    const { r, csms } = await setup({ controller: { identity: 'LC01' }, stations: { allowUnknown: true, reservedIds: ['SPARE1'] } });
    expect((await attempt(r.port, '/ocpp/LC01')).status).toBe(404);
    expect((await attempt(r.port, '/ocpp/SPARE1')).status).toBe(404);
    expect((await attempt(r.port, '/ocpp/CP01')).status).toBe('open');
    await until(() => csms.requests.length === 1);
    await new Promise((res) => setTimeout(res, 50));
    expect(csms.requests.map((q) => q.url)).toEqual(['/csms/CP01']);
  });

  it('answers an unknown id exactly as a wrong password', async () => {
    const { r } = await setup(basicSite());
    const unknown = await attempt(r.port, '/ocpp/NOPE', basic('NOPE', 'x'));
    const wrong = await attempt(r.port, '/ocpp/CP01', basic('CP01', 'x'));
    expect(unknown).toEqual(wrong);
    expect(unknown.status).toBe(401);
  });

  it('refuses ids outside the one identity rule', async () => {
    const { r, csms } = await setup({ stations: { allowUnknown: true } });
    for (const id of ['a%20b', '%C3%A9t%C3%A9', '%2F', 'a%2Fb', 'x%00y', '%3Cscript%3E']) {
      expect((await attempt(r.port, `/ocpp/${id}`)).status, id).toBe(404);
    }
    expect(csms.requests).toHaveLength(0);
  });

  it('closes a socket that never sends a byte', async () => {
    const { r } = await setup({ stations: { handshakeTimeoutS: 0.3 } });
    const sock = tcpConnect(r.port, '127.0.0.1');
    sock.on('error', () => undefined);
    cleanups.push(() => { sock.destroy(); });
    const closed = await new Promise<boolean>((res) => {
      sock.once('close', () => res(true));
      setTimeout(() => res(false), 5000);
    });
    expect(closed).toBe(true);
  });
});

describe('station CALLs answered locally (issue 16 #4, #10)', () => {
  it('a second CALL with a pending message id gets a CALLERROR, never reaches the CSMS, and cannot teach the auth cache', async () => {
    const { r, csms } = await setup();
    csms.setup = (peer) => peer.handle('Authorize', async (p) => {
      await new Promise((res) => setTimeout(res, 200));
      const token = (p.idToken as { idToken: string }).idToken;
      return { idTokenInfo: { status: token === 'GOOD' ? 'Accepted' : 'Invalid' } };
    });
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    st.ws.send(JSON.stringify([2, 'dup', 'Authorize', { idToken: { idToken: 'GOOD', type: 'ISO14443' } }]));
    st.ws.send(JSON.stringify([2, 'dup', 'Authorize', { idToken: { idToken: 'EVIL', type: 'ISO14443' } }]));
    await until(() => st.received.length === 2);
    const frames = st.received.map((t) => JSON.parse(t) as unknown[]);
    expect(frames[0].slice(0, 3)).toEqual([4, 'dup', 'GenericError']);
    expect(frames[1]).toEqual([3, 'dup', { idTokenInfo: { status: 'Accepted' } }]);
    expect(csms.received.get('CP01')!.filter((t) => t.includes('Authorize'))).toHaveLength(1);
    const cache = new AuthCache(r.db);
    expect(cache.lookup({ idToken: 'EVIL', type: 'ISO14443' }, Date.now())).toBeUndefined();
    expect(cache.lookup({ idToken: 'GOOD', type: 'ISO14443' }, Date.now())?.status).toBe('Accepted');
  });

  it('answers CSMS-only actions sent by a station with NotSupported, never forwarded', async () => {
    const { r, csms } = await setup();
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    const calls: [string, Record<string, unknown>][] = [
      ['SetChargingProfile', { evseId: 0, chargingProfile: { id: 1, stackLevel: 0, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute', chargingSchedule: [{ id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 0 }] }] } }],
      ['RequestStartTransaction', { idToken: { idToken: 'X', type: 'Central' }, remoteStartId: 1 }],
      ['GetVariables', { getVariableData: [{ component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } }] }],
      ['Reset', { type: 'Immediate' }],
    ];
    for (const [i, [action, payload]] of calls.entries()) st.ws.send(JSON.stringify([2, `w${i}`, action, payload]));
    await until(() => st.received.length === calls.length);
    for (const [i, t] of st.received.entries()) expect((JSON.parse(t) as unknown[]).slice(0, 3)).toEqual([4, `w${i}`, 'NotSupported']);
    expect(csms.received.get('CP01') ?? []).toEqual([]);
  });
});

describe('wrong direction over OCPP 1.6 (issue 16 #10)', () => {
  it('answers a 1.6 station sending RemoteStartTransaction or ChangeConfiguration with NotSupported, never forwarded', async () => {
    const { r, csms } = await setup();
    const st = await connectStation(r.port, 'CP16', { protocols: ['ocpp1.6'] });
    cleanups.push(() => st.ws.terminate());
    expect(st.ws.protocol).toBe('ocpp1.6');
    await csms.connected('CP16');
    st.ws.send(JSON.stringify([2, 'r1', 'RemoteStartTransaction', { idTag: 'X' }]));
    st.ws.send(JSON.stringify([2, 'r2', 'ChangeConfiguration', { key: 'AuthorizationKey', value: '0011223344556677' }]));
    await until(() => st.received.length === 2);
    expect(st.received.map((t) => (JSON.parse(t) as unknown[]).slice(0, 3))).toEqual([[4, 'r1', 'NotSupported'], [4, 'r2', 'NotSupported']]);
    expect(csms.received.get('CP16') ?? []).toEqual([]);
  });
});

describe('floods (issue 16 #9)', () => {
  it('cuts off a station that piles up CALLs beyond its rate; the others are not affected', async () => {
    const { r, csms } = await setup({ stations: { rateLimit: { framesPerS: 10, burst: 20 } } });
    csms.setup = (peer) => peer.handle('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
    const other = await connectStation(r.port, 'CP02');
    cleanups.push(() => other.ws.terminate());
    const flood = await connectStation(r.port, 'FLOOD');
    cleanups.push(() => flood.ws.terminate());
    await csms.connected('FLOOD');
    const closed = new Promise<number>((res) => flood.ws.once('close', (code) => res(code)));
    for (let i = 0; i < 2000; i++) flood.ws.send(JSON.stringify([2, `f${i}`, 'Heartbeat', {}]));
    expect(await closed).toBe(1008);
    expect(r.relay.metrics().floodsCut).toBe(1);
    // At most the burst (plus what the rate allowed meanwhile) reached the CSMS.
    expect((csms.received.get('FLOOD') ?? []).length).toBeLessThan(100);
    expect(await other.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
  });

  it('slows a station that waits for each answer to its rate instead of cutting it off', async () => {
    const { r, csms } = await setup({ stations: { rateLimit: { framesPerS: 20, burst: 10 } } });
    csms.setup = (peer) => peer.handle('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    const start = Date.now();
    for (let i = 0; i < 50; i++) await st.peer.call('Heartbeat', {});
    // 40 frames beyond the burst at 20/s: at least ~2 s, however fast the machine.
    expect(Date.now() - start).toBeGreaterThanOrEqual(1800);
    expect(st.ws.readyState).toBe(WebSocket.OPEN);
    expect(csms.received.get('CP01')).toHaveLength(50);
    expect(r.relay.metrics().floodsCut).toBe(0);
  });

  it('one station cannot evict the others\' journal: its own oldest rows go first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-quota-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const writerThread of [false, true]) {
      const db = openDatabase(join(dir, `j-${writerThread}.sqlite`));
      const j = new Journal(db, { writerThread, maxRows: 1000, maxRowsPerStation: 100, pruneMs: writerThread ? 50 : 3_600_000 });
      const t0 = Date.now() - 60_000;
      for (let i = 0; i < 50; i++) j.record({ at: t0 + i, stationId: 'CP01', direction: 'station->csms', kind: 2, action: 'Heartbeat', messageId: `c${i}`, size: 10 });
      for (let i = 0; i < 2000; i++) j.record({ at: t0 + 1000 + i, stationId: 'FLOOD', direction: 'station->csms', kind: 2, action: 'Heartbeat', messageId: `f${i}`, size: 10 });
      const count = (id: string) => (db.prepare('SELECT COUNT(*) AS n FROM journal WHERE station_id = ?').get(id) as { n: number }).n;
      if (writerThread) {
        j.flush();
        await until(() => count('FLOOD') <= 100, 10_000);
      } else {
        j.prune(Date.now());
      }
      expect(count('FLOOD')).toBeLessThanOrEqual(100);
      expect(count('CP01')).toBe(50);
      j.close();
      db.close();
    }
  });
});
