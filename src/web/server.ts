// The facility manager's web server: JSON API, live updates, /metrics and the page's static files, on
// web.host:web.port. main.ts builds it with createWebServer and the ports (ports.ts) of the other stages.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { asyncScheduler, type Subscription } from 'rxjs';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/types.js';
import { createAuditLog, type AuditLog } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { createHistoryStore, startHistoryRecorder, type HistoryStore } from '../store/history.js';
import { createSessionStore, type SessionStore } from '../store/sessions.js';
import { createSettingsStore, type SettingsStore } from '../store/settings.js';
import { createWebSessionStore, type WebSessionStore } from '../store/web-sessions.js';
import { loadUsers, registerAuth } from './auth.js';
import { createSiteView, type SiteView } from './live.js';
import { MetricsRegistry } from './metrics.js';
import { registerSiteMetrics } from './site-metrics.js';
import type { WebPorts } from './ports.js';
import { registerDataRoutes } from './routes-data.js';
import { registerSettingsRoutes } from './routes-settings.js';
import { registerNeedsRoutes } from './routes-needs.js';
import { createEnteredNeedsStore, type EnteredNeedsStore } from '../store/entered-needs.js';
import { registerForecastRoutes } from './routes-forecast.js';
import { createPvForecastStore, type PvForecastStore } from '../store/pv-forecast.js';

export interface WebServerOptions {
  config: Config;
  db: Db;
  ports: WebPorts;
  log: Logger;
  /** The settings store the control loop reads settings$ from; created here when main.ts does not pass one. */
  settings?: SettingsStore;
  /** The needs entered for sessions, which the control loop reads needs$ from; created here when main.ts does not pass one. */
  enteredNeeds?: EnteredNeedsStore;
  /** The PV forecast the integrator pushes in, which the session planner reads forecast$ from; created here when main.ts does not pass one. */
  pvForecast?: PvForecastStore;
  /** A registry shared with other stages; a new one when absent. */
  metrics?: MetricsRegistry;
  /** History sampling period (ms); default 10 s. */
  historyIntervalMs?: number;
  /** Failed logins allowed per client address and per user name and window; default 10 per minute. */
  loginRateLimit?: { max: number; timeWindowMs: number };
  /** Minimum time between live pushes (ms); default 250. */
  liveThrottleMs?: number;
  /** A live stream whose client does not read for this long is dropped (ms); default 30 000. */
  liveStallMs?: number;
  /** A connection that sends no complete request for this long is closed (ms); default 30 000. */
  idleTimeoutMs?: number;
  /** Overrides web.host / web.port (tests use port 0). */
  host?: string;
  port?: number;
  /** Environment for users' passwordEnv (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface WebServer {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  readonly settings: SettingsStore;
  readonly enteredNeeds: EnteredNeedsStore;
  readonly pvForecast: PvForecastStore;
  readonly sessions: SessionStore;
  readonly history: HistoryStore;
  readonly audit: AuditLog;
  readonly metrics: MetricsRegistry;
  readonly view: SiteView;
  /** The fastify instance (tests use inject()). */
  readonly app: FastifyInstance;
}

const here = dirname(fileURLToPath(import.meta.url));

/** src/web/public, also when running from dist/src/web (tsc does not copy the page's files). */
export function publicDir(): string {
  const candidates = [join(here, 'public'), resolve(here, '..', '..', '..', 'src', 'web', 'public')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`the page's files are missing (looked in ${candidates.join(', ')})`);
  return found;
}

function uplotDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function createWebServer(options: WebServerOptions): WebServer {
  const { config, db, ports, log } = options;
  const scheduler = ports.scheduler ?? asyncScheduler;
  const now = () => scheduler.now();
  const settings = options.settings ?? createSettingsStore(db, config, now);
  const audit = createAuditLog(db, now);
  const enteredNeeds = options.enteredNeeds ?? createEnteredNeedsStore(db);
  const pvForecast = options.pvForecast ?? createPvForecastStore(db);
  const sessions = createSessionStore(db);
  const history = createHistoryStore(db);
  const webSessions: WebSessionStore = createWebSessionStore(db, { now });
  const metrics = options.metrics ?? new MetricsRegistry();
  const view = createSiteView(config, { ...ports, pvForecast$: pvForecast.forecast$ }, scheduler, () => settings.current().control, (stream, err) => log.error({ err, stream }, 'a stream the page reads failed'));
  const users = loadUsers(config.web, log, options.env);
  const stoppers: (() => void)[] = [];
  const subs: Subscription[] = [];

  const app = Fastify({
    logger: false,
    // Behind a reverse proxy the client's address comes from X-Forwarded-For (login limits count per real client).
    trustProxy: config.web.trustProxy,
    // A socket that never sends a (complete) request is closed: an unauthenticated peer cannot hold it for minutes.
    // Open live streams are not affected (they are hijacked, and their keep-alive writes count as activity).
    connectionTimeout: options.idleTimeoutMs ?? 30_000,
    requestTimeout: options.idleTimeoutMs ?? 30_000,
    forceCloseConnections: true,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  const liveClients = metrics.gauge('web_live_clients', 'Open live-update streams of the page');
  const logins = metrics.counter('web_logins_total', 'Page login attempts by result');
  const changes = metrics.counter('web_settings_changes_total', 'Settings changed on the page, by setting');
  registerSiteMetrics(metrics, view);

  let ready: Promise<void> | undefined;
  const setup = async () => {
    await app.register(fastifyCookie);
    app.addHook('onSend', async (_req, reply, payload) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
      return payload;
    });
    app.setErrorHandler((err: FastifyError, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) {
        log.error({ err, url: req.url }, 'web request failed');
        return reply.code(500).send({ error: 'Internal Server Error', message: 'the request failed; see the controller log' });
      }
      return reply.code(status).send({ error: status === 429 ? 'Too Many Requests' : 'Bad Request', message: err.message });
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

    let endSessionStreams: (token: string) => void = () => undefined;
    registerAuth(app, {
      users, sessions: webSessions, audit, loginRateLimit: options.loginRateLimit ?? { max: 10, timeWindowMs: 60_000 }, logins, log,
      sessionEnded: (token) => endSessionStreams(token),
    });
    registerDataRoutes(app, {
      config, view, sessions, history, audit, journal: ports.journal, scheduler, liveClients,
      liveThrottleMs: options.liveThrottleMs ?? 250, onStop: (fn) => stoppers.push(fn),
      sessionValid: (token) => token !== '' && webSessions.get(token) !== undefined,
      onSessionEnd: (fn) => { endSessionStreams = fn; },
      ...(options.liveStallMs !== undefined ? { liveStallMs: options.liveStallMs } : {}),
    });
    registerSettingsRoutes(app, { config, settings, audit, changes, seenStations: () => view.snapshot().stations.map((s) => s.id) });
    registerNeedsRoutes(app, { view, needs: enteredNeeds, audit, changes, now });
    registerForecastRoutes(app, { forecast: pvForecast, audit, changes, now });
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.render();
    });
    await app.register(fastifyStatic, { root: uplotDir(), prefix: '/vendor/uplot/', decorateReply: false, index: false });
    await app.register(fastifyStatic, { root: publicDir(), prefix: '/', index: ['index.html'] });
  };

  return {
    app, settings, enteredNeeds, pvForecast, sessions, history, audit, metrics, view,
    async start() {
      ready ??= setup();
      await ready;
      subs.push(startHistoryRecorder(history, {
        intervalMs: options.historyIntervalMs ?? 10_000, scheduler, sample: () => view.historySample(),
        onError: (err) => log.error({ err }, 'history sample failed'),
      }));
      const host = options.host ?? config.web.host;
      const port = options.port ?? config.web.port;
      const address = await app.listen({ host, port });
      webSessions.purge();
      const url = address.replace('[::1]', 'localhost');
      log.info({ url }, 'page listening');
      return { url };
    },
    async stop() {
      for (const s of subs.splice(0)) s.unsubscribe();
      for (const fn of stoppers.splice(0)) fn();
      await app.close();
      view.stop();
    },
  };
}
