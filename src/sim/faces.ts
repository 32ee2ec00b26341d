// A simulated station's protocol face: the simulated-charger model (physics/station.ts) speaks one internal dialect —
// OCPP 2.0.1 shapes, string transaction ids — and a face turns that into what goes over the wire and back. The 2.0.1
// face passes everything through; the 1.6J face (face-16.ts) translates. The wire is a real socket (ws-station.ts)
// or the in-process relay of the score (inprocess.ts); both create the face with createFace().
import type { Logger } from '../common/log.js';
import type { OcppProtocol } from '../ocpp/protocol.js';
import { Face16 } from './face-16.js';
import type { SimStation } from './physics/station.js';

export type SimProtocol = OcppProtocol;

/** Sends a CALL to the CSMS side and resolves with its answer. */
export type Wire = (action: string, payload: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface StationFace {
  readonly protocol: SimProtocol;
  /** The CALLs this face answers (the rest get NotImplemented). */
  readonly actions: readonly string[];
  /** A message the model sends, turned into the wire's protocol and sent. */
  fromModel(action: string, payload: Record<string, unknown>): void;
  /** A CALL from the wire, answered as the station would. Throws OcppCallError for CALLERRORs. */
  handle(action: string, payload: Record<string, unknown>, now: number): Record<string, unknown>;
}

/** CALLs a 2.0.1 station answers. */
export const OCPP201_STATION_ACTIONS = [
  'SetChargingProfile',
  'ClearChargingProfile',
  'GetChargingProfiles',
  'GetCompositeSchedule',
  'GetVariables',
  'SetVariables',
  'TriggerMessage',
  'RequestStartTransaction',
  'RequestStopTransaction',
  'Reset',
  'ChangeAvailability',
  'UnlockConnector',
  'GetTransactionStatus',
];

export function protocolOf(station: SimStation): SimProtocol {
  return station.spec.protocol ?? 'ocpp2.0.1';
}

export function createFace(station: SimStation, wire: Wire, now: () => number, log: Logger): StationFace {
  if (protocolOf(station) === 'ocpp1.6') return new Face16(station, wire, now, log);
  return {
    protocol: 'ocpp2.0.1',
    actions: OCPP201_STATION_ACTIONS,
    fromModel: (action, payload) => {
      wire(action, payload).catch((err: unknown) => log.debug({ stationId: station.spec.id, action, err: err instanceof Error ? err.message : String(err) }, 'simulated station message failed'));
    },
    handle: (action, payload, at) => station.handle(action, payload, at),
  };
}
