// The contract every protocol adapter fulfils (v201/ today, v16/ next, a 2.1 adapter later): frames seen on a
// station's path in, neutral events out; neutral requests in, frames out. Adapters are pure apart from the caller
// they are given: no clock of their own, no state beyond what a frame needs (e.g. 1.6's connector → transaction map).
import type { OcppCallEvent, OcppResultEvent, StationCaller } from '../relay/events.js';
import type { OcppProtocol, StationEvent, StationRequests } from './model.js';

export interface ProtocolAdapter {
  readonly protocol: OcppProtocol;
  /** A CALL seen on a station's path (any origin) → the neutral events it means (often none). */
  fromCall(ev: OcppCallEvent): StationEvent[];
  /** A CALL's end (result or error) → the neutral events it means (boot accepted, a CSMS profile in force …). */
  fromResult(ev: OcppResultEvent): StationEvent[];
  /** The station requests of this protocol, sent through the relay's injected calls. */
  requests(caller: StationCaller): StationRequests;
}
