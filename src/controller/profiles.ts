// Charging profiles installed on the controller's identity by the CSMS (K01 set, K09 get, K10 clear), persisted.
import { Subject, type Observable } from 'rxjs';
import type { ProfileStore } from '../store/profiles.js';
import { VAR, type DeviceModel } from './device-model.js';
import type { ChargingProfile, InstalledProfile, ProfilePurpose, ProfileRejection } from './profiles-types.js';
import { validateProfile } from './profiles-validate.js';

export interface SetProfileResult {
  status: 'Accepted' | 'Rejected';
  statusInfo?: ProfileRejection;
}

export interface ClearCriteria {
  chargingProfileId?: number;
  chargingProfileCriteria?: { evseId?: number; chargingProfilePurpose?: ProfilePurpose; stackLevel?: number };
}

export interface ProfileQuery {
  evseId?: number;
  chargingProfile: { chargingProfilePurpose?: ProfilePurpose; stackLevel?: number; chargingProfileId?: number[]; chargingLimitSource?: string[] };
}

export class ChargingProfiles {
  private readonly byId = new Map<number, InstalledProfile>();
  private readonly changed = new Subject<void>();
  /** Emits after every change of the installed set. */
  readonly changes$: Observable<void> = this.changed.asObservable();

  constructor(
    private readonly store: ProfileStore,
    private readonly deviceModel: DeviceModel,
    private readonly now: () => number,
  ) {
    for (const p of store.load()) {
      this.byId.set(p.id, { evseId: p.evseId, profile: p.profile as unknown as ChargingProfile, receivedAt: p.receivedAt });
    }
    deviceModel.provide(VAR.profileEntries, () => String(this.byId.size));
  }

  installed(): InstalledProfile[] {
    return [...this.byId.values()];
  }

  /**
   * K01: validates and installs (replacing a profile with the same id). `replaceSameLevel` is OCPP 1.6's rule (§5.16.2):
   * a profile with the same purpose and stackLevel on the same connector is replaced rather than refused.
   */
  set(evseId: number, profile: ChargingProfile, opts: { replaceSameLevel?: boolean } = {}): SetProfileResult {
    if (!this.deviceModel.getBoolean(VAR.smartChargingEnabled, true)) {
      return { status: 'Rejected', statusInfo: { reasonCode: 'NotEnabled', additionalInfo: 'SmartChargingCtrlr.Enabled is false' } };
    }
    const now = this.now();
    const sameLevel = (p: InstalledProfile) =>
      p.profile.id !== profile.id && p.evseId === evseId && p.profile.chargingProfilePurpose === profile.chargingProfilePurpose && p.profile.stackLevel === profile.stackLevel;
    const replaced = opts.replaceSameLevel ? this.installed().filter(sameLevel) : [];
    const rejection = validateProfile(evseId, profile, {
      now,
      installed: this.installed().filter((p) => !replaced.includes(p)),
      rateUnits: (this.deviceModel.get(VAR.rateUnit) ?? 'A').split(',').map((s) => s.trim()),
      periodsPerSchedule: this.deviceModel.getNumber(VAR.periodsPerSchedule, 24),
      maxStackLevel: this.deviceModel.getNumber(VAR.profileStackLevel, 10),
      maxEntries: this.deviceModel.definition(VAR.profileEntries)?.maxLimit ?? 32,
    });
    if (rejection) return { status: 'Rejected', statusInfo: rejection };
    const installed: InstalledProfile = { evseId, profile, receivedAt: now };
    if (replaced.length) {
      this.store.remove(replaced.map((p) => p.profile.id));
      for (const p of replaced) this.byId.delete(p.profile.id);
    }
    this.store.put({
      id: profile.id,
      evseId,
      purpose: profile.chargingProfilePurpose,
      stackLevel: profile.stackLevel,
      profile: profile as unknown as Record<string, unknown>,
      receivedAt: now,
    });
    this.byId.set(profile.id, installed);
    this.changed.next();
    return { status: 'Accepted' };
  }

  /** K10: clears by id, or by criteria (all when none). */
  clear(request: ClearCriteria): { status: 'Accepted' | 'Unknown' } {
    let victims: InstalledProfile[];
    if (request.chargingProfileId !== undefined) {
      const p = this.byId.get(request.chargingProfileId);
      victims = p ? [p] : [];
    } else {
      const c = request.chargingProfileCriteria ?? {};
      victims = this.installed().filter(
        (p) =>
          (c.evseId === undefined || p.evseId === c.evseId) &&
          (c.chargingProfilePurpose === undefined || p.profile.chargingProfilePurpose === c.chargingProfilePurpose) &&
          (c.stackLevel === undefined || p.profile.stackLevel === c.stackLevel),
      );
    }
    if (victims.length === 0) return { status: 'Unknown' };
    const ids = victims.map((v) => v.profile.id);
    this.store.remove(ids);
    for (const id of ids) this.byId.delete(id);
    this.changed.next();
    return { status: 'Accepted' };
  }

  /** K09: the installed profiles matching a GetChargingProfilesRequest (all were set by the CSMS: source CSO). */
  query(q: ProfileQuery): InstalledProfile[] {
    const c = q.chargingProfile;
    if (c.chargingLimitSource && !c.chargingLimitSource.includes('CSO')) return [];
    return this.installed().filter(
      (p) =>
        (q.evseId === undefined || p.evseId === q.evseId) &&
        (c.chargingProfilePurpose === undefined || p.profile.chargingProfilePurpose === c.chargingProfilePurpose) &&
        (c.stackLevel === undefined || p.profile.stackLevel === c.stackLevel) &&
        (c.chargingProfileId === undefined || c.chargingProfileId.includes(p.profile.id)),
    );
  }
}
