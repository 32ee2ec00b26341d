// What the controller's identity answers when the CSMS calls it: device model (B05–B07), charging profiles
// (K01, K08–K10), and the core calls every charging station may receive, answered truthfully for a station
// without EVSEs. Reports the CSMS asks for (NotifyReport, ReportChargingProfiles) go out after the answer.
import type { Logger } from '../common/log.js';
import type { SiteConfig } from '../config/types.js';
import type { OcppPeer } from '../ocpp/index.js';
import { OcppCallError } from '../ocpp/errors.js';
import { VAR, type DeviceModel, type GetVariableData, type ReportBase, type SetVariableData } from './device-model.js';
import type { ChargingProfiles, ClearCriteria, ProfileQuery } from './profiles.js';
import { compositeSchedule } from './profiles-schedule.js';
import type { ChargingProfile, RateUnit } from './profiles-types.js';
import type { ExternalLimit } from './site-limit-stream.js';

export interface HandlerContext {
  deviceModel: DeviceModel;
  profiles: ChargingProfiles;
  site: SiteConfig;
  externalLimits: () => readonly ExternalLimit[];
  now: () => number;
  log: Logger;
  /** Sends a CALL on the current connection (allowed while Pending: reports the CSMS asked for). */
  send: (action: string, payload: Record<string, unknown>) => Promise<Record<string, unknown>>;
  triggerBoot: () => void;
  triggerHeartbeat: () => void;
}

function pages<T>(items: readonly T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/** Runs after the current CALLRESULT has been written (the peer sends it when the handler's promise settles). */
function afterAnswer(fn: () => Promise<void>, log: Logger): void {
  setImmediate(() => {
    fn().catch((err: Error) => log.warn({ err: err.message }, 'report to the CSMS failed'));
  });
}

/** K08 on connector/EVSE 0: the CSMS profiles in force, capped by the fuse and the external limits (both protocols). */
export function siteCompositeSchedule(ctx: HandlerContext, now: number, durationS: number, unit: RateUnit): ReturnType<typeof compositeSchedule> {
  const ceilingA = Math.min(...ctx.site.limitA, ...ctx.externalLimits().flatMap((e) => e.limitA));
  return compositeSchedule(ctx.profiles.installed(), now, durationS, unit, ctx.site.voltage, ceilingA, ctx.site.limitW);
}

export function installHandlers(peer: OcppPeer, ctx: HandlerContext): void {
  const { deviceModel: dm, profiles, log } = ctx;

  peer.handle('GetVariables', (p) => ({ ...dm.getVariables(p as unknown as { getVariableData: GetVariableData[] }) }));
  peer.handle('SetVariables', (p) => ({ ...dm.setVariables(p as unknown as { setVariableData: SetVariableData[] }) }));

  const sendReport = (requestId: number, data: ReturnType<DeviceModel['report']>): void => {
    const chunks = pages(data, dm.getNumber(VAR.itemsGetReport, 20));
    afterAnswer(async () => {
      const generatedAt = new Date(ctx.now()).toISOString();
      for (let seqNo = 0; seqNo < chunks.length; seqNo++) {
        await ctx.send('NotifyReport', { requestId, generatedAt, seqNo, tbc: seqNo < chunks.length - 1, reportData: chunks[seqNo] });
      }
    }, log);
  };

  peer.handle('GetBaseReport', (p) => {
    const data = dm.report(p.reportBase as ReportBase);
    if (data.length === 0) return { status: 'EmptyResultSet' };
    sendReport(p.requestId as number, data);
    return { status: 'Accepted' };
  });

  peer.handle('GetReport', (p) => {
    const data = dm.customReport(p as Parameters<DeviceModel['customReport']>[0]);
    if (data.length === 0) return { status: 'EmptyResultSet' };
    sendReport(p.requestId as number, data);
    return { status: 'Accepted' };
  });

  peer.handle('SetChargingProfile', (p) => {
    if (!dm.getBoolean(VAR.smartChargingAvailable, true)) throw new OcppCallError('NotSupported', 'smart charging is not available (K01.FR.29)');
    const result = profiles.set(p.evseId as number, p.chargingProfile as unknown as ChargingProfile);
    if (result.status === 'Rejected') log.info({ profileId: (p.chargingProfile as { id?: number }).id, ...result.statusInfo }, 'SetChargingProfile rejected');
    return result.statusInfo
      ? { status: result.status, statusInfo: { reasonCode: result.statusInfo.reasonCode, additionalInfo: result.statusInfo.additionalInfo.slice(0, 512) } }
      : { status: result.status };
  });

  peer.handle('ClearChargingProfile', (p) => ({ ...profiles.clear(p as unknown as ClearCriteria) }));

  peer.handle('GetChargingProfiles', (p) => {
    const requestId = p.requestId as number;
    const found = profiles.query(p as unknown as ProfileQuery);
    if (found.length === 0) return { status: 'NoProfiles' };
    const chunks = pages(found, dm.getNumber(VAR.itemsGetReport, 20));
    afterAnswer(async () => {
      for (let i = 0; i < chunks.length; i++) {
        await ctx.send('ReportChargingProfiles', {
          requestId,
          chargingLimitSource: 'CSO',
          evseId: 0,
          chargingProfile: chunks[i].map((x) => x.profile),
          ...(i < chunks.length - 1 ? { tbc: true } : {}),
        });
      }
    }, log);
    return { status: 'Accepted' };
  });

  peer.handle('GetCompositeSchedule', (p) => {
    const evseId = p.evseId as number;
    const duration = p.duration as number;
    if (evseId !== 0) return { status: 'Rejected', statusInfo: { reasonCode: 'UnknownEvse', additionalInfo: `this station has no EVSE ${evseId}` } };
    const unit = (p.chargingRateUnit as RateUnit | undefined) ?? 'A';
    const units = (dm.get(VAR.rateUnit) ?? 'A').split(',');
    if (!units.includes(unit)) return { status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRateUnit' } };
    const now = ctx.now();
    const periods = siteCompositeSchedule(ctx, now, duration, unit);
    return {
      status: 'Accepted',
      schedule: { evseId: 0, duration, scheduleStart: new Date(now).toISOString(), chargingRateUnit: unit, chargingSchedulePeriod: periods },
    };
  });

  peer.handle('TriggerMessage', (p) => {
    if (p.evse !== undefined) return { status: 'Rejected', statusInfo: { reasonCode: 'UnknownEvse' } };
    const what = p.requestedMessage as string;
    if (what === 'BootNotification') {
      setImmediate(ctx.triggerBoot);
      return { status: 'Accepted' };
    }
    if (what === 'Heartbeat') {
      setImmediate(ctx.triggerHeartbeat);
      return { status: 'Accepted' };
    }
    return { status: 'NotImplemented' };
  });

  // The controller restarts only under its service manager; a CSMS Reset is acknowledged and logged.
  peer.handle('Reset', (p) => {
    if (p.evseId !== undefined) return { status: 'Rejected', statusInfo: { reasonCode: 'UnknownEvse' } };
    log.info({ type: p.type }, 'Reset requested by the CSMS: acknowledged, nothing to reset');
    return { status: 'Accepted' };
  });

  // No EVSEs, no connectors, no transactions, no authorization cache or local list.
  peer.handle('ChangeAvailability', () => ({ status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRequest' } }));
  peer.handle('UnlockConnector', () => ({ status: 'UnknownConnector' }));
  peer.handle('RequestStartTransaction', () => ({ status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRequest' } }));
  peer.handle('RequestStopTransaction', () => ({ status: 'Rejected', statusInfo: { reasonCode: 'TxNotFound' } }));
  peer.handle('GetTransactionStatus', () => ({ messagesInQueue: false }));
  peer.handle('ClearCache', () => ({ status: 'Rejected', statusInfo: { reasonCode: 'UnsupportedRequest' } }));
  peer.handle('GetLocalListVersion', () => ({ versionNumber: 0 }));
  peer.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
}
