// The OCPP 2.0.1 adapter: what the controller did before the station model, moved behind ProtocolAdapter.
import type { ProtocolAdapter } from '../adapter.js';
import { fromCall, fromResult } from './events.js';
import { requests } from './requests.js';

export const v201: ProtocolAdapter = { protocol: 'ocpp2.0.1', fromCall, fromResult, requests };
export { parseProfile } from './events.js';
export { parseMeterValues, toMeasurement, measurementOf, energyRegisterWh } from './meter-values.js';
export { getVariablesRequest, parseCapabilities, txDefaultRequest, txProfileRequest } from './requests.js';
