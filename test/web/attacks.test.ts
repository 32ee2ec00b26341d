// Attacks on the page's side (issue 16 #2, #7, #8, #12): each performs the attack over real HTTP and asserts what a
// user would notice.
import { afterEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect } from 'node:net';
import { csvCell } from '../../src/web/routes-data.js';
import { login, startHarness, type Harness, type HarnessOptions } from './harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});
async function harness(o: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(o);
  harnesses.push(h);
  return h;
}

/** Opens /api/live; resolves when the server ends it (or after timeoutMs with false). */
async function liveStream(h: Harness, cookie: string): Promise<{ firstEvent: Promise<void>; ended: (timeoutMs: number) => Promise<boolean> }> {
  const res = await fetch(`${h.url}/api/live`, { headers: { cookie } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let gotEvent!: () => void;
  const firstEvent = new Promise<void>((r) => (gotEvent = r));
  const done = (async () => {
    try {
      for (;;) {
        const { done: d, value } = await reader.read();
        if (d) return true;
        if (new TextDecoder().decode(value).includes('event: state')) gotEvent();
      }
    } catch {
      return true;
    }
  })();
  return {
    firstEvent,
    ended: (timeoutMs) => Promise.race([done, new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]),
  };
}

describe('the live stream ends with its session (issue 16 #7)', () => {
  it('ends at logout', async () => {
    const h = await harness();
    const s = await login(h.url);
    const live = await liveStream(h, s.cookie);
    await live.firstEvent;
    const out = await fetch(`${h.url}/api/logout`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(out.status).toBe(200);
    expect(await live.ended(5000)).toBe(true);
  });

  it('ends when the session is deleted behind its back', async () => {
    const h = await harness();
    const s = await login(h.url);
    const live = await liveStream(h, s.cookie);
    await live.firstEvent;
    h.db.prepare('DELETE FROM web_sessions').run();
    h.grid([10, 10, 10]);
    expect(await live.ended(8000)).toBe(true);
  });

  it('drops a client that stops reading instead of buffering for it', async () => {
    const h = await harness({ liveStallMs: 300 });
    const s = await login(h.url);
    const port = Number(new URL(h.url).port);
    const sock = tcpConnect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /api/live HTTP/1.1\r\nHost: x\r\nCookie: ${s.cookie}\r\n\r\n`);
    sock.pause(); // never reads a byte of the stream
    const gauge = async () => /web_live_clients (\d+)/.exec(await h.server.metrics.render())?.[1];
    const start = Date.now();
    while ((await gauge()) !== '1' && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(await gauge()).toBe('1');
    // Big snapshots, many changes: far more than the socket buffers can hold.
    const big = Array.from({ length: 200 }, (_, i) => ({ stationId: `CP01`, evseId: i + 1, controllable: true, reason: 'x'.repeat(200) }));
    for (let i = 0; i < 400 && (await gauge()) === '1'; i++) {
      h.control.next({ ...h.control.value, at: Date.now(), evses: big as never });
      await new Promise((r) => setTimeout(r, 10));
    }
    const t = Date.now();
    while ((await gauge()) !== '0' && Date.now() - t < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(await gauge()).toBe('0');
    sock.destroy();
  });
});

describe('login limits count failures only (issue 16 #8)', () => {
  it('never locks out a user who logs in often; blocks a guesser per user name and per address', async () => {
    const h = await harness({ loginRateLimit: { max: 3, timeWindowMs: 60_000 }, trustProxy: true });
    const as = (ip: string, username: string, password?: string) => fetch(`${h.url}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ username, password: password ?? 'correct horse battery' }),
    }).then((r) => r.status);
    // Twenty successful logins from the proxy's one address: never limited.
    for (let i = 0; i < 20; i++) expect(await as('10.0.0.1', 'manager')).toBe(200);
    // A guesser at 10.0.0.66 is blocked after 3 failures…
    const guesses: number[] = [];
    for (let i = 0; i < 4; i++) guesses.push(await as('10.0.0.66', 'nobody', `guess-${i}`));
    expect(guesses).toEqual([401, 401, 401, 429]);
    // …while the manager behind the same proxy, at another client address, logs in.
    expect(await as('10.0.0.2', 'manager')).toBe(200);
    // Guessing one user's password from many addresses is blocked per user name.
    const spread: number[] = [];
    for (let i = 0; i < 4; i++) spread.push(await as(`10.0.1.${i}`, 'manager', `guess-${i}`));
    expect(spread).toEqual([401, 401, 401, 429]);
  });
});

describe('station ids and exports (issue 16 #2, #12)', () => {
  it('a station id like constructor or __proto__ is a plain key; gone unknown ids leave the page', async () => {
    const h = await harness();
    const s = await login(h.url);
    for (const id of ['constructor', '__proto__', 'toString']) h.connections.next({ stationId: id, side: 'station', up: true, at: Date.now() });
    const state = (await (await fetch(`${h.url}/api/state`, { headers: { cookie: s.cookie } })).json()) as { stations: { id: string; priority: unknown; mode: unknown; queueLength: unknown }[] };
    for (const id of ['constructor', '__proto__', 'toString']) {
      expect(state.stations.find((x) => x.id === id), id).toMatchObject({ priority: 0, mode: null, queueLength: 0 });
    }
    for (const id of ['constructor', '__proto__', 'toString']) h.connections.next({ stationId: id, side: 'station', up: false, at: Date.now() });
    const after = (await (await fetch(`${h.url}/api/state`, { headers: { cookie: s.cookie } })).json()) as { stations: { id: string }[] };
    expect(after.stations.map((x) => x.id)).toEqual(['CP01', 'CP02', 'CP03']);
  });

  it('CSV cells cannot start a formula, also after a separator', () => {
    expect(csvCell('x;=1+1;')).toBe(`"x;'=1+1;"`);
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('a,@SUM(A1)')).toBe(`"a,'@SUM(A1)"`);
    expect(csvCell('+1')).toBe(`"'+1"`);
    expect(csvCell('\t-1')).toMatch(/^"'/);
    expect(csvCell('EVDisconnected')).toBe('EVDisconnected');
    expect(csvCell(-3)).toBe('-3');
  });

  it('closes a page connection that never sends a byte', async () => {
    const h = await harness({ idleTimeoutMs: 300 });
    const sock = tcpConnect(Number(new URL(h.url).port), '127.0.0.1');
    sock.on('error', () => undefined);
    const closed = await new Promise<boolean>((res) => {
      sock.once('close', () => res(true));
      setTimeout(() => res(false), 5000);
    });
    sock.destroy();
    expect(closed).toBe(true);
  });
});
