// SunSpec discovery: find the "SunS" marker at one of the well-known base addresses, walk the model chain until the
// 0xFFFF end marker, and turn the models found into a register map (holding registers, scale-factor registers,
// not-implemented markers honoured) that the generic map reader then polls like any vendor map.
import type { CapabilityName } from '../types.js';
import { ModbusExceptionError } from '../modbus/client.js';
import type { RegisterMap, RegisterSpec, ScalarFieldSpec, VectorFieldSpec } from '../modbus/map.js';
import { loadSunSpecModel, repeatCount, type SunSpecModel } from './model.js';

export const SUNSPEC_BASES = [40000, 50000, 0] as const;
const SUNS = [0x5375, 0x6e53];
const END_MARKER = 0xffff;

export interface DiscoveredModel {
  id: number;
  /** Address of the model's ID register. */
  address: number;
  /** L: registers after the 2-register header. */
  length: number;
}

export interface SunSpecDiscovery {
  base: number;
  models: DiscoveredModel[];
}

export type ReadHolding = (address: number, count: number) => Promise<number[]>;

export class SunSpecDiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SunSpecDiscoveryError';
  }
}

/** Finds the SunSpec block and lists its models. Transport errors propagate; a device without SunSpec throws. */
export async function discoverSunSpec(read: ReadHolding, bases: readonly number[] = SUNSPEC_BASES): Promise<SunSpecDiscovery> {
  const tried: string[] = [];
  for (const base of bases) {
    let marker: number[];
    try {
      marker = await read(base, 2);
    } catch (err) {
      if (err instanceof ModbusExceptionError) {
        tried.push(`${base}: exception ${err.code}`);
        continue;
      }
      throw err;
    }
    if (marker[0] !== SUNS[0] || marker[1] !== SUNS[1]) {
      tried.push(`${base}: no SunS marker`);
      continue;
    }
    const models: DiscoveredModel[] = [];
    let address = base + 2;
    // A chain longer than this is a device bug (or a loop); stop instead of polling forever.
    for (let i = 0; i < 64 && address < 0xffff - 2; i++) {
      const [id, length] = await read(address, 2);
      if (id === END_MARKER) return { base, models };
      if (id === undefined || length === undefined) break;
      models.push({ id, address, length });
      address += 2 + length;
    }
    throw new SunSpecDiscoveryError(`SunSpec model chain at ${base} has no end marker`);
  }
  throw new SunSpecDiscoveryError(`no SunSpec device found (${tried.join('; ')})`);
}

export interface SunSpecIdentity {
  manufacturer: string;
  model: string;
  serial: string;
  version: string;
}

/** Manufacturer, model, serial and version from the common model (1), for the log an installer reads. */
export async function readSunSpecIdentity(read: ReadHolding, found: SunSpecDiscovery): Promise<SunSpecIdentity | undefined> {
  const common = found.models.find((m) => m.id === 1);
  const model = loadSunSpecModel(1);
  if (!common || !model) return undefined;
  const regs = await read(common.address, Math.min(common.length + 2, 125));
  const text = (name: string): string => {
    const p = model.points.get(name);
    if (!p) return '';
    const bytes = Buffer.alloc(p.size * 2);
    for (let i = 0; i < p.size; i++) bytes.writeUInt16BE(regs[p.offset + i] ?? 0, i * 2);
    return bytes.toString('latin1').replace(/\0.*$/s, '').trim();
  };
  return { manufacturer: text('Mn'), model: text('Md'), serial: text('SN'), version: text('Vr') };
}

const METERS = [203, 204, 202, 201, 213, 214, 212, 211];
const INVERTERS = [103, 102, 101, 113, 112, 111];

/** The register map for a discovered SunSpec device: which values it can give and where they are. */
export function sunspecRegisterMap(found: SunSpecDiscovery): RegisterMap {
  const byId = new Map<number, { model: SunSpecModel; at: DiscoveredModel }>();
  for (const at of found.models) {
    const model = loadSunSpecModel(at.id);
    if (model && !byId.has(at.id)) byId.set(at.id, { model, at });
  }
  const pick = (ids: number[]) => ids.map((id) => byId.get(id)).find((x) => x !== undefined);

  const spec = (m: { model: SunSpecModel; at: DiscoveredModel }, point: string, scale = 1): RegisterSpec | undefined => {
    const p = m.model.points.get(point);
    if (!p || !p.type || p.offset + p.size > m.at.length + 2) return undefined;
    const s: RegisterSpec = { register: m.at.address + p.offset, type: p.type };
    if (p.sf) {
      const sf = m.model.points.get(p.sf);
      if (!sf || sf.offset >= m.at.length + 2) return undefined;
      s.scaleRegister = m.at.address + sf.offset;
    }
    if (scale !== 1) s.scale = scale;
    return s;
  };
  const vector = (m: { model: SunSpecModel; at: DiscoveredModel }, names: [string, string, string]): VectorFieldSpec | undefined => {
    const parts = names.map((n) => spec(m, n));
    return parts.every((p) => p !== undefined) ? (parts as VectorFieldSpec) : undefined;
  };

  const fields: RegisterMap['fields'] = {};
  const set = (key: CapabilityName, s: ScalarFieldSpec | VectorFieldSpec | undefined): void => {
    if (s && !(key in fields)) (fields as Record<string, unknown>)[key] = s;
  };

  const meter = pick(METERS);
  if (meter) {
    // Phase vectors only for three-phase meters: a single-phase meter leaves B and C not implemented.
    if (meter.at.id !== 201 && meter.at.id !== 211) {
      set('phaseCurrentsA', vector(meter, ['AphA', 'AphB', 'AphC']));
      set('phaseVoltagesV', vector(meter, ['PhVphA', 'PhVphB', 'PhVphC']));
      set('phasePowersW', vector(meter, ['WphA', 'WphB', 'WphC']));
    }
    // SunSpec meters count power into the site (import) as positive, as our readings do.
    set('activePowerW', spec(meter, 'W'));
    set('importEnergyWh', spec(meter, 'TotWhImp'));
    set('exportEnergyWh', spec(meter, 'TotWhExp'));
  }

  const mppt = byId.get(160);
  if (mppt && mppt.model.repeating) {
    const n = repeatCount(mppt.model, mppt.at.length);
    const dcw = mppt.model.repeating.points.get('DCW');
    const sf = mppt.model.points.get('DCW_SF');
    if (n > 0 && dcw?.type && sf) {
      const start = mppt.at.address + 2 + mppt.model.fixedLength;
      const sum: RegisterSpec[] = [];
      for (let i = 0; i < n; i++) {
        sum.push({ register: start + i * mppt.model.repeating.length + dcw.offset, type: dcw.type, scaleRegister: mppt.at.address + sf.offset });
      }
      set('pvPowerW', { sum });
    }
  }
  const inverter = pick(INVERTERS);
  if (inverter) {
    // AC output of the inverter, production positive; the MPPT sum (above) wins when present because a hybrid
    // inverter's AC power also carries the battery.
    set('pvPowerW', spec(inverter, 'W'));
    if (!meter) {
      set('phaseCurrentsA', vector(inverter, ['AphA', 'AphB', 'AphC']));
      set('phaseVoltagesV', vector(inverter, ['PhVphA', 'PhVphB', 'PhVphC']));
    }
  }
  const controls = byId.get(123);
  if (controls) set('pvPowerLimitPct', spec(controls, 'WMaxLimPct'));

  const battery = byId.get(802);
  if (battery) {
    set('batterySocPct', spec(battery, 'SoC'));
    // Model 802 W: positive while discharging (the battery as a source), the convention of our readings.
    set('batteryPowerW', spec(battery, 'W'));
    set('batteryMaxChargeW', spec(battery, 'WChaRteMax'));
    set('batteryMaxDischargeW', spec(battery, 'WDisChaRteMax'));
  }
  const storage = byId.get(124);
  let storageControls: RegisterMap['controls'];
  if (storage) {
    set('batterySocPct', spec(storage, 'ChaState'));
    set('batteryMaxChargeW', spec(storage, 'WChaMax'));
    const at = (point: string) => {
      const p = storage.model.points.get(point);
      return p && p.offset < storage.at.length + 2 ? storage.at.address + p.offset : undefined;
    };
    const [mode, rate, rateScale, maxW, maxWScale, revert] = ['StorCtl_Mod', 'OutWRte', 'InOutWRte_SF', 'WChaMax', 'WChaMax_SF', 'InOutWRte_RvrtTms'].map(at);
    if (mode !== undefined && rate !== undefined && rateScale !== undefined && maxW !== undefined && maxWScale !== undefined) {
      storageControls = { batteryDischarge: { mode, rate, rateScale, maxW, maxWScale, ...(revert !== undefined ? { revert } : {}) } };
    }
  }

  if (Object.keys(fields).length === 0) {
    throw new SunSpecDiscoveryError(
      `SunSpec device has no model this controller reads (found ${found.models.map((m) => m.id).join(', ') || 'none'})`,
    );
  }
  return {
    name: 'sunspec',
    description: `SunSpec at ${found.base}: models ${found.models.map((m) => m.id).join(', ')}`,
    table: 'holding',
    sunspecMarkers: true,
    // Every register of the SunSpec block exists (the chain is contiguous), so reading across unused points is
    // safe and turns a meter poll into one or two requests.
    maxGap: 100,
    fields,
    ...(storageControls ? { controls: storageControls } : {}),
  };
}
