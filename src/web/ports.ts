// Everything the page needs from the rest of the controller, in one interface, so src/main.ts can wire it.
// Streams are consumed (never completed by the web); functions are the few things the page asks others to do.
// The shapes match what the producers export: ControllerStation (src/controller/index.ts), Journal
// (src/store/journal.ts), ForwardQueue (src/store/queue.ts), the relay's RelayEvents, the control loop's state$.
import type { Observable, SchedulerLike } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import type { ControlState } from '../control/types.js';
import type { SiteLimit } from '../controller/site-limit.js';
import type { ExternalLimitSource } from '../controller/site-limit-stream.js';
import type { ConnectionEvent } from '../relay/events.js';
import type { JournalQuery, JournalRow } from '../store/journal.js';

/** The relay's journal, read-only (src/store/journal.ts `Journal` fits). Newest first. */
export interface JournalReader {
  query(q: JournalQuery): JournalRow[];
}

/** The source the page sets its site limit as (published by the controller with kind 'page'). */
export const PAGE_LIMIT_SOURCE: ExternalLimitSource = { id: 'page', kind: 'Other', page: true };

export interface WebPorts {
  /** The clock for live updates and the history recorder; default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** The control loop's state (nodes, EVSEs, alarms): ControlLoop.state$. */
  controlState$: Observable<ControlState>;
  /** Readings of every configured meter (roles from config.meters by deviceId). */
  readings$: Observable<Reading>;
  /** The effective site limit and where it comes from: ControllerStation.siteLimit$. */
  siteLimit$: Observable<SiteLimit>;
  /** Station and upstream connections going up and down: RelayEvents.connections$. */
  connections$: Observable<ConnectionEvent>;
  /**
   * ControllerStation.setExternalLimit: sets or clears (null) a local external limit. The page's saved site limit
   * reaches the controller through src/wiring.ts (also without the page), not through here.
   */
  setExternalLimit(source: ExternalLimitSource, limitA: PhaseVector | null): void;
  /** The relay's journal; without it the page says the journal is not available. */
  journal?: JournalReader;
  /** Messages waiting per station for the CSMS (ForwardQueue.lengths). */
  queueLengths?(): Record<string, number>;
  /** Queued messages the CSMS refused on every attempt, kept aside (Relay.refusedMessages), newest first. */
  refusedMessages?(): { stationId: string; action: string; messageId: string; error: string; failedAt: number }[];
  /** Stations connected now (StationCaller.connectedStations); when given it is the truth, so a page started after
   * stations connected still shows them. */
  connectedStations?(): string[];
  /** Whether a station's upstream socket is open now (Relay.upstreamConnected). */
  upstreamConnected?(stationId: string): boolean;
  /** Whether the controller's own identity is connected to the CSMS (ControllerStation.connected$). */
  csmsConnected$?: Observable<boolean>;
  /** The PV forecast in force (src/store/pv-forecast.ts); the server passes its store's. */
  pvForecast$?: Observable<{ points: readonly { at: number }[]; setBy: string } | undefined>;
}
