// The control stage's public surface: main.ts, the page and the score import from here.
export * from './types.js';
export { createControlLoop } from './loop.js';
export { DEFAULT_PROFILE_ID, txProfileId } from '../stations/model.js';
export { ROOT_NODE } from './measurements.js';
export { defaultSettings } from './solve-input.js';
export type { StationCapabilities } from '../stations/model.js';
export { CONTROL_TIMING } from './settings.js';
export { tariffWindows, isValidTimeZone } from './tariff.js';
