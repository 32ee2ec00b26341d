// The PV forecast pushed in over the API, against a real server on an ephemeral port: a session and the CSRF token
// are required, bad forecasts are 400 with a message naming the problem and store nothing, a good one is stored,
// read back, audited and deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startHarness, type Harness } from './harness.js';
import { MAX_FORECAST_POINTS } from '../../src/web/routes-forecast.js';

const PATH = '/api/forecast/pv';
const H = 3_600_000;

describe('PV forecast API', () => {
  let h: Harness;
  let auth: { cookie: string; csrf: string };
  const req = (method: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.url}${PATH}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const authed = (method: string, body?: unknown) => req(method, body, { cookie: auth.cookie, 'x-csrf-token': auth.csrf });
  /** A whole hour from now, so the ISO strings round-trip unchanged. */
  const hour0 = Math.ceil(Date.now() / H) * H;
  const at = (hours: number) => new Date(hour0 + hours * H).toISOString();
  const points = (fromHour: number, n: number, stepHours = 1) =>
    Array.from({ length: n }, (_, i) => ({ at: at(fromHour + i * stepHours), w: 1000 * i }));

  beforeAll(async () => {
    h = await startHarness();
    auth = await login(h.url);
  });
  afterAll(async () => h.stop());

  it('refuses without a session (401) and without the CSRF token (403), and stores nothing', async () => {
    const good = { points: points(0, 4) };
    for (const method of ['GET', 'DELETE']) expect((await req(method)).status, method).toBe(401);
    const res = await req('PUT', good);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/log/);
    expect((await req('PUT', good, { cookie: 'sc_session=forged-token-forged-token-forged' })).status).toBe(401);
    expect((await req('PUT', good, { cookie: auth.cookie })).status).toBe(403);
    expect((await req('DELETE', undefined, { cookie: auth.cookie, 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect(h.server.pvForecast.current()).toBeUndefined();
  });

  it('bad forecasts are 400 with a message naming the problem and store nothing', async () => {
    const bad: [string, unknown, RegExp][] = [
      ['times not increasing', { points: [...points(0, 3), { at: at(1), w: 5 }] }, /points\[3\]\.at .* not after points\[2\]\.at/],
      ['a repeated time', { points: [{ at: at(1), w: 1 }, { at: at(1), w: 2 }] }, /points\[1\]\.at .*strictly increasing/],
      ['all in the past', { points: points(-30, 5) }, /not in the future/],
      ['starting more than 7 days ahead', { points: points(24 * 7 + 2, 3) }, /more than 7 days ahead/],
      ['spanning more than 8 days', { points: points(0, 10, 24) }, /more than 8 days/],
      ['a missing w', { points: [{ at: at(1), w: 5 }, { at: at(2) }] }, /points\/1 must have required property 'w'/],
      ['a negative w', { points: [{ at: at(1), w: -5 }, { at: at(2), w: 0 }] }, /points\/0\/w must be >= 0/],
      ['a w as a string', { points: [{ at: at(1), w: '5' }, { at: at(2), w: 0 }] }, /points\/0\/w must be number/],
      ['a time that is no date', { points: [{ at: 'tomorrow', w: 5 }, { at: at(2), w: 0 }] }, /points\/0\/at must match format "date-time"/],
      ['too many points', { points: Array.from({ length: MAX_FORECAST_POINTS + 1 }, (_, i) => ({ at: new Date(hour0 + i * 60_000).toISOString(), w: 0 })) }, /points must NOT have more than 2000 items/],
      ['one point', { points: points(0, 1) }, /points must NOT have fewer than 2 items/],
      ['no points', {}, /must have required property 'points'/],
      ['an extra field in a point', { points: [{ at: at(1), w: 5, kind: 'p50' }, { at: at(2), w: 0 }] }, /additional/],
      ['an extra field', { points: points(0, 3), site: 'x' }, /additional/],
    ];
    for (const [what, body, msg] of bad) {
      const res = await authed('PUT', body);
      expect(res.status, what).toBe(400);
      expect(await res.json(), what).toMatchObject({ error: 'Bad Request', message: expect.stringMatching(msg) });
    }
    expect(h.server.pvForecast.current()).toBeUndefined();
    const none = await authed('GET');
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ error: 'Not Found', message: 'no PV forecast is set' });
  });

  it('takes a forecast of the most points allowed, even pretty-printed', async () => {
    const full = Array.from({ length: MAX_FORECAST_POINTS }, (_, i) => ({ at: new Date(hour0 + i * 5 * 60_000).toISOString(), w: 1234567.891 + i }));
    const body = JSON.stringify({ points: full }, null, 2);
    expect(body.length).toBeGreaterThan(64 * 1024);
    const res = await fetch(`${h.url}${PATH}`, { method: 'PUT', headers: { 'content-type': 'application/json', cookie: auth.cookie, 'x-csrf-token': auth.csrf }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ points: MAX_FORECAST_POINTS, from: full[0].at, to: full[MAX_FORECAST_POINTS - 1].at });
    expect((await authed('DELETE')).status).toBe(204);
  });

  it('a good forecast is stored, read back, audited, replaced and deleted', async () => {
    // It may start in the past (today's earlier hours) as long as it reaches into the future.
    const sent = points(-6, 30);
    const saved = await authed('PUT', { points: sent });
    expect(saved.status).toBe(200);
    expect(await saved.json()).toEqual({ points: 30, from: at(-6), to: at(23) });

    // What the session planner reads: epoch ms, who set it.
    expect(h.server.pvForecast.current()).toMatchObject({ points: sent.map((p) => ({ at: Date.parse(p.at), w: p.w })), setBy: 'manager' });
    const got = await authed('GET');
    expect(got.status).toBe(200);
    const body = (await got.json()) as { points: unknown; setBy: string; setAt: string };
    expect(body.points).toEqual(sent);
    expect(body.setBy).toBe('manager');
    expect(Math.abs(Date.parse(body.setAt) - Date.now())).toBeLessThan(60_000);

    const replaced = await authed('PUT', { points: points(1, 3) });
    expect(await replaced.json()).toEqual({ points: 3, from: at(1), to: at(3) });

    type Entry = { username: string; action: string; target: string; oldValue: unknown; newValue: unknown };
    const entries = async () => ((await (await fetch(`${h.url}/api/audit`, { headers: { cookie: auth.cookie } })).json()) as { entries: Entry[] }).entries
      .filter((e) => e.action === 'pv-forecast');
    expect((await entries()).slice(0, 2)).toEqual([
      expect.objectContaining({ username: 'manager', target: 'site', oldValue: { points: 30, from: at(-6), to: at(23) }, newValue: { points: 3, from: at(1), to: at(3) } }),
      expect.objectContaining({ username: 'manager', target: 'site', oldValue: null, newValue: { points: 30, from: at(-6), to: at(23) } }),
    ]);

    expect((await authed('DELETE')).status).toBe(204);
    expect(h.server.pvForecast.current()).toBeUndefined();
    expect((await authed('GET')).status).toBe(404);
    const again = await authed('DELETE');
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: 'Not Found', message: 'no PV forecast is set' });
    expect((await entries())[0]).toMatchObject({ target: 'site', oldValue: { points: 3, from: at(1), to: at(3) }, newValue: null });
    expect(await entries()).toHaveLength(5);
  });
});
