// The OCPP 1.6J adapter: StatusNotification, StartTransaction / StopTransaction, MeterValues and the CSMS's profiles
// → the model (events.ts); capabilities from GetConfiguration, the fail-safe TxDefaultProfile, session TxProfiles with
// the fallbacks real firmware needs, GetCompositeSchedule (requests.ts, profiles.ts, configuration.ts).
// See docs/stations.md for the contract (ProtocolAdapter in ../adapter.ts) and the quirks.
import type { ProtocolAdapter } from '../adapter.js';
import { fromCall, fromResult } from './events.js';
import { requests } from './requests.js';

export const v16: ProtocolAdapter = { protocol: 'ocpp1.6', fromCall, fromResult, requests };
export { capabilitiesOf, configValues, meterPlan, rotationOf } from './configuration.js';
export { fallbacks, firstWay, setChargingProfile } from './profiles.js';
