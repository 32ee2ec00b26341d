#!/usr/bin/env node
// The CLI, and the only place that wires the stages together: run | demo | score | check-config | hash-password.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config, MeterConfig } from './config/types.js';
import { asyncScheduler, map, share, type Observable, type Subscription } from 'rxjs';
import { allReadings, createDevice, type DeviceOptions, type Reading } from '../drivers/index.js';
import { createLogger, resolveLogFormat, type Logger } from './common/log.js';
import { systemdReady } from './common/systemd.js';
import { createControlLoop } from './control/loop.js';
import { loadLpSolver } from './control/planner.js';
import { createControllerStation } from './controller/index.js';
import { createRelay } from './relay/index.js';
import type { SimulatedSite } from './sim/world.js';
import { openDatabase } from './store/db.js';
import { createSessionStore } from './store/sessions.js';
import { openStationNotes } from './store/station-notes.js';
import { createStations } from './stations/index.js';
import { demoForecast, wireBatteryControl, wireRecordsAndPageLimit } from './wiring.js';
import { createSettingsStore } from './store/settings.js';
import { createEnteredNeedsStore } from './store/entered-needs.js';
import { createPvForecastStore } from './store/pv-forecast.js';
import { MetricsRegistry } from './web/metrics.js';
import { registerStageMetrics } from './web/stage-metrics.js';
import { createWebServer } from './web/server.js';
import { hashPasswordSync } from './common/passwords.js';
import { FileProblemsError } from './common/yaml-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

const USAGE = `site-controller ${version} — OCPP Local Controller (2.0.1 and 1.6J)
usage:
  site-controller run --config FILE            production run
  site-controller demo [--config FILE] [--no-web]   controller + simulated site (default config/demo.yaml)
  site-controller score FILE [--json]          run a scenario on virtual time and print its score
  site-controller check-config FILE            validate a config; every problem named by its key path
  site-controller backup --config FILE OUT     online backup of the SQLite file to OUT (safe while running)
  site-controller hash-password [PASSWORD]     print a scrypt hash for a config file (reads stdin if omitted)
  site-controller --version`;

class UsageError extends Error {}

interface RunOptions { withSimulation: boolean; web: boolean }

/** Maps a configured meter onto the driver's options (passwords from the environment resolved here). */
function deviceOptions(m: MeterConfig): DeviceOptions {
  const password = m.passwordEnv ? process.env[m.passwordEnv] : m.password;
  if (m.passwordEnv && password === undefined) throw new Error(`meters: environment variable ${m.passwordEnv} (password of meter ${m.id}) is not set`);
  const { role: _role, circuit: _circuit, passwordEnv: _env, ...rest } = m;
  return { ...rest, ...(password !== undefined ? { password } : {}) };
}

/** Meters' readings in the log: quality changes at once (warn when not good), values every 10 s at info. */
function logReadings(readings$: Observable<Reading>, log: Logger): Subscription {
  const quality = new Map<string, string>();
  const lastLogged = new Map<string, number>();
  return readings$.subscribe((r) => {
    if (quality.get(r.deviceId) !== r.quality) {
      quality.set(r.deviceId, r.quality);
      (r.quality === 'good' ? log.info.bind(log) : log.warn.bind(log))({ meter: r.deviceId, quality: r.quality, reason: r.reason }, `meter ${r.deviceId} is ${r.quality}`);
    }
    if (r.quality === 'good' && r.at - (lastLogged.get(r.deviceId) ?? 0) >= 10_000) {
      lastLogged.set(r.deviceId, r.at);
      log.info({ meter: r.deviceId, values: r.values }, 'meter reading');
    }
  });
}

/** Wires relay, controller identity, drivers, control loop, store and page (and the simulated site for the demo). */
async function runController(config: Config, options: RunOptions): Promise<void> {
  // Everything this process creates (data folder, SQLite file, PKI, backups) is the service user's alone, also
  // outside the systemd unit (CLI, container): they hold idTokens, the journal and passwords the CSMS set.
  process.umask(0o077);
  const format = resolveLogFormat(config.log.format, { isTTY: process.stdout.isTTY === true, production: !options.withSimulation });
  const log = createLogger(config.log.level, undefined, format);
  const db = openDatabase(config.storage.path);
  const stops: { name: string; stop: () => Promise<void> | void }[] = [];
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'stopping');
    for (const s of stops.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, `stopping ${s.name} failed`);
      }
    }
    db.close();
    log.info('stopped; data kept in %s', config.storage.path);
    process.exit(0);
  };
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      void shutdown(sig);
    });
  }

  // The demo's world first: its CSMS and meters must be listening before the controller connects to them.
  let site: SimulatedSite | undefined;
  if (options.withSimulation) {
    const { startSimulatedSite } = await import('./sim/world.js');
    site = await startSimulatedSite({ config, log: log.child({ stage: 'sim' }) });
    const s = site;
    stops.push({ name: 'simulated site', stop: () => s.stop() });
  }

  // Loaded before the relay listens: from its start to the control loop's subscription nothing may await, or a station
  // connecting in between has its boot and transaction events pass unseen by the loop (it would never be limited).
  const lpSolver = await loadLpSolver();
  const relay = createRelay({ config, db, log: log.child({ stage: 'relay' }) });
  const { port } = await relay.start();
  stops.push({ name: 'relay', stop: () => relay.stop() });
  log.info({ port }, `stations connect to ${config.stations.tls ? 'wss' : 'ws'}://${config.stations.listen.host}:${port}/ocpp/<stationId>`);

  const controller = createControllerStation({ config, db, log: log.child({ stage: 'controller' }) });
  controller.start();
  stops.push({ name: 'controller', stop: () => controller.stop() });

  const devices = config.meters.map((m) =>
    createDevice(deviceOptions(m), { dataDir: config.storage.dataDir, log: log.child({ stage: 'drivers', meter: m.id }) }),
  );
  stops.push({ name: 'meters', stop: async () => void (await Promise.all(devices.map((d) => d.close()))) });
  const readings$ = allReadings(devices).pipe(share());
  const readingsLog = logReadings(readings$, log.child({ stage: 'drivers' }));
  stops.push({ name: 'readings log', stop: () => readingsLog.unsubscribe() });

  const settings = createSettingsStore(db, config);
  const enteredNeeds = createEnteredNeedsStore(db);
  const pvForecast = createPvForecastStore(db);
  if (site) stops.push({ name: 'demo PV forecast', stop: demoForecast(site, pvForecast, config.sim?.speed ?? 1) });
  const stations = createStations({ relay, caller: relay });
  // With or without the page: sessions are recorded, and a site limit saved on the page applies.
  const records = wireRecordsAndPageLimit({
    events$: stations.events$, sessions: createSessionStore(db), settings,
    setExternalLimit: (source, limitA) => controller.setExternalLimit(source, limitA), log: log.child({ stage: 'store' }),
  });
  stops.push({ name: 'sessions and page limit', stop: () => records.unsubscribe() });
  const control = createControlLoop({
    scheduler: asyncScheduler,
    config,
    stations,
    readings$,
    siteLimit$: controller.siteLimit$,
    settings$: settings.settings$,
    enteredNeeds$: enteredNeeds.needs$,
    pvForecast$: pvForecast.forecast$.pipe(map((f) => f?.points)),
    log: log.child({ stage: 'control' }),
    memory: openStationNotes(db),
    lpSolver,
  });
  stops.push({ name: 'control loop', stop: () => control.stop() });
  const batteryControl = wireBatteryControl(config, devices, control, log.child({ stage: 'control' }));
  stops.push({ name: 'battery control', stop: async () => batteryControl.unsubscribe() });

  const metrics = new MetricsRegistry();
  const stageMetrics = registerStageMetrics(metrics, relay, control, readings$);
  stops.push({ name: 'metrics', stop: () => stageMetrics.unsubscribe() });
  const web = createWebServer({
    config,
    db,
    log: log.child({ stage: 'web' }),
    settings,
    enteredNeeds,
    pvForecast,
    metrics,
    ports: {
      controlState$: control.state$,
      readings$,
      siteLimit$: controller.siteLimit$,
      connections$: relay.connections$,
      setExternalLimit: (source, limitA) => controller.setExternalLimit(source, limitA),
      journal: relay.journal,
      queueLengths: () => relay.queueLengths(),
      refusedMessages: () => relay.refusedMessages(20),
      connectedStations: () => relay.connectedStations(),
      upstreamConnected: (id) => relay.upstreamConnected(id),
      csmsConnected$: controller.connected$,
    },
  });
  let pageUrl: string | undefined;
  if (options.web && config.web.enabled) {
    const { url } = await web.start();
    pageUrl = url;
    stops.push({ name: 'web', stop: () => web.stop() });
    log.info({ url }, `facility manager page at ${url}`);
  }

  if (site) {
    await site.connectStations(`ws://127.0.0.1:${port}/ocpp`);
    const banner = [
      `site-controller demo is running: ${site.stations.length} stations, CSMS ${site.csmsUrl}, time x${config.sim?.speed ?? 1}`,
      ...(pageUrl ? [`  page:  ${pageUrl}   login: demo / demo-demo`] : []),
      `  stop:  Ctrl-C (data kept in ${config.storage.path})`,
    ];
    // For a person: a banner between the log lines. For a pipe or a journal: one more JSON line, nothing else.
    if (format === 'pretty') process.stdout.write(`\n${banner.join('\n')}\n\n`);
    else log.info({ page: pageUrl, login: pageUrl ? 'demo / demo-demo' : undefined, csms: site.csmsUrl }, banner.map((l) => l.trim()).join('; '));
  }
  const stopWatchdog = systemdReady();
  stops.unshift({ name: 'watchdog', stop: stopWatchdog });
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return v;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case '--version':
    case 'version':
      process.stdout.write(`site-controller ${version}\n`);
      return 0;
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'check-config': {
      const file = args[0];
      if (!file) throw new UsageError('check-config needs a FILE');
      loadConfig(file);
      process.stdout.write(`${file}: ok\n`);
      return 0;
    }
    case 'hash-password': {
      const password = args[0] ?? (await readStdin());
      if (!password) throw new UsageError('hash-password needs a password (argument or stdin)');
      process.stdout.write(`${hashPasswordSync(password)}\n`);
      return 0;
    }
    case 'backup': {
      const file = option(args, '--config');
      const out = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--config')[0];
      if (!file || !out) throw new UsageError('backup needs --config FILE and an output file');
      process.umask(0o077);
      const { backupDatabase } = await import('./store/backup.js');
      const r = await backupDatabase(loadConfig(file).storage.path, out);
      process.stdout.write(`backed up ${r.pages} pages to ${out}\n`);
      return 0;
    }
    case 'run': {
      const file = option(args, '--config');
      if (!file) throw new UsageError('run needs --config FILE');
      await runController(loadConfig(file), { withSimulation: false, web: true });
      return -1; // keeps running until a signal
    }
    case 'demo': {
      const file = option(args, '--config') ?? join(root, 'config', 'demo.yaml');
      await runController(loadConfig(file), { withSimulation: true, web: !args.includes('--no-web') });
      return -1;
    }
    case 'score': {
      const file = args.find((a) => !a.startsWith('--'));
      if (!file) throw new UsageError('score needs a scenario FILE');
      const { scoreCommand } = await import('./sim/score-cli.js');
      const lpSolver = await loadLpSolver();
      return scoreCommand(args, { controlLoopFactory: (inputs) => createControlLoop({ lpSolver, ...inputs }) });
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof FileProblemsError) {
      const what = err instanceof ConfigError ? 'invalid config' : 'invalid scenario';
      process.stderr.write(`site-controller: ${err.file ? `${err.file}: ` : ''}${what} (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
    } else if (err instanceof UsageError) {
      process.stderr.write(`site-controller: ${err.message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`site-controller: ${err instanceof Error ? err.message : String(err)}\n`);
      if (process.env.DEBUG) console.error(err);
    }
    process.exit(1);
  },
);
