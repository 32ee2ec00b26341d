// Wiring that must hold with or without the page (main.ts calls it for `run` and `demo`, `--no-web` or not):
// the stations' session events → the charging-session store, and the site limit saved on the page → the controller
// (lived in src/web/server.ts before, so a run without the page lost the saved limit); and the control loop's
// discharge limit → the battery kept for the EVs; and the demo's PV forecast, pushed in as a site's integrator would.
import type { SimulatedSite } from './sim/world.js';
import type { PvForecastStore } from './store/pv-forecast.js';
import { Subscription } from 'rxjs';
import type { PhaseVector } from '../algorithms/types.js';
import type { Logger } from './common/log.js';
import type { ExternalLimitSource } from './controller/site-limit-stream.js';
import type { StationEvent } from './stations/model.js';
import type { Observable } from 'rxjs';
import type { SessionStore } from './store/sessions.js';
import type { SettingsStore } from './store/settings.js';
import { PAGE_LIMIT_SOURCE } from './web/ports.js';
import type { Device } from '../drivers/index.js';
import type { Config } from './config/types.js';
import type { ControlLoop } from './control/types.js';

export interface RecordsAndLimitsInputs {
  events$: Observable<StationEvent>;
  sessions: SessionStore;
  settings: Pick<SettingsStore, 'siteLimit$'>;
  /** ControllerStation.setExternalLimit. */
  setExternalLimit(source: ExternalLimitSource, limitA: PhaseVector | null): void;
  log: Logger;
}

/** Starts both; unsubscribe the result to stop. */
export function wireRecordsAndPageLimit(i: RecordsAndLimitsInputs): Subscription {
  const sub = i.sessions.record(i.events$, (err) => i.log.error({ err }, 'recording a charging session failed'));
  // The page's site limit survives a restart: re-applied on start and on every change.
  sub.add(i.settings.siteLimit$.subscribe((limitA) => {
    try { i.setExternalLimit(PAGE_LIMIT_SOURCE, limitA); } catch (err) { i.log.error({ err }, 'could not apply the page site limit'); }
  }));
  return sub;
}

/** The battery kept for the EVs (control.battery.reserveForEvs): the loop's discharge limit → the battery's driver. */
export function wireBatteryControl(config: Config, devices: readonly Device[], control: Pick<ControlLoop, 'state$'>, log: Logger): Subscription {
  const meter = config.control.battery?.reserveForEvs ? config.meters.find((m) => m.role === 'battery') : undefined;
  const device = meter ? devices.find((d) => d.id === meter.id) : undefined;
  const discharge = device?.batteryDischarge;
  if (!meter || !device || !discharge) return new Subscription();
  let warned = false;
  return control.state$.subscribe((st) => {
    if (!st.battery) return;
    if (discharge.available) {
      discharge.setLimit(st.battery.dischargeLimitW);
    } else if (!warned && device.capabilities.length) {
      // Found, but without storage controls: it runs on its own, and the EVSEs count only the discharge planned.
      warned = true;
      log.error({ meter: meter.id }, 'control.battery.reserveForEvs: the battery has no SunSpec model 124 storage controls; it cannot be told its discharge limit');
    }
  });
}

/** The demo's PV forecast: the simulated site pushes one in at the start and every (virtual) hour, as a site's
 * integrator would (PUT /api/forecast/pv). Returns its stop. */
export function demoForecast(site: SimulatedSite, store: PvForecastStore, speed: number): () => Promise<void> {
  const push = () => {
    const points = site.pvForecast();
    if (points) store.set({ points, setBy: 'demo', setAt: Date.now() });
  };
  push();
  const timer = setInterval(push, Math.max(1000, 3_600_000 / Math.max(speed, 1e-3)));
  timer.unref();
  return async () => clearInterval(timer);
}
