// Page users from config: passwordEnv users can log in with the password from the environment; with no usable user
// the start-up log says how to create one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { NEVER } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { createWebServer, type WebServer } from '../../src/web/server.js';

describe('page users', () => {
  let dir: string;
  let db: Db;
  let server: WebServer | undefined;
  afterEach(async () => {
    await server?.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (users: unknown[], env: NodeJS.ProcessEnv) => {
    dir = mkdtempSync(join(tmpdir(), 'web-users-'));
    const config = parseConfig({
      stations: { listen: { host: '127.0.0.1', port: 0 }, list: [] },
      upstream: { url: 'ws://127.0.0.1:1/ocpp' },
      web: { users },
      site: { limitA: [32, 32, 32] },
    });
    db = openDatabase(join(dir, 's.sqlite'));
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    server = createWebServer({
      config, db, env, log: createLogger('info', sink), port: 0,
      ports: { controlState$: NEVER, readings$: NEVER, siteLimit$: NEVER, connections$: NEVER, setExternalLimit: () => {} },
    });
    const { url } = await server.start();
    return { url, lines };
  };
  const loginStatus = async (url: string, username: string, password: string) =>
    (await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })).status;

  it('with no users, start-up says how to create one', async () => {
    const { url, lines } = await start([], {});
    expect(lines.join('')).toMatch(/site-controller hash-password/);
    expect(await loginStatus(url, 'admin', 'admin')).toBe(401);
  });

  it('a passwordEnv user logs in with the password from the environment; a missing variable is named', async () => {
    const { url, lines } = await start([{ username: 'ops', passwordEnv: 'SC_OPS_PW' }, { username: 'gone', passwordEnv: 'SC_GONE_PW' }], { SC_OPS_PW: 'from-the-env' });
    expect(await loginStatus(url, 'ops', 'from-the-env')).toBe(200);
    expect(await loginStatus(url, 'ops', 'wrong')).toBe(401);
    expect(await loginStatus(url, 'gone', '')).toBe(400);
    expect(lines.join('')).toMatch(/SC_GONE_PW is not set/);
  });
});
