// Phase rotation: how an EVSE's own L1/L2/L3 land on the site's L1/L2/L3.
// A rotation is a permutation, so an index lookup is exact and cheap; a matrix library would add nothing here
// (see docs/algorithms.md on why mathjs is not used on the solve path).
import type { PhaseVector, Rotation } from './types.js';

const ROTATIONS: Record<Rotation, readonly [number, number, number]> = {
  L1L2L3: [0, 1, 2],
  L2L3L1: [1, 2, 0],
  L3L1L2: [2, 0, 1],
  L1L3L2: [0, 2, 1],
  L3L2L1: [2, 1, 0],
  L2L1L3: [1, 0, 2],
};

export function isRotation(value: unknown): value is Rotation {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ROTATIONS, value);
}

/** Site phase index (0..2) of each EVSE phase (L1, L2, L3) under this rotation. */
export function sitePhasesOf(rotation: Rotation): readonly [number, number, number] {
  return ROTATIONS[rotation];
}

/** The site phase (0..2) a 1-phase EVSE (or a 3-phase EVSE switched to 1 phase) draws on: where its L1 is wired. */
export function sitePhaseOfL1(rotation: Rotation): number {
  return ROTATIONS[rotation][0];
}

/**
 * Maps currents per EVSE phase (e.g. MeterValues Current.Import L1/L2/L3 of a station) onto site phases.
 * Example: rotation "L2L3L1", EVSE [16, 0, 0] -> site [0, 16, 0].
 */
export function evseToSitePhases(rotation: Rotation, evsePhaseA: readonly number[]): PhaseVector {
  const map = ROTATIONS[rotation];
  const out: PhaseVector = [0, 0, 0];
  for (let i = 0; i < 3; i++) out[map[i]] += evsePhaseA[i] ?? 0;
  return out;
}

/** The per-site-phase draw of an EVSE charging `currentA` per phase on `phases` phases. */
export function drawOnSitePhases(rotation: Rotation, phases: 1 | 3, currentA: number): PhaseVector {
  if (phases === 3) return [currentA, currentA, currentA];
  const out: PhaseVector = [0, 0, 0];
  out[sitePhaseOfL1(rotation)] = currentA;
  return out;
}

/** Bit mask of the site phases an EVSE draws on (bit p = site phase p). */
export function phaseMask(rotation: Rotation, phases: 1 | 3): number {
  return phases === 3 ? 0b111 : 1 << sitePhaseOfL1(rotation);
}

export function phaseName(p: number): string {
  return `L${p + 1}`;
}
