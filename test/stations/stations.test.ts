// createStations: each station's frames go through the adapter of its protocol (absent = 2.0.1), requests leave
// through the adapter of the protocol it connected with; the 1.6 skeleton maps its session frames.
import { Subject, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ConnectionEvent, OcppCallEvent, OcppResultEvent, StationCaller } from '../../src/relay/events.js';
import type { StationEvent } from '../../src/stations/model.js';
import { createStations } from '../../src/stations/stations.js';

function setup() {
  const connections$ = new Subject<ConnectionEvent>();
  const calls$ = new Subject<OcppCallEvent>();
  const results$ = new Subject<OcppResultEvent>();
  const sent: string[] = [];
  const payloads: Array<Record<string, unknown>> = [];
  const caller: StationCaller = { call: async (id, action, payload) => (sent.push(`${id}:${action}`), payloads.push(payload), { status: 'Accepted' }), connectedStations: () => ['A', 'B'] };
  const stations = createStations({ relay: { connections$, calls$, results$ }, caller });
  const seen: StationEvent[] = [];
  (stations.events$ as Observable<StationEvent>).subscribe((e) => seen.push(e));
  return { connections$, calls$, results$, sent, payloads, stations, seen };
}

describe('stations', () => {
  it('reads a 2.0.1 and a 1.6 station side by side into the same model', () => {
    const { connections$, calls$, results$, stations, seen } = setup();
    connections$.next({ stationId: 'A', side: 'station', up: true, at: 1 });
    connections$.next({ stationId: 'B', side: 'station', up: true, at: 1, protocol: 'ocpp1.6' });
    connections$.next({ stationId: 'B', side: 'upstream', up: true, at: 1, protocol: 'ocpp1.6' });
    expect(stations.protocolOf('A')).toBe('ocpp2.0.1');
    expect(stations.protocolOf('B')).toBe('ocpp1.6');
    calls$.next({ stationId: 'A', origin: 'station', messageId: '1', action: 'StatusNotification', payload: { evseId: 1, connectorId: 1, connectorStatus: 'Occupied', timestamp: 'x' }, at: 2 });
    calls$.next({ stationId: 'B', origin: 'station', messageId: '2', action: 'StatusNotification', payload: { connectorId: 1, status: 'Charging', errorCode: 'NoError' }, at: 2, protocol: 'ocpp1.6' });
    results$.next({ stationId: 'B', origin: 'station', messageId: '3', action: 'StartTransaction', request: { connectorId: 1, idTag: 'CARD', meterStart: 1000, timestamp: '2026-01-01T00:00:00Z' }, result: { transactionId: 42, idTagInfo: { status: 'Accepted' } }, at: 3, protocol: 'ocpp1.6' });
    calls$.next({ stationId: 'B', origin: 'station', messageId: '4', action: 'MeterValues', payload: { connectorId: 1, transactionId: 42, meterValue: [{ timestamp: 'x', sampledValue: [{ value: '16.0', measurand: 'Current.Import', phase: 'L1' }, { value: '2.5', unit: 'kWh' }] }] }, at: 4, protocol: 'ocpp1.6' });
    calls$.next({ stationId: 'B', origin: 'station', messageId: '5', action: 'StopTransaction', payload: { transactionId: 42, meterStop: 4000, timestamp: '2026-01-01T01:00:00Z', reason: 'EVDisconnected' }, at: 5, protocol: 'ocpp1.6' });
    expect(seen).toEqual([
      { kind: 'connection', stationId: 'A', protocol: 'ocpp2.0.1', up: true, at: 1 },
      { kind: 'connection', stationId: 'B', protocol: 'ocpp1.6', up: true, at: 1 },
      { kind: 'status', stationId: 'A', evseId: 1, status: 'Occupied', at: 2 },
      { kind: 'status', stationId: 'B', evseId: 1, status: 'Occupied', chargingState: 'Charging', at: 2 },
      { kind: 'session', phase: 'started', stationId: 'B', evseId: 1, transactionId: '42', idToken: 'CARD', time: Date.parse('2026-01-01T00:00:00Z'), measurement: { energyWh: 1000 }, at: 3 },
      { kind: 'session', phase: 'updated', stationId: 'B', evseId: 1, transactionId: '42', measurement: { currentA: [16, 0, 0], currentPhases: 1, energyWh: 2500 }, at: 4 },
      { kind: 'session', phase: 'ended', stationId: 'B', transactionId: '42', stoppedReason: 'EVDisconnected', time: Date.parse('2026-01-01T01:00:00Z'), measurement: { energyWh: 4000 }, at: 5 },
    ]);
  });

  it('sends requests through the station\'s own protocol: a 2.0.1 profile on evseId, a 1.6 one on connectorId', async () => {
    const { connections$, sent, payloads, stations } = setup();
    connections$.next({ stationId: 'A', side: 'station', up: true, at: 1 });
    connections$.next({ stationId: 'B', side: 'station', up: true, at: 1, protocol: 'ocpp1.6' });
    const caps = { rateUnits: ['A' as const], phaseSwitching: false, source: 'config' as const };
    expect(await stations.requests.setDefaultLimit('A', { limitA: 6, stackLevel: 1, caps, voltageV: 230 })).toEqual({ status: 'Accepted' });
    expect(await stations.requests.setDefaultLimit('B', { limitA: 6, stackLevel: 1, caps, voltageV: 230 })).toEqual({ status: 'Accepted' });
    expect(sent).toEqual(['A:SetChargingProfile', 'B:SetChargingProfile']);
    expect(payloads[0]).toMatchObject({ evseId: 0, chargingProfile: { chargingProfilePurpose: 'TxDefaultProfile' } });
    expect(payloads[1]).toMatchObject({ connectorId: 0, csChargingProfiles: { chargingProfilePurpose: 'TxDefaultProfile', stackLevel: 1 } });
    expect(stations.connectedStations()).toEqual(['A', 'B']);
  });
});
