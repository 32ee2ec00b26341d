// Wiring that must hold with or without the page (main.ts calls it for `run` and `demo`, `--no-web` or not):
// the stations' session events → the charging-session store, and the site limit saved on the page → the controller.
// Lived in src/web/server.ts before, so a run without the page lost the saved limit.
import type { Subscription } from 'rxjs';
import type { PhaseVector } from '../algorithms/types.js';
import type { Logger } from './common/log.js';
import type { ExternalLimitSource } from './controller/site-limit-stream.js';
import type { StationEvent } from './stations/model.js';
import type { Observable } from 'rxjs';
import type { SessionStore } from './store/sessions.js';
import type { SettingsStore } from './store/settings.js';
import { PAGE_LIMIT_SOURCE } from './web/ports.js';

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
