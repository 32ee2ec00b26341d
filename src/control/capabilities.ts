// What the loop assumes of a station before (or without) the station saying: the station model reads the rest
// (src/stations: readCapabilities), and config fills in what the station does not say.
import type { StationConfig } from '../config/types.js';
import { QUIRKS, type Quirk, type StationCapabilities } from '../stations/model.js';

export type { StationCapabilities } from '../stations/model.js';

/** Amperes, phase switching only when config says so, and the quirks config says to assume. */
export function fallbackCapabilities(station: Pick<StationConfig, 'phaseSwitching' | 'quirks'> | undefined): StationCapabilities {
  return { rateUnits: ['A'], phaseSwitching: station?.phaseSwitching ?? false, source: 'config', ...(station?.quirks?.length ? { quirks: [...station.quirks] } : {}) };
}

/** Quirks of both lists, each once, in QUIRKS order. */
export function mergeQuirks(...lists: Array<readonly Quirk[] | undefined>): Quirk[] {
  const all = new Set(lists.flatMap((l) => l ?? []));
  return QUIRKS.filter((q) => all.has(q));
}

/** Why a station is a fixed load from what it said or config assumes (no smart charging), if so. */
export function fixedLoadReason(caps: StationCapabilities): string | undefined {
  if (caps.quirks?.includes('no-smart-charging')) return 'no smart charging (quirk no-smart-charging)';
  if (caps.smartCharging === false) return 'no SmartCharging in SupportedFeatureProfiles';
  return undefined;
}
