// SunSpec model definitions -> register offsets. The offsets are not typed by hand: they follow from the order and
// size of the points in the official model JSON (drivers/sunspec/models/, Apache-2.0, SunSpec Alliance), with the
// ID and L header at offsets 0 and 1 and a repeating group (e.g. model 160's MPPT modules) after the fixed block.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { driversDataDir } from '../paths.js';
import type { RegisterType } from '../modbus/codec.js';

export interface SunSpecPoint {
  name: string;
  /** Offset from the model's first register (the ID register). */
  offset: number;
  size: number;
  /** Decodable register type, or undefined for strings, pads and other non-numeric points. */
  type: RegisterType | undefined;
  sunspecType: string;
  /** Name of the scale-factor point, when the value is scaled. */
  sf?: string;
  units?: string;
}

export interface SunSpecModel {
  id: number;
  name: string;
  /** Points of the fixed block, by name, with offsets from the ID register. */
  points: Map<string, SunSpecPoint>;
  /** Registers of the fixed block after the 2-register header (the minimum L). */
  fixedLength: number;
  /** The repeating group, if the model has one: points with offsets relative to the group start. */
  repeating?: { name: string; points: Map<string, SunSpecPoint>; length: number };
}

interface JsonPoint {
  name: string;
  type: string;
  size?: number;
  sf?: string | number;
  units?: string;
}
interface JsonGroup {
  name: string;
  count?: number | string;
  points?: JsonPoint[];
  groups?: JsonGroup[];
}

const TYPE_MAP: Record<string, RegisterType> = {
  int16: 'int16', uint16: 'uint16', int32: 'int32', uint32: 'uint32', int64: 'int64', float32: 'float32',
  acc16: 'uint16', acc32: 'uint32', acc64: 'uint64', sunssf: 'sunssf', enum16: 'uint16', bitfield16: 'uint16',
  enum32: 'uint32', bitfield32: 'uint32', count: 'uint16', uint64: 'uint64',
};

function layout(points: JsonPoint[] | undefined, start: number): { map: Map<string, SunSpecPoint>; end: number } {
  const map = new Map<string, SunSpecPoint>();
  let offset = start;
  for (const p of points ?? []) {
    const size = p.size ?? 1;
    map.set(p.name, {
      name: p.name, offset, size, type: TYPE_MAP[p.type], sunspecType: p.type,
      sf: typeof p.sf === 'string' ? p.sf : undefined, units: p.units,
    });
    offset += size;
  }
  return { map, end: offset };
}

/** Builds a model from its parsed JSON (the official format: { id, group: { points, groups } }). */
export function parseSunSpecModel(json: unknown): SunSpecModel {
  const root = json as { id?: unknown; group?: JsonGroup };
  if (typeof root.id !== 'number' || !root.group || !Array.isArray(root.group.points)) {
    throw new Error('not a SunSpec model JSON (needs id and group.points)');
  }
  const fixed = layout(root.group.points, 0);
  const model: SunSpecModel = { id: root.id, name: root.group.name, points: fixed.map, fixedLength: fixed.end - 2 };
  const rep = (root.group.groups ?? [])[0];
  if (rep) {
    const g = layout(rep.points, 0);
    model.repeating = { name: rep.name, points: g.map, length: g.end };
  }
  return model;
}

export function sunspecModelsDir(): string {
  return driversDataDir(join('sunspec', 'models'), 'model_1.json');
}

const cache = new Map<number, SunSpecModel | null>();

/** The definition of model `id`, or undefined when it is not bundled. */
export function loadSunSpecModel(id: number, dir = sunspecModelsDir()): SunSpecModel | undefined {
  if (cache.has(id)) return cache.get(id) ?? undefined;
  let model: SunSpecModel | null = null;
  try {
    model = parseSunSpecModel(JSON.parse(readFileSync(join(dir, `model_${id}.json`), 'utf8')));
  } catch {
    model = null;
  }
  cache.set(id, model);
  return model ?? undefined;
}

/** Number of repeating-group instances a model of length L (registers after the header) holds. */
export function repeatCount(model: SunSpecModel, length: number): number {
  if (!model.repeating || model.repeating.length === 0) return 0;
  return Math.max(0, Math.floor((length - model.fixedLength) / model.repeating.length));
}
