// What other stages use from drivers/: create devices from options, their readings, and the types.
import { merge, type Observable } from 'rxjs';
import type { Device } from './device.js';
import type { Reading } from './types.js';

export { createDevice, DeviceConfigError } from './device.js';
export type { Device, DeviceContext, DeviceOptions } from './device.js';
export type { DriverLogger } from './log.js';
export { loadRegisterMap, validateRegisterMap, bundledMapsDir, RegisterMapError } from './modbus/map.js';
export type { RegisterMap, RegisterSpec } from './modbus/map.js';
export * from './types.js';

/** All devices' readings as one stream (each reading names its device). */
export function allReadings(devices: readonly Device[]): Observable<Reading> {
  return merge(...devices.map((d) => d.readings$));
}
