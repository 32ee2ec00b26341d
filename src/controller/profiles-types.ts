// Charging profile shapes on the controller's identity. The OCPP types and their evaluation live in
// src/ocpp/charging-schedule.ts (shared with the control loop and the simulated station); re-exported here for the
// controller's modules.
export type {
  ChargingProfile,
  ChargingSchedule,
  ChargingSchedulePeriod,
  InstalledProfile,
  ProfileKind,
  ProfilePurpose,
  RateUnit,
} from '../ocpp/charging-schedule.js';

/** Why a profile was rejected: a SetChargingProfileResponse statusInfo. */
export interface ProfileRejection {
  reasonCode: string;
  additionalInfo: string;
}
