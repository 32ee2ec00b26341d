// Everything the page needs from the rest of the controller, in one interface, so src/main.ts can wire it.
// Streams are consumed (never completed by the web); functions are the few things the page asks others to do.
import type { Observable, SchedulerLike } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Reading } from '../../drivers/types.js';
import type { ControlState } from '../control/types.js';
import type { LimitSource, SiteLimit } from '../controller/site-limit.js';
import type { ConnectionEvent, OcppCallEvent, Origin } from '../relay/events.js';

/** One journalled OCPP frame of a station's path (the relay's journal). */
export interface JournalEntry {
  /** Epoch ms. */
  at: number;
  stationId: string;
  /** Who sent the frame. */
  from: 'station' | 'csms' | 'controller';
  /** Who the frame went to (or 'local' when answered locally / not forwarded). */
  to?: string;
  /** 2 CALL, 3 CALLRESULT, 4 CALLERROR. */
  messageType: number;
  messageId: string;
  action?: string;
  /** The raw frame or its payload as JSON text. */
  frame: string;
  /** Validation problem, if the frame failed schema validation. */
  error?: string;
}

export interface JournalFilter {
  stationId: string;
  action?: string;
  origin?: Origin;
  /** Case-insensitive text contained in the frame. */
  text?: string;
  since?: number;
  until?: number;
  limit: number;
}

/** The relay's journal, read-only. Newest first. */
export interface JournalReader {
  query(filter: JournalFilter): JournalEntry[] | Promise<JournalEntry[]>;
}

export interface WebPorts {
  /** The clock for live updates and the history recorder; default asyncScheduler. */
  scheduler?: SchedulerLike;
  /** The control loop's state (nodes, EVSEs, alarms). */
  controlState$: Observable<ControlState>;
  /** Readings of every configured meter (roles from config.meters by deviceId). */
  readings$: Observable<Reading>;
  /** The effective site limit and where it comes from. */
  siteLimit$: Observable<SiteLimit>;
  /** Station and upstream connections going up and down. */
  connections$: Observable<ConnectionEvent>;
  /** CALLs on stations' paths (TransactionEvent feeds the sessions store). */
  calls$: Observable<OcppCallEvent>;
  /**
   * Sets or clears (null) an external site limit on the controller identity; the page uses { id: 'page', kind: 'page' }.
   * The web never passes a value above site.limitA.
   */
  setExternalLimit(source: Pick<LimitSource, 'id' | 'kind'>, limitA: PhaseVector | null): void;
  /** The relay's journal; without it the page says the journal is not available. */
  journal?: JournalReader;
  /** Messages waiting per station in the store-and-forward queue while the CSMS is unreachable. */
  queueLengths?(): Record<string, number>;
  /** Whether the controller's own identity is connected to the CSMS (undefined = unknown). */
  csmsConnected?(): boolean | undefined;
}
