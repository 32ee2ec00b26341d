// The effective site limit, as published to the control pipeline and the page.
import type { PhaseVector } from '../../algorithms/types.js';

export type LimitSourceKind = 'fuse' | 'csms' | 'external' | 'page';

export interface LimitSource {
  kind: LimitSourceKind;
  /** e.g. "site.limitA", "csms profile 12", "external:dso-signal". */
  id: string;
  limitA: PhaseVector;
  /** Optional power limit (W) from this source (a CSMS profile in W is converted to A per phase too). */
  limitW?: number;
}

/** min(config fuse limit, CSMS ChargingStationMaxProfile in force now, external limits), with the source of each. */
export interface SiteLimit {
  at: number;
  limitA: PhaseVector;
  limitW?: number;
  /** The source that binds (gives the minimum) on the most constrained phase. */
  binding: LimitSource;
  sources: LimitSource[];
}
