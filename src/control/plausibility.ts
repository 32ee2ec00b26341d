// What a station may claim about itself. A station's own reports (EVSE ids, currents, power, phases) feed the
// control loop's picture of the site, so a wrong or hostile report must not move everyone else's limits: each is
// bounded by what is configured for the station (stations.list: evses, maxA, phases; an unlisted station gets the
// defaults below). Implausible reports are reported (alarm) and not believed. The session tracker calls these; they
// know nothing of the protocol, so they stay with the tracker wherever station parsing lives.

export interface ReportBounds {
  /** EVSE ids 1..evses exist. */
  evses: number;
  /** Largest current per phase the installation allows (A). */
  maxA: number;
  /** Phases wired to the station. */
  phases: 1 | 3;
}

/** EVSEs an unlisted station (stations.allowUnknown) may report at most. */
export const UNKNOWN_STATION_MAX_EVSES = 4;
/** Meters read a little over the limit (tolerance, rounding): up to 10 % + 1 A over maxA is believed as reported. */
const CURRENT_TOLERANCE = 1.1;
const CURRENT_SLACK_A = 1;

/** Why this EVSE id is not one the station has; undefined when it is. */
export function evseOutOfBounds(evseId: number, b: ReportBounds): string | undefined {
  if (Number.isInteger(evseId) && evseId >= 1 && evseId <= b.evses) return undefined;
  return `EVSE ${evseId} does not exist (the station has ${b.evses})`;
}

/**
 * Measured currents per EVSE phase, bounded: negative or non-finite → 0, phases the station is not wired for → 0,
 * a value beyond maxA (with tolerance) → maxA. `reason` says what was not believed.
 */
export function boundCurrents(currentsA: readonly number[], b: ReportBounds): { currentsA: number[]; reason?: string } {
  const ceiling = b.maxA * CURRENT_TOLERANCE + CURRENT_SLACK_A;
  const problems: string[] = [];
  const out = [0, 1, 2].map((i) => {
    const v = currentsA[i] ?? 0;
    if (!Number.isFinite(v) || v < 0) return 0;
    if (i >= b.phases && v > CURRENT_SLACK_A) {
      problems.push(`${v} A on L${i + 1} of a ${b.phases}-phase station`);
      return 0;
    }
    if (v > ceiling) {
      problems.push(`${v} A on L${i + 1} (at most ${b.maxA} A)`);
      return b.maxA;
    }
    return v;
  });
  return problems.length ? { currentsA: out, reason: `reported ${problems.join(', ')}` } : { currentsA: out };
}

/** Power (W) bounded by maxA on every wired phase at the nominal voltage. */
export function boundPowerW(powerW: number, b: ReportBounds, voltageV: number): { powerW: number; reason?: string } {
  if (!Number.isFinite(powerW) || powerW < 0) return { powerW: 0 };
  const ceiling = (b.maxA * CURRENT_TOLERANCE + CURRENT_SLACK_A) * b.phases * voltageV;
  if (powerW <= ceiling) return { powerW };
  const max = b.maxA * b.phases * voltageV;
  return { powerW: max, reason: `reported ${Math.round(powerW)} W (at most ${Math.round(max)} W)` };
}
