// The run-time settings a site starts from: what the config says, before anything is changed on the page.
import type { PhaseVector } from '../../algorithms/types.js';
import type { Config } from '../config/types.js';
import type { ControlSettings } from './types.js';

export function defaultSettings(config: Config): ControlSettings {
  const priorities: ControlSettings['priorities'] = {};
  const modes: ControlSettings['modes'] = {};
  for (const s of config.stations.list) {
    priorities[s.id] = s.priority;
    if (s.mode) modes[s.id] = s.mode;
  }
  return { circuitLimitsA: {}, priorities, modes, siteMode: config.control.mode, safeLimitA: [...config.control.safeLimitA] as PhaseVector };
}
