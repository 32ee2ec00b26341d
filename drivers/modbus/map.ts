// Register maps are data: a JSON file per device type declares, for each measured value the device has, where it
// lives (register, table), how it is encoded (type, byte and word order) and how to scale it into A, V, W, Wh, %.
// A user adds a device by dropping a map file into drivers/maps/ or pointing `map:` at a file path.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { driversDataDir } from '../paths.js';
import type { CapabilityName } from '../types.js';
import { REGISTER_TYPES, type ByteOrder, type RegisterType, type WordOrder } from './codec.js';
import type { RegisterTable } from './client.js';

/** Where one number lives and how to turn it into a value in the reading's unit. */
export interface RegisterSpec {
  register: number;
  type: RegisterType;
  table?: RegisterTable;
  byteOrder?: ByteOrder;
  wordOrder?: WordOrder;
  /** Fixed factor applied after decoding (e.g. 1000 for kWh -> Wh, -1 to flip a sign convention). */
  scale?: number;
  /** A SunSpec-style scale-factor register (int16 exponent, value * 10^sf), same table as the value. */
  scaleRegister?: number;
  /** Added after scaling. */
  offset?: number;
  /** Treat the SunSpec not-implemented markers (0x8000, 0xFFFF, 0x80000000, NaN) as absent values. */
  sunspecMarkers?: boolean;
}

/** A scalar value that is the sum of several registers (e.g. PV power over MPPT inputs). */
export interface SumSpec {
  sum: RegisterSpec[];
}

export type ScalarFieldSpec = RegisterSpec | SumSpec;
export type VectorFieldSpec = [ScalarFieldSpec, ScalarFieldSpec, ScalarFieldSpec];

export const VECTOR_FIELDS = ['phaseCurrentsA', 'phaseVoltagesV', 'phasePowersW'] as const;
export const SCALAR_FIELDS = [
  'activePowerW', 'importEnergyWh', 'exportEnergyWh', 'pvPowerW', 'pvPowerLimitPct', 'batterySocPct',
  'batteryPowerW', 'batteryMaxChargeW', 'batteryMaxDischargeW',
] as const;
export type VectorField = (typeof VECTOR_FIELDS)[number];
export type ScalarField = (typeof SCALAR_FIELDS)[number];

export type MapFields = Partial<Record<VectorField, VectorFieldSpec> & Record<ScalarField, ScalarFieldSpec>>;

export interface RegisterMap {
  name: string;
  /** What the device is and where the registers come from (manual, datasheet). */
  description?: string;
  /** Defaults for every field that does not say otherwise. */
  table?: RegisterTable;
  byteOrder?: ByteOrder;
  wordOrder?: WordOrder;
  sunspecMarkers?: boolean;
  /** Merge two reads when at most this many unused registers lie between them (default 0: contiguous only). */
  maxGap?: number;
  fields: MapFields;
  /** What the controller may set on the device (found by SunSpec discovery; register map files declare none). */
  controls?: { batteryDischarge?: BatteryDischargeRegisters };
}

/**
 * A storage inverter's discharge limit as SunSpec model 124 has it (holding registers): StorCtl_Mod (bit 1 turns the
 * limit on), OutWRte (percent of WChaMax, scaled by InOutWRte_SF) and InOutWRte_RvrtTms (seconds after which the
 * inverter drops the limit by itself unless it is written again). All addresses absolute.
 */
export interface BatteryDischargeRegisters {
  mode: number;
  rate: number;
  rateScale: number;
  revert?: number;
  maxW: number;
  maxWScale: number;
}

const ALL_FIELDS = new Set<string>([...VECTOR_FIELDS, ...SCALAR_FIELDS]);

export class RegisterMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegisterMapError';
  }
}

/** Checks an untrusted object (parsed JSON) and returns it typed, or throws naming the bad key path. */
export function validateRegisterMap(raw: unknown, source = 'register map'): RegisterMap {
  const fail = (path: string, msg: string): never => {
    throw new RegisterMapError(`${source}: ${path} ${msg}`);
  };
  if (!isObject(raw)) return fail('(root)', 'must be an object');
  if (typeof raw.name !== 'string' || raw.name === '') fail('name', 'must be a non-empty string');
  if (raw.description !== undefined && typeof raw.description !== 'string') fail('description', 'must be a string');
  checkTable(raw.table, 'table', fail);
  checkOrder(raw.byteOrder, 'byteOrder', fail);
  checkOrder(raw.wordOrder, 'wordOrder', fail);
  if (raw.sunspecMarkers !== undefined && typeof raw.sunspecMarkers !== 'boolean') fail('sunspecMarkers', 'must be a boolean');
  if (raw.maxGap !== undefined && !(Number.isInteger(raw.maxGap) && (raw.maxGap as number) >= 0 && (raw.maxGap as number) <= 100)) {
    fail('maxGap', 'must be an integer 0..100');
  }
  if (!isObject(raw.fields)) return fail('fields', 'must be an object');
  const fields = raw.fields;
  if (Object.keys(fields).length === 0) fail('fields', 'must declare at least one value');
  for (const [key, spec] of Object.entries(fields)) {
    const path = `fields.${key}`;
    if (!ALL_FIELDS.has(key)) fail(path, `is not a known value (one of ${[...ALL_FIELDS].join(', ')})`);
    if ((VECTOR_FIELDS as readonly string[]).includes(key)) {
      if (!Array.isArray(spec) || spec.length !== 3) fail(path, 'must be a list of 3 registers (L1, L2, L3)');
      (spec as unknown[]).forEach((s, i) => checkScalar(s, `${path}[${i}]`, fail));
    } else {
      checkScalar(spec, path, fail);
    }
  }
  return raw as unknown as RegisterMap;
}

function checkScalar(spec: unknown, path: string, fail: (p: string, m: string) => never): void {
  if (isObject(spec) && 'sum' in spec) {
    if (!Array.isArray(spec.sum) || spec.sum.length === 0) fail(`${path}.sum`, 'must be a non-empty list');
    (spec.sum as unknown[]).forEach((s, i) => checkRegister(s, `${path}.sum[${i}]`, fail));
    return;
  }
  checkRegister(spec, path, fail);
}

function checkRegister(spec: unknown, path: string, fail: (p: string, m: string) => never): void {
  if (!isObject(spec)) return fail(path, 'must be an object');
  if (!isRegisterAddress(spec.register)) fail(`${path}.register`, 'must be an integer 0..65535');
  if (typeof spec.type !== 'string' || !(REGISTER_TYPES as readonly string[]).includes(spec.type)) {
    fail(`${path}.type`, `must be one of ${REGISTER_TYPES.join(', ')}`);
  }
  checkTable(spec.table, `${path}.table`, fail);
  checkOrder(spec.byteOrder, `${path}.byteOrder`, fail);
  checkOrder(spec.wordOrder, `${path}.wordOrder`, fail);
  for (const k of ['scale', 'offset'] as const) {
    if (spec[k] !== undefined && !(typeof spec[k] === 'number' && Number.isFinite(spec[k]))) fail(`${path}.${k}`, 'must be a number');
  }
  if (spec.scale === 0) fail(`${path}.scale`, 'must not be 0');
  if (spec.scaleRegister !== undefined && !isRegisterAddress(spec.scaleRegister)) {
    fail(`${path}.scaleRegister`, 'must be an integer 0..65535');
  }
  if (spec.sunspecMarkers !== undefined && typeof spec.sunspecMarkers !== 'boolean') fail(`${path}.sunspecMarkers`, 'must be a boolean');
}

function checkTable(v: unknown, path: string, fail: (p: string, m: string) => never): void {
  if (v !== undefined && v !== 'holding' && v !== 'input') fail(path, 'must be "holding" or "input"');
}
function checkOrder(v: unknown, path: string, fail: (p: string, m: string) => never): void {
  if (v !== undefined && v !== 'big' && v !== 'little') fail(path, 'must be "big" or "little"');
}
function isRegisterAddress(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;
}
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The folder holding the bundled maps (drivers/maps). */
export function bundledMapsDir(): string {
  return driversDataDir('maps', 'eastron-sdm630.json');
}

/** Loads `name` (a file in drivers/maps/ without .json) or a path to a JSON file. */
export function loadRegisterMap(nameOrPath: string, mapsDir = bundledMapsDir()): RegisterMap {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json');
  if (!looksLikePath && !/^[A-Za-z0-9._-]+$/.test(nameOrPath)) {
    throw new RegisterMapError(`register map name "${nameOrPath}" has characters a map name cannot have`);
  }
  const file = looksLikePath ? (isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath)) : join(mapsDir, `${nameOrPath}.json`);
  if (!existsSync(file)) {
    throw new RegisterMapError(
      looksLikePath ? `register map file ${file} does not exist` : `no register map "${nameOrPath}" in ${mapsDir}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RegisterMapError(`register map ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return validateRegisterMap(parsed, file);
}

/** The capabilities (measured values) a map can deliver. */
export function mapCapabilities(map: RegisterMap): CapabilityName[] {
  return Object.keys(map.fields) as CapabilityName[];
}
