// Charger firmware quirks a simulated station can have (shared/CONTRACT.md "Scenario file": the same names as
// stations.list[].quirks). Read in one place — quirksOf() — by the station model and its protocol faces; the behaviour
// of each quirk is added where the message it bends is made (issue 13), so a quirk never needs ifs spread elsewhere.
import type { ChargerSpec } from './scenario-types.js';

export const CHARGER_QUIRKS = [
  'watts-only',
  'amps-only',
  'relative-only',
  'no-zero',
  'connector-0-rejected',
  'stack-level-0-only',
  'tx-default-only',
  'phase-l1-n',
  'single-phase-report',
  'no-smart-charging',
] as const;

export type ChargerQuirk = (typeof CHARGER_QUIRKS)[number];

export function quirksOf(spec: Pick<ChargerSpec, 'quirks'>): ReadonlySet<ChargerQuirk> {
  return new Set(spec.quirks ?? []);
}
