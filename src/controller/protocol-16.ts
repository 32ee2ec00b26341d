// The controller's identity as an OCPP 1.6J charge point with no connectors (NumberOfConnectors 0) toward a CSMS that
// speaks only 1.6: BootNotification, Heartbeat, StatusNotification of connector 0, Get/ChangeConfiguration over the
// shared device model (configuration-16.ts), and the site limit from a ChargePointMaxProfile on connector 0, which is
// converted to the 2.0.1 shape and installed in the same ChargingProfiles as a ChargingStationMaxProfile — so the
// site-limit stream, the persistence and the K01 validity checks are the 2.0.1 identity's. Feature profiles it does not
// have (LocalAuthListManagement, Reservation, FirmwareManagement) answer NotSupported; unknown actions NotImplemented.
import type { OcppPeer } from '../ocpp/index.js';
import { profile16Problem, profileFrom16, purposeFrom16, type ChargingProfile16, type ProfilePurpose16 } from '../ocpp/charging-profile-16.js';
import { OcppCallError } from '../ocpp/errors.js';
import { changeConfiguration, getConfiguration } from './configuration-16.js';
import { VAR } from './device-model.js';
import type { IdentityProtocol } from './identity-protocol.js';
import type { RateUnit } from './profiles-types.js';
import { siteCompositeSchedule, type HandlerContext } from './station-handlers.js';

const isInt = (x: unknown): x is number => Number.isInteger(x);

function requireInt(p: Record<string, unknown>, field: string, optional = false): number | undefined {
  const v = p[field];
  if (v === undefined && optional) return undefined;
  if (!isInt(v)) throw new OcppCallError('TypeConstraintViolation', `${field} must be an integer`);
  return v;
}

const connector0Status = (now: number): Record<string, unknown> => ({ connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: new Date(now).toISOString() });

function afterAnswer(ctx: HandlerContext, action: string, payload: () => Record<string, unknown>): void {
  setImmediate(() => {
    ctx.send(action, payload()).catch((err: Error) => ctx.log.warn({ err: err.message, action }, 'triggered message to the CSMS failed'));
  });
}

function triggerMessage(ctx: HandlerContext, p: Record<string, unknown>): { status: 'Accepted' | 'Rejected' | 'NotImplemented' } {
  const connectorId = requireInt(p, 'connectorId', true);
  if (connectorId !== undefined && connectorId !== 0) return { status: 'Rejected' };
  switch (p.requestedMessage) {
    case 'BootNotification':
      setImmediate(ctx.triggerBoot);
      return { status: 'Accepted' };
    case 'Heartbeat':
      setImmediate(ctx.triggerHeartbeat);
      return { status: 'Accepted' };
    case 'StatusNotification':
      afterAnswer(ctx, 'StatusNotification', () => connector0Status(ctx.now()));
      return { status: 'Accepted' };
    default:
      return { status: 'NotImplemented' };
  }
}

function setChargingProfile(ctx: HandlerContext, p: Record<string, unknown>): { status: 'Accepted' | 'Rejected' | 'NotSupported' } {
  const { deviceModel: dm, profiles, log } = ctx;
  if (!dm.getBoolean(VAR.smartChargingAvailable, true)) return { status: 'NotSupported' };
  const connectorId = requireInt(p, 'connectorId') as number;
  const problem = profile16Problem(p.csChargingProfiles);
  if (problem) throw new OcppCallError('PropertyConstraintViolation', `csChargingProfiles: ${problem}`);
  const profile = profileFrom16(p.csChargingProfiles as ChargingProfile16);
  // 1.6 lets an Absolute schedule leave out startSchedule; a ChargePointMaxProfile then limits from when it is valid.
  const schedule = profile.chargingSchedule[0];
  if (profile.chargingProfileKind === 'Absolute' && schedule.startSchedule === undefined) {
    schedule.startSchedule = profile.validFrom ?? new Date(ctx.now()).toISOString();
  }
  const result = profiles.set(connectorId, profile, { replaceSameLevel: true });
  if (result.status === 'Rejected') log.info({ profileId: profile.id, ...result.statusInfo }, 'SetChargingProfile (1.6) rejected');
  return { status: result.status };
}

function clearChargingProfile(ctx: HandlerContext, p: Record<string, unknown>): { status: 'Accepted' | 'Unknown' } {
  const id = requireInt(p, 'id', true);
  const connectorId = requireInt(p, 'connectorId', true);
  const stackLevel = requireInt(p, 'stackLevel', true);
  const purpose = p.chargingProfilePurpose as ProfilePurpose16 | undefined;
  if (purpose !== undefined && !['ChargePointMaxProfile', 'TxDefaultProfile', 'TxProfile'].includes(purpose)) {
    throw new OcppCallError('PropertyConstraintViolation', 'unknown chargingProfilePurpose');
  }
  if (id !== undefined) return ctx.profiles.clear({ chargingProfileId: id });
  return ctx.profiles.clear({
    chargingProfileCriteria: {
      ...(connectorId !== undefined ? { evseId: connectorId } : {}),
      ...(purpose !== undefined ? { chargingProfilePurpose: purposeFrom16(purpose) } : {}),
      ...(stackLevel !== undefined ? { stackLevel } : {}),
    },
  });
}

function getCompositeSchedule(ctx: HandlerContext, p: Record<string, unknown>): Record<string, unknown> {
  const connectorId = requireInt(p, 'connectorId') as number;
  const duration = requireInt(p, 'duration') as number;
  if (connectorId !== 0 || duration < 0) return { status: 'Rejected' };
  const unit = (p.chargingRateUnit as RateUnit | undefined) ?? 'A';
  const units = (ctx.deviceModel.get(VAR.rateUnit) ?? 'A').split(',').map((u) => u.trim());
  if (!units.includes(unit)) return { status: 'Rejected' };
  const now = ctx.now();
  const startSchedule = new Date(now).toISOString();
  return {
    status: 'Accepted',
    connectorId: 0,
    scheduleStart: startSchedule,
    chargingSchedule: { duration, startSchedule, chargingRateUnit: unit, chargingSchedulePeriod: siteCompositeSchedule(ctx, now, duration, unit) },
  };
}

function notSupported(profile: string): () => never {
  return () => {
    throw new OcppCallError('NotSupported', `feature profile ${profile} is not in SupportedFeatureProfiles`);
  };
}

export function installHandlers16(peer: OcppPeer, ctx: HandlerContext): void {
  const { deviceModel: dm, log } = ctx;
  peer.handle('GetConfiguration', (p) => ({ ...getConfiguration(dm, p) }));
  peer.handle('ChangeConfiguration', (p) => {
    if (typeof p.key !== 'string' || typeof p.value !== 'string') throw new OcppCallError('TypeConstraintViolation', 'key and value must be strings');
    const r = changeConfiguration(dm, p.key, p.value);
    if (r.status !== 'Accepted') log.info({ key: p.key, status: r.status, reason: r.reason }, 'ChangeConfiguration not accepted');
    return { status: r.status };
  });
  peer.handle('SetChargingProfile', (p) => setChargingProfile(ctx, p));
  peer.handle('ClearChargingProfile', (p) => clearChargingProfile(ctx, p));
  peer.handle('GetCompositeSchedule', (p) => getCompositeSchedule(ctx, p));
  peer.handle('TriggerMessage', (p) => triggerMessage(ctx, p));
  peer.handle('ExtendedTriggerMessage', (p) => triggerMessage(ctx, p));
  // The controller restarts only under its service manager; a CSMS Reset is acknowledged and logged.
  peer.handle('Reset', (p) => {
    log.info({ type: p.type }, 'Reset requested by the CSMS: acknowledged, nothing to reset');
    return { status: 'Accepted' };
  });
  // No connectors, no transactions, no authorization cache.
  peer.handle('ChangeAvailability', () => ({ status: 'Rejected' }));
  peer.handle('UnlockConnector', () => ({ status: 'NotSupported' }));
  peer.handle('RemoteStartTransaction', () => ({ status: 'Rejected' }));
  peer.handle('RemoteStopTransaction', () => ({ status: 'Rejected' }));
  peer.handle('ClearCache', () => ({ status: 'Rejected' }));
  peer.handle('DataTransfer', () => ({ status: 'UnknownVendorId' }));
  for (const action of ['GetLocalListVersion', 'SendLocalList']) peer.handle(action, notSupported('LocalAuthListManagement'));
  for (const action of ['ReserveNow', 'CancelReservation']) peer.handle(action, notSupported('Reservation'));
  for (const action of ['GetDiagnostics', 'UpdateFirmware', 'SignedUpdateFirmware']) peer.handle(action, notSupported('FirmwareManagement'));
}

export const ocpp16Identity: IdentityProtocol = {
  subprotocol: 'ocpp1.6',
  bootNotification: (_reason, c) => ({
    chargePointVendor: c.vendor,
    chargePointModel: c.model,
    firmwareVersion: c.firmwareVersion,
    ...(c.serialNumber ? { chargePointSerialNumber: c.serialNumber } : {}),
  }),
  installHandlers: installHandlers16,
  reportsExternalLimits: false,
  // §4.9: after an accepted boot a charge point reports the status of its connectors; the controller has connector 0 only.
  onRegistered: (call, now) => call('StatusNotification', connector0Status(now)).then(() => undefined),
};
