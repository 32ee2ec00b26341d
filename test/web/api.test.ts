// The page's JSON API against a real server on an ephemeral port: login, sessions, CSRF, validation, the CONTRACT
// shapes, settings applied live and audited, sessions from TransactionEvents, CSV, history, metrics, rate limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, skip, take } from 'rxjs';
import { login, startHarness, type Harness } from './harness.js';

/** Every state-changing endpoint with a valid body. */
const CHANGES: { method: string; path: string; body: unknown }[] = [
  { method: 'PUT', path: '/api/settings/site-limit', body: { limitA: [40, 40, 40] } },
  { method: 'PUT', path: '/api/settings/circuits/boardA', body: { limitA: [20, 20, 20] } },
  { method: 'PUT', path: '/api/settings/stations/CP01', body: { priority: 2, mode: 'pv' } },
  { method: 'PUT', path: '/api/settings/site-mode', body: { mode: 'minpv' } },
  { method: 'PUT', path: '/api/settings/safe-limit', body: { limitA: [10, 10, 10] } },
  { method: 'PUT', path: '/api/stations/CP01/evses/1/needs', body: { energyWh: 20000, departureAt: new Date(Date.now() + 3_600_000).toISOString() } },
  { method: 'DELETE', path: '/api/stations/CP01/evses/1/needs', body: undefined },
  { method: 'POST', path: '/api/logout', body: {} },
];

describe('web API', () => {
  let h: Harness;
  let auth: { cookie: string; csrf: string };
  const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const authed = (method: string, path: string, body?: unknown) =>
    req(method, path, body, { cookie: auth.cookie, 'x-csrf-token': auth.csrf });

  beforeAll(async () => {
    h = await startHarness();
    auth = await login(h.url);
  });
  afterAll(async () => h.stop());

  it('login: 401 for a wrong password or unknown user, 200 + HttpOnly SameSite=Strict cookie for the right one', async () => {
    expect((await login(h.url, 'manager', 'wrong')).status).toBe(401);
    expect((await login(h.url, 'nobody', 'whatever')).status).toBe(401);
    const res = await req('POST', '/api/login', { username: 'manager', password: 'correct horse battery' });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^sc_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(((await res.json()) as { csrfToken: string }).csrfToken.length).toBeGreaterThan(20);
  });

  it('login with a malformed body is 400 with a message', async () => {
    for (const body of [{}, { username: 'manager' }, { username: '', password: 'x' }, { username: 1, password: 2 }]) {
      const res = await req('POST', '/api/login', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/username|password/);
    }
    const res = await fetch(`${h.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
  });

  it('every /api read needs a session (401)', async () => {
    for (const path of ['/api/state', '/api/settings', '/api/sessions', '/api/sessions.csv', '/api/history', '/api/audit', '/api/stations/CP01/journal', '/api/live']) {
      const res = await req('GET', path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as { message: string }).message).toMatch(/log/);
    }
    expect((await req('GET', '/api/state', undefined, { cookie: 'sc_session=forged-token-forged-token-forged' })).status).toBe(401);
    // Encoded or odd spellings of a path reach the same route and need the same session.
    for (const path of ['/%61pi/state', '/api/%73tate', '/api/state/', '/api//state', '/%61pi/settings/site-mode']) {
      expect((await req('GET', path)).status, path).not.toBe(200);
    }
    expect((await req('PUT', '/%61pi/settings/site-mode', { mode: 'pv' })).status).toBe(401);
  });

  it('every state-changing endpoint refuses without a session (401) and without the CSRF token (403)', async () => {
    for (const c of CHANGES) {
      expect((await req(c.method, c.path, c.body)).status, `${c.path} without session`).toBe(401);
      expect((await req(c.method, c.path, c.body, { cookie: auth.cookie })).status, `${c.path} without CSRF`).toBe(403);
      expect((await req(c.method, c.path, c.body, { cookie: auth.cookie, 'x-csrf-token': 'wrong' })).status, `${c.path} wrong CSRF`).toBe(403);
    }
    // Nothing was changed by the refused requests.
    const s = (await (await authed('GET', '/api/settings')).json()) as { siteLimitA: unknown; siteMode: string };
    expect(s.siteLimitA).toBeNull();
    expect(s.siteMode).toBe('fast');
    expect(h.externalLimits.every((e) => e.limitA === null)).toBe(true);
  });

  it('GET /api/state has the CONTRACT shape', async () => {
    h.grid([41, 39, 43], 28000);
    const s = (await (await authed('GET', '/api/state')).json()) as {
      site: Record<string, unknown>;
      stations: { id: string; protocol: string; connected: boolean; evses: Record<string, unknown>[] }[];
    };
    expect(s.site).toMatchObject({ limitA: [63, 63, 63], gridCurrentA: [41, 39, 43], gridPowerW: 28000, pvPowerW: 7400, batteryPowerW: -2500, batterySoc: 64, quality: 'good' });
    expect(typeof s.site.measuredAt).toBe('number');
    expect(s.stations.map((x) => x.id)).toEqual(['CP01', 'CP02', 'CP03']);
    for (const st of s.stations) {
      expect(st.connected).toBe(true);
      for (const e of st.evses) for (const k of ['id', 'status', 'transactionId', 'limitA', 'measuredCurrentA', 'controllable']) expect(e, k).toHaveProperty(k);
    }
    expect(s.stations[0].evses[0]).toMatchObject({ id: 1, status: 'Occupied', transactionId: 'tx-CP01', limitA: 31.5, controllable: true });
    expect(s.stations.map((x) => x.protocol)).toEqual(['ocpp2.0.1', 'ocpp2.0.1', 'ocpp2.0.1']);
  });

  it('shows the protocol a station connected with', async () => {
    h.connections.next({ stationId: 'CP03', side: 'station', up: true, at: Date.now(), protocol: 'ocpp1.6' });
    const s = (await (await authed('GET', '/api/state')).json()) as { stations: { id: string; protocol: string }[] };
    expect(s.stations.find((x) => x.id === 'CP03')?.protocol).toBe('ocpp1.6');
    expect(s.stations.find((x) => x.id === 'CP01')?.protocol).toBe('ocpp2.0.1');
  });

  it('bad settings input is 400 with a clear message and changes nothing', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['PUT', '/api/settings/site-limit', { limitA: [70, 40, 40] }, /above the site fuse/],
      ['PUT', '/api/settings/site-limit', { limitA: [40, 40] }, /limitA/],
      ['PUT', '/api/settings/site-limit', { limitA: [-1, 40, 40] }, /limitA/],
      ['PUT', '/api/settings/site-limit', { limitA: ['40', 40, 40] }, /limitA/],
      ['PUT', '/api/settings/site-limit', {}, /limitA/],
      ['PUT', '/api/settings/circuits/boardA', { limitA: [33, 20, 20] }, /above its fuse/],
      ['PUT', '/api/settings/stations/CP01', { priority: 1.5 }, /priority/],
      ['PUT', '/api/settings/stations/CP01', { mode: 'turbo' }, /mode/],
      ['PUT', '/api/settings/stations/CP01', {}, /fewer than 1|properties/],
      ['PUT', '/api/settings/site-mode', { mode: 'turbo' }, /mode/],
      ['PUT', '/api/settings/safe-limit', { limitA: [64, 6, 6] }, /above the site fuse/],
      ['PUT', '/api/settings/safe-limit', { limitA: null }, /limitA/],
      ['PUT', '/api/settings/site-limit', { limitA: [40, 40, 40], extra: 1 }, /additional/],
    ];
    for (const [m, p, b, msg] of cases) {
      const res = await authed(m, p, b);
      expect(res.status, `${p} ${JSON.stringify(b)}`).toBe(400);
      expect(((await res.json()) as { message: string }).message, `${p} ${JSON.stringify(b)}`).toMatch(msg);
    }
    expect((await authed('PUT', '/api/settings/circuits/nope', { limitA: [1, 1, 1] })).status).toBe(404);
    expect((await authed('PUT', '/api/settings/stations/UNKNOWN', { priority: 1 })).status).toBe(404);
    expect((await authed('GET', '/api/history?range=year')).status).toBe(400);
    expect((await authed('GET', '/api/sessions?state=maybe')).status).toBe(400);
    const s = (await (await authed('GET', '/api/settings')).json()) as { siteLimitA: unknown };
    expect(s.siteLimitA).toBeNull();
  });

  it('needs entered for a session: bound to its transaction, persisted, audited, cleared; bad input changes nothing', async () => {
    const path = '/api/stations/CP01/evses/1/needs';
    const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
    const bad: [string, unknown, number, RegExp][] = [
      [path, { energyWh: 0, departureAt: inHours(2) }, 400, /energyWh/],
      [path, { energyWh: 300_000, departureAt: inHours(2) }, 400, /energyWh/],
      [path, { energyWh: '20', departureAt: inHours(2) }, 400, /energyWh/],
      [path, { energyWh: 20_000, departureAt: 'tomorrow' }, 400, /departureAt/],
      [path, { energyWh: 20_000, departureAt: inHours(-1) }, 400, /not in the future/],
      [path, { energyWh: 20_000, departureAt: inHours(24 * 8) }, 400, /7 days/],
      [path, { energyWh: 20_000 }, 400, /departureAt/],
      [path, { energyWh: 20_000, departureAt: inHours(2), soc: 80 }, 400, /additional/],
      ['/api/stations/CP01/evses/0/needs', { energyWh: 20_000, departureAt: inHours(2) }, 400, /evseId/],
      ['/api/stations/CP03/evses/1/needs', { energyWh: 20_000, departureAt: inHours(2) }, 409, /no session on CP03 EVSE 1/],
      ['/api/stations/NOPE/evses/1/needs', { energyWh: 20_000, departureAt: inHours(2) }, 409, /no session/],
    ];
    for (const [p, b, status, msg] of bad) {
      const res = await authed('PUT', p, b);
      expect(res.status, `${p} ${JSON.stringify(b)}`).toBe(status);
      expect(((await res.json()) as { message: string }).message, `${p} ${JSON.stringify(b)}`).toMatch(msg);
    }
    expect(h.server.enteredNeeds.list()).toEqual([]);

    const departureAt = inHours(3);
    const saved = await authed('PUT', path, { energyWh: 18_000, departureAt });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toEqual({ energyWh: 18_000, departureAt, transactionId: 'tx-CP01' });
    // What the control loop reads: bound to the session running now, and who entered it.
    const entered = await firstValueFrom(h.server.enteredNeeds.needs$);
    expect(entered).toEqual([expect.objectContaining({ stationId: 'CP01', evseId: 1, transactionId: 'tx-CP01', energyWh: 18_000, departureAt: Date.parse(departureAt), enteredBy: 'manager' })]);
    const audit = (await (await authed('GET', '/api/audit')).json()) as { entries: { action: string; target: string; newValue: unknown }[] };
    expect(audit.entries.find((e) => e.action === 'session-needs')).toMatchObject({ target: 'CP01 EVSE 1', newValue: { energyWh: 18_000, departureAt } });

    expect((await authed('DELETE', path)).status).toBe(204);
    expect(h.server.enteredNeeds.list()).toEqual([]);
    expect((await authed('DELETE', path)).status).toBe(404);
  });

  it('the site limit set through the API becomes a page limit on the controller, changes allocations, persists, is audited', async () => {
    const next = firstValueFrom(h.server.settings.siteLimit$.pipe(skip(1), take(1)));
    const res = await authed('PUT', '/api/settings/site-limit', { limitA: [40, 40, 40] });
    expect(res.status).toBe(200);
    expect(await next).toEqual([40, 40, 40]);
    expect(h.externalLimits.at(-1)).toEqual({ source: { id: 'page', kind: 'Other', page: true }, limitA: [40, 40, 40] });
    const state = (await (await authed('GET', '/api/state')).json()) as { site: { limitA: number[]; limitSource: { kind: string } }; stations: { evses: { limitA: number | null }[] }[] };
    expect(state.site.limitA).toEqual([40, 40, 40]);
    expect(state.site.limitSource.kind).toBe('page');
    expect(state.stations[0].evses[0].limitA).toBe(20);
    const row = h.db.prepare("SELECT value FROM settings WHERE key = 'siteLimitA'").get() as { value: string };
    expect(JSON.parse(row.value)).toEqual([40, 40, 40]);
    const audit = (await (await authed('GET', '/api/audit')).json()) as { entries: { username: string; action: string; oldValue: unknown; newValue: unknown }[] };
    expect(audit.entries[0]).toMatchObject({ username: 'manager', action: 'site-limit', oldValue: null, newValue: [40, 40, 40] });
  });

  it('circuit limits, priorities, modes, site mode and safe limit reach settings$ and the audit log', async () => {
    for (const c of CHANGES.filter((x) => x.path.startsWith('/api/settings/') && !x.path.endsWith('site-limit'))) {
      expect((await authed(c.method, c.path, c.body)).status, c.path).toBe(200);
    }
    const s = await firstValueFrom(h.server.settings.settings$);
    expect(s.circuitLimitsA.boardA).toEqual([20, 20, 20]);
    expect(s.priorities.CP01).toBe(2);
    expect(s.modes.CP01).toBe('pv');
    expect(s.siteMode).toBe('minpv');
    expect(s.safeLimitA).toEqual([10, 10, 10]);
    const audit = (await (await authed('GET', '/api/audit')).json()) as { entries: { action: string; target: string; oldValue: unknown; newValue: unknown }[] };
    expect(audit.entries.slice(0, 4).map((e) => e.action)).toEqual(['safe-limit', 'site-mode', 'station', 'circuit-limit']);
    expect(audit.entries[2]).toMatchObject({ target: 'CP01', oldValue: { priority: 0, mode: null }, newValue: { priority: 2, mode: 'pv' } });
    expect(audit.entries[0]).toMatchObject({ oldValue: [6, 6, 6], newValue: [10, 10, 10] });
  });

  it('records sessions from TransactionEvents, masks the idToken, exports CSV', async () => {
    const t0 = Date.parse('2026-11-20T08:00:00Z');
    const ev = (eventType: string, seqNo: number, at: number, wh: number, extra: Record<string, unknown> = {}) =>
      h.calls.next({
        stationId: 'CP01', origin: 'station', messageId: `m${seqNo}`, action: 'TransactionEvent', at,
        payload: {
          eventType, timestamp: new Date(at).toISOString(), triggerReason: 'Authorized', seqNo,
          transactionInfo: { transactionId: 'TX-42', ...(eventType === 'Ended' ? { stoppedReason: 'EVDisconnected' } : {}) },
          evse: { id: 1, connectorId: 1 }, idToken: { idToken: 'RFID-0004711', type: 'ISO14443' },
          meterValue: [{ timestamp: new Date(at).toISOString(), sampledValue: [{ value: wh / 1000, unitOfMeasure: { unit: 'kWh' } }] }],
          ...extra,
        },
      });
    ev('Started', 0, t0, 1_000_000);
    ev('Updated', 1, t0 + 1800_000, 1_005_500);
    let r = (await (await authed('GET', '/api/sessions?state=active')).json()) as { sessions: Record<string, unknown>[] };
    expect(r.sessions).toHaveLength(1);
    expect(r.sessions[0]).toMatchObject({ stationId: 'CP01', evseId: 1, transactionId: 'TX-42', energyWh: 5500, active: true, idToken: '••••4711' });
    ev('Ended', 2, t0 + 3600_000, 1_011_000);
    r = (await (await authed('GET', '/api/sessions?state=past')).json()) as { sessions: Record<string, unknown>[] };
    expect(r.sessions[0]).toMatchObject({ transactionId: 'TX-42', energyWh: 11000, durationS: 3600, averagePowerW: 11000, endedAt: t0 + 3600_000, stoppedReason: 'EVDisconnected' });
    expect(JSON.stringify(r)).not.toContain('RFID-0004711');
    // Someone else's CALLs and garbage are ignored without breaking the recorder.
    h.calls.next({ stationId: 'CP01', origin: 'csms', messageId: 'x', action: 'TransactionEvent', at: t0, payload: { eventType: 'Started' } });
    h.calls.next({ stationId: 'CP01', origin: 'station', messageId: 'y', action: 'TransactionEvent', at: t0, payload: { eventType: 'Nope', transactionInfo: 5 } });
    // A running session's energy comes from the control state when it is newer than the last TransactionEvent.
    h.calls.next({ stationId: 'CP01', origin: 'station', messageId: 'z', action: 'TransactionEvent', at: Date.now(),
      payload: { eventType: 'Started', timestamp: new Date().toISOString(), triggerReason: 'CablePluggedIn', seqNo: 0, transactionInfo: { transactionId: 'tx-CP01' }, evse: { id: 1 } } });
    h.control.next({ ...h.control.value, evses: h.control.value.evses.map((e) => (e.transactionId === 'tx-CP01' ? { ...e, energyWh: 4200 } : e)) });
    const active = (await (await authed('GET', '/api/sessions?state=active&station=CP01')).json()) as { sessions: Record<string, unknown>[] };
    expect(active.sessions).toEqual([expect.objectContaining({ transactionId: 'tx-CP01', energyWh: 4200, idToken: null })]);
    const csv = await authed('GET', '/api/sessions.csv?state=past');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="sessions.csv"/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('station,evse,transactionId,idToken,start,end,durationS,energyWh,averagePowerW,stoppedReason');
    expect(lines[1]).toBe('CP01,1,TX-42,••••4711,2026-11-20T08:00:00.000Z,2026-11-20T09:00:00.000Z,3600,11000,11000,EVDisconnected');
  });

  it('journal of one station, filterable', async () => {
    const all = (await (await authed('GET', '/api/stations/CP01/journal')).json()) as { available: boolean; entries: { action: string; direction: string }[] };
    expect(all.available).toBe(true);
    expect(all.entries.map((e) => `${e.direction} ${e.action}`)).toEqual(['controller->station SetChargingProfile', 'csms->station BootNotification', 'station->csms BootNotification']);
    const r = (await (await authed('GET', '/api/stations/CP01/journal?action=BootNotification&direction=station-%3Ecsms&limit=5')).json()) as { entries: { action: string; messageId: string }[] };
    expect(r.entries).toEqual([expect.objectContaining({ action: 'BootNotification', messageId: 'm1', kind: 2, size: 120 })]);
    expect(h.journalQueries.at(-1)).toMatchObject({ stationId: 'CP01', action: 'BootNotification', direction: 'station->csms', limit: 5 });
    expect((await authed('GET', '/api/stations/CP01/journal?direction=sideways')).status).toBe(400);
    expect((await authed('GET', '/api/stations/CP01/journal?limit=-1')).status).toBe(400);
  });

  it('history is recorded and downsampled', async () => {
    await new Promise((r) => setTimeout(r, 700));
    const r = (await (await authed('GET', '/api/history?range=hour')).json()) as { t: number[]; gridL1: (number | null)[]; limitL1: (number | null)[]; stations: Record<string, unknown[]>; bucketMs: number };
    expect(r.t.length).toBeGreaterThan(0);
    expect(r.gridL1.some((v) => v !== null && v > 0)).toBe(true);
    expect(r.limitL1.at(-1)).toBe(40);
    expect(Object.keys(r.stations)).toContain('CP01');
    const week = (await (await authed('GET', '/api/history?range=week')).json()) as { bucketMs: number; t: number[] };
    expect(week.bucketMs).toBeGreaterThanOrEqual(Math.floor((7 * 24 * 3600_000) / 400));
    expect(week.t.length).toBeLessThanOrEqual(r.t.length);
  });

  it('GET /metrics is Prometheus text, extensible by other stages', async () => {
    h.server.metrics.gauge('relay_queue_messages', 'test gauge from another stage').set(7, { station: 'CP02' });
    const res = await req('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain; version=0.0.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE site_limit_amperes gauge');
    expect(text).toContain('site_limit_amperes{phase="L1"} 40');
    expect(text).toContain('grid_current_amperes{phase="L3"} 43');
    expect(text).toContain('station_connected{station="CP01"} 1');
    expect(text).toContain('relay_queue_messages{station="CP02"} 7');
    expect(text).toMatch(/web_logins_total\{result="failed"\} \d+/);
    // prom-client's process and Node runtime metrics come along.
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(text).toMatch(/nodejs_eventloop_lag_seconds \d/);
  });

  it('alarms: stale meter, not controllable, CSMS offline with queue length', async () => {
    h.readings.next({ deviceId: 'pv', at: Date.now(), quality: 'stale', values: {} });
    const s = (await (await authed('GET', '/api/state')).json()) as { alarms: { kind: string; message: string }[] };
    const kinds = s.alarms.map((a) => a.kind);
    expect(kinds).toContain('meter-stale');
    expect(kinds).toContain('not-controllable');
    expect(s.alarms.find((a) => a.kind === 'csms-offline')?.message).toMatch(/CP02.*3 messages queued/);
  });

  it('live updates arrive over SSE when a meter changes', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${h.url}/api/live`, { headers: { cookie: auth.cookie }, signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const waitFor = async (pred: (s: { site: { gridCurrentA: number[] } }) => boolean) => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = chunk.split('\n').find((l) => l.startsWith('data: '));
          if (data && pred(JSON.parse(data.slice(6)))) return;
        }
      }
    };
    await waitFor(() => true);
    h.grid([12.5, 13, 14]);
    await waitFor((s) => s.site.gridCurrentA[0] === 12.5);
    ctrl.abort();
  });

  it('logout ends the session', async () => {
    const own = await login(h.url);
    const res = await req('POST', '/api/logout', {}, { cookie: own.cookie, 'x-csrf-token': own.csrf });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/sc_session=;/);
    expect((await req('GET', '/api/state', undefined, { cookie: own.cookie })).status).toBe(401);
    expect((await authed('GET', '/api/state')).status).toBe(200);
  });
});

describe('login rate limit', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ loginRateLimit: { max: 3, timeWindowMs: 60_000 } }); });
  afterAll(async () => h.stop());

  it('answers 429 after too many attempts, even with the right password', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await login(h.url, 'manager', `guess-${i}`)).status);
    statuses.push((await login(h.url)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe('robustness', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => h.stop());

  it('a producer stream that fails does not take the server down', async () => {
    h.connections.error(new Error('relay crashed'));
    h.calls.error(new Error('relay crashed'));
    const auth = await login(h.url);
    const res = await fetch(`${h.url}/api/state`, { headers: { cookie: auth.cookie } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { stations: unknown[] }).stations).toHaveLength(3);
  });
});
