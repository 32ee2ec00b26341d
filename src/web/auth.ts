// Page users, login/logout, the session cookie and the CSRF check. Sessions live in SQLite (store/web-sessions.ts);
// the cookie is HttpOnly + SameSite=Strict; every state-changing request must carry the session's CSRF token in
// the X-CSRF-Token header (synchronizer pattern: the page gets it from /api/login or /api/session, never from a cookie).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../common/log.js';
import { FailureLimiter } from '../common/failure-limiter.js';
import { hashPasswordSync, isPasswordHash, verifyPassword } from '../common/passwords.js';
import type { WebConfig } from '../config/types.js';
import type { AuditLog } from '../store/audit.js';
import type { WebSession, WebSessionStore } from '../store/web-sessions.js';
import type { Counter } from './metrics.js';

export const SESSION_COOKIE = 'sc_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    webSession?: WebSession;
  }
}

/** username → scrypt hash, from web.users (passwordEnv read now and hashed, so every check is the same work). */
export function loadUsers(web: WebConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const users = new Map<string, string>();
  for (const u of web.users) {
    if (u.passwordHash) {
      if (!isPasswordHash(u.passwordHash)) log.warn({ username: u.username }, 'web user has a malformed passwordHash; cannot log in');
      else users.set(u.username, u.passwordHash);
    } else if (u.passwordEnv) {
      const pw = env[u.passwordEnv];
      if (!pw) log.warn({ username: u.username, env: u.passwordEnv }, `web user ${u.username}: environment variable ${u.passwordEnv} is not set; cannot log in`);
      else users.set(u.username, hashPasswordSync(pw));
    } else {
      log.warn({ username: u.username }, `web user ${u.username} has neither passwordHash nor passwordEnv; cannot log in`);
    }
  }
  if (users.size === 0) {
    log.warn(
      'no page users can log in: create a password hash with `npx site-controller hash-password` and add ' +
        '{ username: admin, passwordHash: "scrypt$..." } under web.users in the config (or { username: admin, passwordEnv: SC_ADMIN_PASSWORD })',
    );
  }
  return users;
}

const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuthOptions {
  users: Map<string, string>;
  sessions: WebSessionStore;
  audit: AuditLog;
  /** Failed logins allowed per client address and per user name within the window, before a back-off. */
  loginRateLimit: { max: number; timeWindowMs: number };
  logins: Counter;
  log: Logger;
  /** A session ended by logout (its live streams end with it). */
  sessionEnded?: (token: string) => void;
  now?: () => number;
}

/** Paths that need no session. Everything else under /api does. */
const PUBLIC = new Set(['/api/login', '/api/session']);

export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  // A hash to check unknown usernames against, so their answer takes as long as a wrong password.
  const dummyHash = hashPasswordSync('not-a-user-password');
  // Only failures count, per client address and per user name: behind a reverse proxy (web.trustProxy) every user
  // may share one address, and a facility manager who logs in often must never lock anyone out. A blocked key waits
  // one window, doubling with every further failure (at most 16 windows).
  const w = opts.loginRateLimit;
  const limiter = () => new FailureLimiter({
    maxFailures: w.max, windowMs: w.timeWindowMs, baseBlockMs: w.timeWindowMs, maxBlockMs: 16 * w.timeWindowMs, maxKeys: 10_000,
    now: opts.now ?? Date.now,
  });
  const byAddress = limiter();
  const byUser = limiter();

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // Decide on the route the router matched, never on the raw URL: "/%61pi/state" is routed to /api/state.
    const route = req.routeOptions.url;
    if (!route || !route.startsWith('/api/') || PUBLIC.has(route)) return;
    const token = req.cookies[SESSION_COOKIE];
    const session = token ? opts.sessions.get(token) : undefined;
    if (!session) {
      return reply.code(401).send({ error: 'Unauthorized', message: 'not logged in (or the session expired): POST /api/login first' });
    }
    if (STATE_CHANGING.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !safeEqual(sent, session.csrfToken)) {
        return reply.code(403).send({ error: 'Forbidden', message: 'missing or wrong CSRF token (X-CSRF-Token header)' });
      }
    }
    req.webSession = session;
  });

  app.post<{ Body: { username: string; password: string } }>('/api/login', {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
    },
  }, async (req, reply) => {
    const { username, password } = req.body;
    const waitMs = Math.max(byAddress.blockedForMs(req.ip), byUser.blockedForMs(username));
    if (waitMs > 0) {
      opts.logins.inc(1, { result: 'throttled' });
      return reply.code(429).header('retry-after', String(Math.ceil(waitMs / 1000)))
        .send({ error: 'Too Many Requests', message: `too many failed logins; try again in ${Math.ceil(waitMs / 1000)} s` });
    }
    const hash = opts.users.get(username);
    const ok = await verifyPassword(password, hash ?? dummyHash);
    if (!hash || !ok) {
      byAddress.fail(req.ip);
      byUser.fail(username);
      opts.logins.inc(1, { result: 'failed' });
      opts.log.warn({ username, ip: req.ip }, 'page login failed');
      return reply.code(401).send({ error: 'Unauthorized', message: 'wrong username or password' });
    }
    byAddress.succeed(req.ip);
    byUser.succeed(username);
    // A new login does not end the user's other sessions: a manager may be logged in on a desk PC and a phone at
    // once. Logout ends only its own session; deleting a user's rows in web_sessions ends them all (docs/web.md).
    const { token, session } = opts.sessions.create(username);
    opts.logins.inc(1, { result: 'ok' });
    opts.audit.record({ username, action: 'login', target: req.ip, oldValue: null, newValue: null });
    reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https' });
    return { username, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
  });

  app.post('/api/logout', async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) {
      opts.sessions.destroy(token);
      opts.sessionEnded?.(token);
    }
    opts.audit.record({ username: req.webSession?.username ?? '?', action: 'logout', target: req.ip, oldValue: null, newValue: null });
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
    return { ok: true };
  });

  // Whether the browser has a session, without a 401 (the page asks this on load, before showing the login form).
  app.get('/api/session', async (req) => {
    const token = req.cookies[SESSION_COOKIE];
    const s = token ? opts.sessions.get(token) : undefined;
    return s ? { authenticated: true, username: s.username, csrfToken: s.csrfToken, expiresAt: s.expiresAt } : { authenticated: false };
  });
}
