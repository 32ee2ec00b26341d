// The run-time settings a site starts from (what the config says, before anything is changed on the page), and the
// control loop's timing: the windows it judges stations by, named in one place.
import type { PhaseVector } from '../../algorithms/types.js';
import type { Config } from '../config/types.js';
import type { ControlSettings } from './types.js';
import { stationRecord } from '../common/ids.js';

export function defaultSettings(config: Config): ControlSettings {
  // Keyed by station id: prototype-free, so an id like `constructor` or `__proto__` is just a key.
  const priorities: ControlSettings['priorities'] = stationRecord();
  const modes: ControlSettings['modes'] = stationRecord();
  for (const s of config.stations.list) {
    priorities[s.id] = s.priority;
    if (s.mode) modes[s.id] = s.mode;
  }
  return { circuitLimitsA: stationRecord(), priorities, modes, siteMode: config.control.mode, safeLimitA: [...config.control.safeLimitA] as PhaseVector };
}

/** The control loop's timing (ms). */
export const CONTROL_TIMING = {
  /** After an accepted limit change, how long either the old or the new limit may be in force at a station (its next
   * MeterValues may still be on the way; many apply a profile within a few seconds). */
  stationSettleMs: 10_000,
  /** How long a station may take to follow a new limit before it counts as not controllable (ControlInputs.reactionMs
   * overrides it). */
  reactionMs: 15_000,
  /** How long accepted limit changes are remembered, for judging measurements against the limit then in force. */
  changeMemoryMs: 60_000,
  /** How long a fall of the export through a node is allowed for in its export credit (clouds pass in minutes). */
  exportFallMemoryMs: 10 * 60_000,
} as const;
