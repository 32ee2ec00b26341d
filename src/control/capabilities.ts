// What the loop assumes of a station before (or without) the station saying: the station model reads the rest
// (src/stations: readCapabilities), and config fills in what the station does not say.
import type { StationConfig } from '../config/types.js';
import type { StationCapabilities } from '../stations/model.js';

export type { StationCapabilities } from '../stations/model.js';

/** Amperes, and phase switching only when config says so. */
export function fallbackCapabilities(station: Pick<StationConfig, 'phaseSwitching'> | undefined): StationCapabilities {
  return { rateUnits: ['A'], phaseSwitching: station?.phaseSwitching ?? false, source: 'config' };
}
