// The demo world: the simulated site around a running controller. A CSMS the controller's upstream sockets connect to,
// stations speaking OCPP 2.0.1 over real sockets to the controller's station port, EVs arriving and leaving by the
// scenario, and the simulated Modbus TCP / OPC UA devices (src/sim/devices) publishing the site physics. Time in the
// world (EVs, base loads, PV, energy) runs `sim.speed` times faster than the injected scheduler's clock; the stations'
// and the CSMS's clocks keep the scheduler's time (plus a station's configured offset), as real ones set from the CSMS
// do, so the limits the controller sends are in force for as long as it means them to be (docs/sim.md).
//
// Wiring (main.ts): `const site = await startSimulatedSite({ config, log })` before the controller starts (the CSMS and
// the meters must be there; ports given as 0 in config are bound now and written back into `config`), then start the
// controller, then `await site.connectStations(stationUrl)`; `await site.stop()` on shutdown.
import { join } from 'node:path';
import { asyncScheduler, interval, type SchedulerLike, type Subscription } from 'rxjs';
import { silentLogger, type Logger } from '../common/log.js';
import type { Config, MeterConfig } from '../config/types.js';
import { SimModbusSite } from './devices/modbus-site.js';
import { SimOpcUaSite } from './devices/opcua-site.js';
import { SiteModel } from './devices/site-model.js';
import { SimCsms } from './csms.js';
import { parseScenario, loadScenario } from './scenario.js';
import type { EvSpec, Scenario } from './scenario-types.js';
import { SiteSim, type SiteSnapshot } from './site-sim.js';
import { forecastPoints, pvForecastFn } from './physics/site.js';
import { VIRTUAL_EPOCH } from './virtual-time.js';
import { WsStation } from './ws-station.js';

export interface SimulatedSiteOptions {
  config: Config;
  /** Real-time clock of the world's ticks (default asyncScheduler). */
  scheduler?: SchedulerLike;
  log?: Logger;
  /** The scenario to follow; default config.sim.scenario, else one derived from the configured stations. */
  scenario?: Scenario;
  /** Virtual seconds per real second; default config.sim.speed, else 1. */
  speed?: number;
  /** Real ms between physics ticks (default 250). */
  tickMs?: number;
  /** Folder for the OPC UA server's PKI (default <storage.dataDir>/sim-opcua-pki). */
  pkiDir?: string;
  /** Basic-auth passwords of the simulated stations, by id (when stations.auth is basic). */
  stationPasswords?: Record<string, string>;
  /** Offset of a station's own clock from real time (s, ahead positive), by station id; default 0. */
  stationClockOffsetS?: Record<string, number>;
  /** When set, the CSMS sets this site limit (A per phase) on the controller's identity after it boots. */
  csmsSiteLimitA?: number;
}

export interface SimulatedSite {
  scenario: Scenario;
  csms: SimCsms;
  /** Base URL of the simulated CSMS (what config.upstream.url must be). */
  csmsUrl: string;
  modbus: SimModbusSite[];
  opcua?: SimOpcUaSite;
  sim: SiteSim;
  stations: WsStation[];
  /** Connects every station to `url` (ws://host:port/ocpp); resolves when all have connected once, or after
   * `timeoutMs` (default 10 s, real time) with a warning naming those that have not (they keep retrying). */
  connectStations(url?: string, timeoutMs?: number): Promise<void>;
  /** Virtual time now (epoch ms). */
  now(): number;
  /** The PV forecast for the next `hours` of the world (default 24), in real time, as a site's integrator would push
   * it in (pvForecastFn: the sky without its passing clouds); undefined without PV. */
  pvForecast(hours?: number): { at: number; w: number }[] | undefined;
  last(): SiteSnapshot | undefined;
  stop(): Promise<void>;
}

const isLocal = (host: string | undefined) => host === undefined || host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '0.0.0.0';

/** A scenario for a config without one: its stations, a home/office mix, a few EVs per station through the day. */
export function scenarioFromConfig(config: Config, seed = config.sim?.seed ?? 1): Scenario {
  return parseScenario({
    name: 'demo',
    duration: '24h',
    seed,
    site: { limitA: config.site.limitA, voltage: config.site.voltage },
    baseLoad: { shape: 'office', peakA: config.site.limitA.map((a) => Math.round(a * 0.35)) },
    circuits: config.site.circuits.map((c) => ({ id: c.id, limitA: c.limitA, ...(c.parent ? { parent: c.parent } : {}) })),
    chargers: config.stations.list.map((s) => ({ id: s.id, ...(s.circuit ? { circuit: s.circuit } : {}), phases: s.phases, maxA: s.maxA, rotation: s.rotation, reactionS: 3, ...(s.protocol ? { protocol: s.protocol } : {}) })),
    evs: { random: { count: Math.max(1, config.stations.list.length * 3), seed, arrive: ['06:30', '20:00'], stayH: [1, 5] } },
  });
}

/**
 * The protocol each simulated station speaks: `stations.list[].protocol` of the config when given (the demo's mixed
 * fleet is configured there), else the scenario's `chargers[].protocol`.
 */
export function withConfiguredProtocols(s: Scenario, config: Config): Scenario {
  const configured = new Map(config.stations.list.filter((x) => x.protocol).map((x) => [x.id, x.protocol]));
  if (configured.size === 0) return s;
  return { ...s, chargers: s.chargers.map((c) => (configured.has(c.id) ? { ...c, protocol: configured.get(c.id) } : c)) };
}

/** Shifts a scenario so that `offsetMs` after its 00:00 falls on real time `at`. */
function shifted(s: Scenario, at: number, offsetMs: number): Scenario {
  const delta = at - offsetMs - s.startAt;
  return { ...s, startAt: s.startAt + delta, evs: s.evs.map((e) => ({ ...e, arriveAt: e.arriveAt + delta, departAt: e.departAt + delta })) };
}

export async function startSimulatedSite(opts: SimulatedSiteOptions): Promise<SimulatedSite> {
  const { config } = opts;
  const log = opts.log ?? silentLogger;
  const scheduler = opts.scheduler ?? asyncScheduler;
  const speed = opts.speed ?? config.sim?.speed ?? 1;
  const tickMs = opts.tickMs ?? 250;
  const base = withConfiguredProtocols(opts.scenario ?? (config.sim?.scenario ? loadScenario(config.sim.scenario, VIRTUAL_EPOCH) : scenarioFromConfig(config)), config);
  // Start one virtual minute before the first EV arrives, and let that moment be now on the real clock.
  const firstArrival = base.evs.length ? Math.min(...base.evs.map((e) => e.arriveAt)) - base.startAt : 0;
  const startOffset = Math.max(0, firstArrival - 60_000);
  const realStart = scheduler.now();
  const scenario = shifted(base, realStart, startOffset);
  const simStart = scenario.startAt + startOffset;
  const now = () => simStart + (scheduler.now() - realStart) * speed;
  /** A station's clock at world time t: the real time of that moment, plus the station's offset. */
  const stationClock = (offsetS: number) => (t: number) => realStart + (t - simStart) / speed + offsetS * 1000;

  const resources: { stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const r of resources.reverse()) await r.stop().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'simulated site: stop failed'));
  };
  try {
    // The CSMS, on the port of upstream.url when it points here (0 = any free port, written back into config).
    const up = new URL(config.upstream.url);
    const csms = new SimCsms({ host: isLocal(up.hostname) ? '127.0.0.1' : up.hostname, port: Number(up.port || 0), log, now: () => scheduler.now() });
    await csms.start();
    resources.push({ stop: () => csms.stop() });
    up.port = String(csms.port);
    config.upstream.url = up.toString().replace(/\/$/, '');
    const csmsUrl = config.upstream.url;

    // The site's devices: one SimModbusSite per Modbus port (grid meter, PV inverter and battery share the grid's),
    // one per sub-board meter, and an OPC UA server when a meter reads one.
    const model = new SiteModel();
    const boardModels = new Map<string, SiteModel>();
    const modbus: SimModbusSite[] = [];
    const byPort = new Map<number, MeterConfig[]>();
    for (const m of config.meters) {
      if (m.driver !== 'modbus-tcp' || !isLocal(m.host) || m.port === undefined) continue;
      byPort.set(m.port, [...(byPort.get(m.port) ?? []), m]);
    }
    const servers: { meters: MeterConfig[]; site: SimModbusSite }[] = [];
    for (const [port, meters] of byPort) {
      const sub = meters.find((m) => m.role === 'sub');
      const unit = (role: MeterConfig['role']) => meters.find((m) => m.role === role)?.unitId;
      if (sub && meters.some((m) => m.role !== 'sub')) log.warn({ port }, 'simulated site: a sub-board meter needs its own port; it reads the grid model here');
      const m = sub && sub.circuit && !meters.some((x) => x.role !== 'sub') ? (boardModels.get(sub.circuit) ?? new SiteModel()) : model;
      if (sub?.circuit && m !== model) boardModels.set(sub.circuit, m);
      const site = new SimModbusSite(m, { host: '127.0.0.1', port, units: { meter: unit('grid') ?? sub?.unitId ?? 1, inverter: unit('pv') ?? 2, battery: unit('battery') ?? 3 } });
      await site.start();
      resources.push({ stop: () => site.close() });
      modbus.push(site);
      servers.push({ meters, site });
    }
    for (const { meters, site } of servers) for (const m of meters) if (m.port === 0) m.port = site.port;
    let opcua: SimOpcUaSite | undefined;
    const uaMeters = config.meters.filter((m) => m.driver === 'opcua' && m.endpoint && isLocal(new URL(m.endpoint.replace(/^opc\.tcp/, 'http')).hostname));
    if (uaMeters.length) {
      const port = Number(new URL(uaMeters[0].endpoint!.replace(/^opc\.tcp/, 'http')).port || 0);
      opcua = new SimOpcUaSite(model, { pkiDir: opts.pkiDir ?? join(config.storage.dataDir, 'sim-opcua-pki'), port, host: '127.0.0.1' });
      await opcua.start();
      const ua = opcua;
      resources.push({ stop: () => ua.stop() });
      for (const m of uaMeters) m.endpoint = ua.endpoint;
    }

    // The physics and the stations.
    const stations: WsStation[] = [];
    const byId = new Map<string, WsStation>();
    const sim = new SiteSim(scenario, {
      send: (id, action, payload) => byId.get(id)?.send(action, payload),
      clock: (id) => stationClock(opts.stationClockOffsetS?.[id] ?? 0),
    });
    for (const st of sim.stations.values()) {
      const ws = new WsStation(st, { url: '', now, log, password: opts.stationPasswords?.[st.spec.id] });
      stations.push(ws);
      byId.set(st.spec.id, ws);
    }
    resources.push({ stop: async () => void (await Promise.all(stations.map((s) => s.stop()))) });

    let t = simStart;
    let cycle = 0;
    sim.step(t, 0);
    const publish = (snap: SiteSnapshot) => {
      const g = snap.nodes[0];
      model.setGrid({
        currentsA: g.currentA.map((a) => Math.abs(a)) as [number, number, number],
        phasePowersW: g.currentA.map((a) => a * scenario.site.voltage) as [number, number, number],
        powerW: snap.gridW,
        importWh: snap.importWh,
        exportWh: snap.exportWh,
      });
      if (scenario.pv) model.setPv({ powerW: snap.pvW, ratedW: scenario.pv.peakW });
      if (scenario.battery && snap.batterySoc !== undefined) {
        model.setBattery({ socPct: snap.batterySoc * 100, powerW: snap.batteryW, maxChargeW: scenario.battery.maxW, maxDischargeW: scenario.battery.maxW, capacityWh: scenario.battery.capacityWh });
      }
      for (const n of snap.nodes.slice(1)) {
        const bm = boardModels.get(n.id);
        if (bm) bm.setGrid({ currentsA: n.currentA.map((a) => Math.abs(a)) as [number, number, number], powerW: (n.currentA[0] + n.currentA[1] + n.currentA[2]) * scenario.site.voltage });
      }
    };
    publish(sim.last!);
    // The battery follows a discharge limit the controller writes to it (SunSpec model 124), as a real one would.
    const batterySite = servers.find((x) => x.meters.some((m) => m.role === 'battery'))?.site;
    const tick: Subscription = interval(tickMs, scheduler).subscribe(() => {
      const target = now();
      if (sim.battery && batterySite) sim.battery.dischargeLimitW = batterySite.batteryDischargeLimitW();
      // Never more than a minute of physics per tick: a stalled process skips ahead rather than spiralling.
      if (target - t > 60_000) t = target - 60_000;
      while (t + 1000 <= target) {
        t += 1000;
        // The scenario's day repeats: the next day's EVs are scheduled as the current day ends.
        if (t >= scenario.startAt + (cycle + 1) * scenario.durationMs - 3_600_000) {
          cycle++;
          const shift = cycle * scenario.durationMs;
          sim.addEvs(scenario.evs.map((e): EvSpec => ({ ...e, id: `${e.id}-${cycle + 1}`, arriveAt: e.arriveAt + shift, departAt: e.departAt + shift })));
        }
        try {
          publish(sim.step(t, 1000));
        } catch (err) {
          log.error({ err: err instanceof Error ? err.message : String(err) }, 'simulated site: physics step failed');
        }
      }
    });
    resources.push({ stop: async () => tick.unsubscribe() });
    if (opts.csmsSiteLimitA !== undefined && config.controller.identity) {
      const identity = config.controller.identity;
      const limit = opts.csmsSiteLimitA;
      csms.onMessage((m) => {
        if (m.stationId === identity && m.action === 'BootNotification') {
          setTimeout(() => void csms.setSiteLimit(identity, limit).catch((err: unknown) => log.warn({ err: String(err) }, 'CSMS could not set the site limit')), 100);
        }
      });
    }
    log.info(
      { stations: stations.length, csms: csmsUrl, modbus: modbus.map((m) => m.port), opcua: opcua?.endpoint, speed, scenario: scenario.name },
      'simulated site started',
    );
    return {
      scenario,
      csms,
      csmsUrl,
      modbus,
      opcua,
      sim,
      stations,
      async connectStations(url?: string, timeoutMs = 10_000) {
        const target = url ?? `ws://${isLocal(config.stations.listen.host) ? '127.0.0.1' : config.stations.listen.host}:${config.stations.listen.port}/ocpp`;
        for (const s of stations) s.start(target);
        let timer: NodeJS.Timeout | undefined;
        const all = Promise.all(stations.map((s) => s.whenConnected())).then(() => true);
        const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
        const ok = await Promise.race([all, late]);
        clearTimeout(timer);
        if (!ok) log.warn({ stations: stations.filter((s) => !s.connected).map((s) => s.id), url: target }, 'simulated stations not connected yet; they keep retrying');
      },
      now,
      pvForecast: (hours = 24) => {
        const pv = scenario.pv;
        if (!pv) return undefined;
        const fn = pvForecastFn(pv.peakW, pv.clouds, scenario.seed, scenario.startAt);
        const from = now();
        return forecastPoints(fn, from, from + hours * 3_600_000).map((p) => ({ at: Math.round(realStart + (p.at - simStart) / speed), w: p.w }));
      },
      last: () => sim.last,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
