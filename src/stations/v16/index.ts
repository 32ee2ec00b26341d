// The OCPP 1.6J adapter — a skeleton. Frames → model: StatusNotification, StartTransaction (its transactionId comes in
// the CSMS's answer), StopTransaction, MeterValues (with or without transactionId), BootNotification accepted.
// Requests are the slot the 1.6 control work fills in (SetChargingProfile with TxDefaultProfile / TxProfile on
// connectorId, GetConfiguration for capabilities, GetCompositeSchedule); until then a 1.6 station answers
// NotSupported, so the control loop treats it as a fixed load (safe: never assumed to follow a limit).
// See docs/stations.md for the contract (ProtocolAdapter in ../adapter.ts).
import type { OcppCallEvent, OcppResultEvent } from '../../relay/events.js';
import type { ProtocolAdapter } from '../adapter.js';
import type { StationEvent, StationRequests } from '../model.js';
import { measurementOf, newestTime } from '../v201/meter-values.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const txId = (v: unknown): string | undefined => (typeof v === 'number' && Number.isInteger(v) ? String(v) : undefined);

/** 1.6 ChargePointStatus → the model's (2.0.1) connector status. */
const STATUS: Record<string, string> = {
  Available: 'Available', Preparing: 'Occupied', Charging: 'Occupied', SuspendedEVSE: 'Occupied', SuspendedEV: 'Occupied',
  Finishing: 'Occupied', Reserved: 'Reserved', Unavailable: 'Unavailable', Faulted: 'Faulted',
};

/** 1.6 sampled values carry their value as a string: made numbers so the one MeterValues parser reads them. */
function normalise(meterValue: unknown): unknown {
  if (!Array.isArray(meterValue)) return meterValue;
  return meterValue.map((mv: { sampledValue?: Array<Record<string, unknown>> }) => ({
    ...mv,
    sampledValue: Array.isArray(mv?.sampledValue)
      ? mv.sampledValue.map((s) => {
          const { unit, ...rest } = s;
          return { ...rest, value: typeof s.value === 'string' ? Number(s.value) : s.value, ...(typeof unit === 'string' ? { unitOfMeasure: { unit } } : {}) };
        })
      : mv?.sampledValue,
  }));
}

const time = (v: unknown) => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? { time: Date.parse(v) } : {});

function fromCall(ev: OcppCallEvent): StationEvent[] {
  if (ev.origin !== 'station') return [];
  const p = ev.payload;
  const { stationId, at } = ev;
  switch (ev.action) {
    case 'StatusNotification': {
      const evseId = num(p.connectorId);
      const status = typeof p.status === 'string' ? STATUS[p.status] : undefined;
      // connectorId 0 is the whole charge point, not an EVSE.
      if (!evseId || !status) return [];
      return [{ kind: 'status', stationId, evseId, status, at, ...time(p.timestamp) }];
    }
    case 'MeterValues': {
      const evseId = num(p.connectorId);
      if (!evseId) return [];
      const measurement = measurementOf(normalise(p.meterValue));
      const transactionId = txId(p.transactionId);
      const stamped = newestTime(p.meterValue);
      const t = stamped !== undefined ? { time: stamped } : {};
      if (transactionId) return [{ kind: 'session', phase: 'updated', stationId, evseId, transactionId, measurement, at, ...t }];
      return [{ kind: 'meter', stationId, evseId, measurement, at, ...t }];
    }
    case 'StopTransaction': {
      const transactionId = txId(p.transactionId);
      if (!transactionId) return [];
      const measurement = measurementOf(normalise(p.transactionData));
      if (typeof p.meterStop === 'number') measurement.energyWh = p.meterStop;
      return [{
        kind: 'session', phase: 'ended', stationId, transactionId, measurement, at, ...time(p.timestamp),
        ...(typeof p.reason === 'string' ? { stoppedReason: p.reason } : {}),
      }];
    }
    default:
      return [];
  }
}

function fromResult(ev: OcppResultEvent): StationEvent[] {
  const { stationId, at } = ev;
  if (ev.origin !== 'station' || !ev.result) return [];
  if (ev.action === 'BootNotification' && ev.result.status === 'Accepted') return [{ kind: 'booted', stationId, at }];
  if (ev.action === 'StartTransaction') {
    const transactionId = txId(ev.result.transactionId);
    const evseId = num(ev.request.connectorId);
    const status = (ev.result.idTagInfo as { status?: unknown } | undefined)?.status;
    if (!transactionId || !evseId || status !== 'Accepted') return [];
    return [{
      kind: 'session', phase: 'started', stationId, evseId, transactionId, at, ...time(ev.request.timestamp),
      measurement: typeof ev.request.meterStart === 'number' ? { energyWh: ev.request.meterStart } : {},
      ...(typeof ev.request.idTag === 'string' && ev.request.idTag !== '' ? { idToken: ev.request.idTag } : {}),
    }];
  }
  return [];
}

const NOT_YET = 'OCPP 1.6 limits are not implemented yet';

function requests(): StationRequests {
  return {
    readCapabilities: async (_id, fallback) => ({ caps: fallback, final: true }),
    setDefaultLimit: async () => ({ status: 'NotSupported', reason: NOT_YET }),
    setSessionLimit: async () => ({ status: 'NotSupported', reason: NOT_YET }),
    compositeSchedule: async () => undefined,
  };
}

export const v16: ProtocolAdapter = { protocol: 'ocpp1.6', fromCall, fromResult, requests };
