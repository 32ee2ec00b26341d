// Charging profile shapes as they travel in SetChargingProfile / ReportChargingProfiles (OCPP 2.0.1 ChargingProfileType).
export type ProfilePurpose = 'ChargingStationExternalConstraints' | 'ChargingStationMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
export type ProfileKind = 'Absolute' | 'Recurring' | 'Relative';
export type RateUnit = 'A' | 'W';

export interface ChargingSchedulePeriod {
  /** Seconds from the start of the schedule. */
  startPeriod: number;
  limit: number;
  numberPhases?: number;
  phaseToUse?: number;
}

export interface ChargingSchedule {
  id: number;
  startSchedule?: string;
  /** Seconds; absent = the last period runs on indefinitely. */
  duration?: number;
  chargingRateUnit: RateUnit;
  chargingSchedulePeriod: ChargingSchedulePeriod[];
  minChargingRate?: number;
  salesTariff?: Record<string, unknown>;
}

export interface ChargingProfile {
  id: number;
  stackLevel: number;
  chargingProfilePurpose: ProfilePurpose;
  chargingProfileKind: ProfileKind;
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  transactionId?: string;
  chargingSchedule: ChargingSchedule[];
}

/** A profile as installed on the controller's identity. */
export interface InstalledProfile {
  evseId: number;
  profile: ChargingProfile;
  /** Epoch ms it was accepted: an absent validFrom means valid from then. */
  receivedAt: number;
}

/** Why a profile was rejected: a SetChargingProfileResponse statusInfo. */
export interface ProfileRejection {
  reasonCode: string;
  additionalInfo: string;
}
