// The site's numbers as Prometheus gauges, filled from the page's snapshot at each scrape.
import type { SiteView } from './live.js';
import type { MetricsRegistry } from './metrics.js';

export function registerSiteMetrics(metrics: MetricsRegistry, view: SiteView): void {
  const limit = metrics.gauge('site_limit_amperes', 'Effective site limit per phase (A)');
  const fuse = metrics.gauge('site_fuse_amperes', 'Configured grid connection limit per phase (A)');
  const grid = metrics.gauge('grid_current_amperes', 'Grid current per phase (A), last good reading');
  const gridW = metrics.gauge('grid_power_watts', 'Grid active power (W, import positive)');
  const pv = metrics.gauge('pv_power_watts', 'PV production (W)');
  const battery = metrics.gauge('battery_power_watts', 'Battery power (W, discharging positive)');
  const soc = metrics.gauge('battery_soc_percent', 'Battery state of charge (%)');
  const charging = metrics.gauge('charging_power_watts', 'Total charging power of all stations (W)');
  const meterGood = metrics.gauge('meter_good', '1 when the meter\'s latest reading is good');
  const connected = metrics.gauge('station_connected', '1 when the station is connected to the controller');
  const upstream = metrics.gauge('station_upstream_connected', '1 when the station\'s upstream socket to the CSMS is up');
  const evseLimit = metrics.gauge('evse_limit_amperes', 'Allocated limit per EVSE (A per phase)');
  const evseControllable = metrics.gauge('evse_controllable', '1 when the EVSE accepts charging profiles');
  const queued = metrics.gauge('csms_queued_messages', 'Messages waiting for the CSMS (store-and-forward)');
  const alarms = metrics.gauge('alarms_active', 'Active alarms by kind');

  metrics.collect(() => {
    const s = view.snapshot();
    for (const g of [limit, fuse, grid, gridW, pv, battery, soc, meterGood, connected, upstream, evseLimit, evseControllable, alarms]) g.reset();
    s.site.limitA.forEach((v, i) => limit.set(v, { phase: `L${i + 1}` }));
    s.site.fuseA.forEach((v, i) => fuse.set(v, { phase: `L${i + 1}` }));
    s.site.gridCurrentA?.forEach((v, i) => grid.set(v, { phase: `L${i + 1}` }));
    if (s.site.gridPowerW !== null) gridW.set(s.site.gridPowerW);
    if (s.site.pvPowerW !== null) pv.set(s.site.pvPowerW);
    if (s.site.batteryPowerW !== null) battery.set(s.site.batteryPowerW);
    if (s.site.batterySoc !== null) soc.set(s.site.batterySoc);
    charging.set(s.site.chargingPowerW);
    for (const m of s.meters) meterGood.set(m.quality === 'good' ? 1 : 0, { meter: m.id, role: m.role });
    for (const st of s.stations) {
      connected.set(st.connected ? 1 : 0, { station: st.id });
      upstream.set(st.upstreamConnected ? 1 : 0, { station: st.id });
      for (const e of st.evses) {
        if (e.limitA !== null) evseLimit.set(e.limitA, { station: st.id, evse: e.id });
        evseControllable.set(e.controllable ? 1 : 0, { station: st.id, evse: e.id });
      }
    }
    queued.set(s.csms.queued);
    const byKind = new Map<string, number>();
    for (const a of s.alarms) byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + 1);
    for (const [kind, n] of byKind) alarms.set(n, { kind });
  });
}
