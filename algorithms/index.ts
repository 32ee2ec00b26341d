// The allocation optimizer: pure, deterministic, no clock, no I/O. See docs/algorithms.md.
export { allocate } from './allocate.js';
export { evseToSitePhases, drawOnSitePhases, sitePhaseOfL1, isRotation } from './phases.js';
export { floorToTenth } from './stability.js';
export type * from './types.js';
