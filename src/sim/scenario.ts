// Loads a scenario file (YAML, shared/CONTRACT.md format), validates it and names every problem by its key path, the
// same way src/config/load.ts does for the config file. Random EV fleets are expanded here from their own seed.
import { dirname, resolve } from 'node:path';
import { FileProblemsError, readYamlFile } from '../common/yaml-file.js';
import type { PhaseVector, Rotation } from '../../algorithms/types.js';
import { readCsvShape } from './physics/site.js';
import { createPrng } from './prng.js';
import type { ChargerQuirk } from './quirks.js';
import { closestBranches, describe, validateScenario } from './scenario-schema.js';
import type { BaseLoadSpec, ChargerSpec, CircuitSpec, EvSpec, ProfileHandling, Scenario } from './scenario-types.js';
import { VIRTUAL_EPOCH } from './virtual-time.js';

export class ScenarioError extends FileProblemsError {
  override name = 'ScenarioError';
}

/** "24h" | "1h30m" | "500ms" | seconds -> ms. */
export function parseSpan(v: string | number): number {
  if (typeof v === 'number') return v * 1000;
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return ms;
}

/** "HH:MM" -> ms after 00:00 day 1; "HH:MM+1" -> on day 2. Undefined for an impossible time of day. */
export function parseClock(v: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})(?:\+(\d+))?$/.exec(v);
  if (!m) return undefined;
  const [h, min, day] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || min > 59) return undefined;
  return (day * 24 * 60 + h * 60 + min) * 60_000;
}

interface RawEv {
  charger: string;
  arrive: string;
  depart: string;
  energyWh: number;
  maxA?: number;
  phases?: 1 | 3;
  priority?: number;
  capacityWh?: number;
  sendsNeeds?: boolean;
  entersNeeds?: boolean;
}
interface RawRandom {
  count: number;
  seed?: number;
  arrive?: [string, string];
  stayH?: [number, number];
  energyWh?: [number, number];
  maxA?: number[];
  onePhaseShare?: number;
  priority?: number;
}
interface RawBaseLoad { shape: string; peakA?: PhaseVector; noise?: number }
interface Raw {
  name: string;
  duration: string | number;
  step?: string | number;
  seed?: number;
  site: { limitA: PhaseVector; voltage?: number };
  mode?: 'fast' | 'pv' | 'minpv';
  baseLoad?: RawBaseLoad;
  pv?: { peakW: number; clouds?: number };
  battery?: { capacityWh: number; maxW: number; soc?: number; minSoc?: number; reserveForEvs?: boolean; refillFromPv?: boolean };
  circuits?: { id: string; limitA: PhaseVector; parent?: string; baseLoad?: RawBaseLoad }[];
  chargers: {
    id: string;
    circuit?: string;
    phases?: 1 | 3;
    maxA?: number;
    rotation?: Rotation;
    reactionS?: number;
    honorsProfiles?: boolean;
    profiles?: ProfileHandling;
    meterValuesS?: number;
    protocol?: 'ocpp2.0.1' | 'ocpp1.6';
    quirks?: ChargerQuirk[];
    phaseSwitching?: boolean;
    reportsSuspendedEV?: boolean;
  }[];
  evs: (RawEv | { random: RawRandom })[] | { random: RawRandom };
}

function toBaseLoad(b: RawBaseLoad | undefined): BaseLoadSpec {
  if (!b) return { shape: 'flat', peakA: [0, 0, 0], noise: 0 };
  const shape = b.shape.startsWith('csv:') ? { csv: b.shape.slice(4) } : (b.shape as 'office' | 'home' | 'flat');
  return { shape, peakA: b.peakA ?? [0, 0, 0], noise: b.noise ?? 0.05 };
}

const evDefaults = (energyWh: number) => ({ capacityWh: Math.max(60_000, energyWh / 0.8) });

/** Random fleet: arrivals in a window, each EV takes a charger that is free at its arrival (or does not come). */
function randomFleet(r: RawRandom, chargers: ChargerSpec[], taken: Map<string, { from: number; to: number }[]>, firstIndex: number, scenarioSeed: number): EvSpec[] {
  const rng = createPrng(r.seed ?? scenarioSeed);
  const [from, to] = (r.arrive ?? ['07:00', '10:00']).map((c) => parseClock(c) ?? 0);
  const [stayMin, stayMax] = r.stayH ?? [3, 9];
  const [eMin, eMax] = r.energyWh ?? [8_000, 40_000];
  const maxAs = r.maxA ?? [16, 32];
  const arrivals = Array.from({ length: r.count }, () => Math.round(rng.range(from, Math.max(from, to)) / 60_000) * 60_000).sort((a, b) => a - b);
  const out: EvSpec[] = [];
  for (const arriveAt of arrivals) {
    const departAt = arriveAt + Math.round(rng.range(stayMin, stayMax) * 60) * 60_000;
    const free = chargers.filter((c) => !(taken.get(c.id) ?? []).some((w) => arriveAt < w.to && w.from < departAt));
    const onePhase = rng.next() < (r.onePhaseShare ?? 0.3);
    const energyWh = Math.round(rng.range(eMin, eMax));
    const maxA = maxAs[rng.int(0, maxAs.length - 1)];
    if (!free.length) continue;
    const charger = free[rng.int(0, free.length - 1)];
    const list = taken.get(charger.id) ?? [];
    list.push({ from: arriveAt, to: departAt });
    taken.set(charger.id, list);
    out.push({
      id: `EV${firstIndex + out.length + 1}`,
      charger: charger.id,
      arriveAt,
      departAt,
      energyWh,
      maxA,
      phases: onePhase ? 1 : 3,
      priority: r.priority ?? 0,
      sendsNeeds: true,
      entersNeeds: false,
      ...evDefaults(energyWh),
    });
  }
  return out;
}

/** Validates a parsed scenario; returns it with defaults and epoch times, or throws ScenarioError listing every problem. */
export function parseScenario(raw: unknown, baseDir = process.cwd(), file?: string, epoch = VIRTUAL_EPOCH): Scenario {
  if (!validateScenario(raw)) throw new ScenarioError([...new Set(closestBranches(validateScenario.errors ?? []).map(describe))], file);
  const r = raw as unknown as Raw;
  const problems: string[] = [];
  const seed = r.seed ?? 1;
  const durationMs = parseSpan(r.duration);
  const stepMs = parseSpan(r.step ?? '1s');
  if (stepMs < 100) problems.push('step: must be at least 100ms');
  if (durationMs < stepMs) problems.push('duration: shorter than one step');
  if (durationMs > 31 * 86_400_000) problems.push('duration: at most 31 days');

  // A csv base load is read now, so a missing or malformed file is a scenario problem with its key path.
  const checkCsv = (b: RawBaseLoad | undefined, at: string) => {
    if (!b?.shape.startsWith('csv:')) return;
    try {
      readCsvShape(b.shape.slice(4), baseDir);
    } catch (err) {
      problems.push(`${at}.shape: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  checkCsv(r.baseLoad, 'baseLoad');
  (r.circuits ?? []).forEach((c, i) => checkCsv(c.baseLoad, `circuits[${i}].baseLoad`));
  const circuits: CircuitSpec[] = (r.circuits ?? []).map((c) => ({ id: c.id, limitA: c.limitA, parent: c.parent, baseLoad: c.baseLoad ? toBaseLoad(c.baseLoad) : undefined }));
  const circuitIds = new Set<string>();
  circuits.forEach((c, i) => {
    if (circuitIds.has(c.id)) problems.push(`circuits[${i}].id: duplicate id "${c.id}"`);
    circuitIds.add(c.id);
  });
  circuits.forEach((c, i) => {
    if (c.parent !== undefined && !circuitIds.has(c.parent)) problems.push(`circuits[${i}].parent: no circuit "${c.parent}"`);
    const seen = new Set<string>();
    for (let p: string | undefined = c.id; p !== undefined; p = circuits.find((x) => x.id === p)?.parent) {
      if (seen.has(p)) {
        problems.push(`circuits[${i}].parent: circuits form a cycle through "${p}"`);
        break;
      }
      seen.add(p);
    }
  });

  const chargers: ChargerSpec[] = r.chargers.map((c) => ({
    id: c.id,
    circuit: c.circuit,
    phases: c.phases ?? 3,
    maxA: c.maxA ?? 32,
    rotation: c.rotation ?? 'L1L2L3',
    reactionS: c.reactionS ?? 5,
    profiles: c.profiles ?? (c.honorsProfiles === false ? 'ignore' : 'apply'),
    meterValuesS: c.meterValuesS ?? 10,
    protocol: c.protocol ?? 'ocpp2.0.1',
    quirks: c.quirks ?? [],
    ...(c.phaseSwitching ? { phaseSwitching: true } : {}),
    ...(c.reportsSuspendedEV === false ? { reportsSuspendedEV: false } : {}),
  }));
  const chargerIds = new Set<string>();
  r.chargers.forEach((c, i) => {
    if (chargerIds.has(c.id)) problems.push(`chargers[${i}].id: duplicate id "${c.id}"`);
    chargerIds.add(c.id);
    if (c.circuit !== undefined && !circuitIds.has(c.circuit)) problems.push(`chargers[${i}].circuit: no circuit "${c.circuit}" in circuits`);
    if (c.phaseSwitching && c.phases === 1) problems.push(`chargers[${i}].phaseSwitching: a 1-phase charger has no phases to switch`);
    if (c.honorsProfiles !== undefined && c.profiles !== undefined && c.honorsProfiles !== (c.profiles === 'apply')) {
      problems.push(`chargers[${i}].profiles: contradicts honorsProfiles`);
    }
  });

  const evs: EvSpec[] = [];
  const taken = new Map<string, { from: number; to: number }[]>();
  const items = Array.isArray(r.evs) ? r.evs : [r.evs];
  const randoms: RawRandom[] = [];
  items.forEach((item, i) => {
    const at = Array.isArray(r.evs) ? `evs[${i}]` : 'evs';
    if ('random' in item) {
      randoms.push(item.random);
      return;
    }
    const arriveAt = parseClock(item.arrive);
    const departAt = parseClock(item.depart);
    if (arriveAt === undefined) problems.push(`${at}.arrive: not a time of day ("${item.arrive}")`);
    if (departAt === undefined) problems.push(`${at}.depart: not a time of day ("${item.depart}")`);
    const charger = chargers.find((c) => c.id === item.charger);
    if (!charger) problems.push(`${at}.charger: no charger "${item.charger}" in chargers`);
    if (arriveAt === undefined || departAt === undefined || !charger) return;
    if (departAt <= arriveAt) {
      problems.push(`${at}.depart: must be after arrive (use "HH:MM+1" for the next day)`);
      return;
    }
    const windows = taken.get(charger.id) ?? [];
    if (windows.some((w) => arriveAt < w.to && w.from < departAt)) {
      problems.push(`${at}.arrive: charger "${charger.id}" is occupied by another EV then`);
      return;
    }
    windows.push({ from: arriveAt, to: departAt });
    taken.set(charger.id, windows);
    evs.push({
      id: `EV${evs.length + 1}`,
      charger: charger.id,
      arriveAt,
      departAt,
      energyWh: item.energyWh,
      maxA: item.maxA ?? charger.maxA,
      phases: item.phases ?? charger.phases,
      priority: item.priority ?? 0,
      sendsNeeds: item.sendsNeeds ?? true,
      entersNeeds: item.entersNeeds ?? false,
      capacityWh: item.capacityWh ?? evDefaults(item.energyWh).capacityWh,
    });
    if (item.capacityWh !== undefined && item.capacityWh < item.energyWh) problems.push(`${at}.capacityWh: smaller than energyWh`);
  });
  if (problems.length) throw new ScenarioError(problems, file);
  for (const rnd of randoms) evs.push(...randomFleet(rnd, chargers, taken, evs.length, seed));
  for (const ev of evs) {
    ev.arriveAt += epoch;
    ev.departAt += epoch;
  }
  evs.sort((a, b) => a.arriveAt - b.arriveAt || a.id.localeCompare(b.id, 'en', { numeric: true }));
  return {
    name: r.name,
    durationMs,
    stepMs,
    seed,
    startAt: epoch,
    site: { limitA: r.site.limitA, voltage: r.site.voltage ?? 230 },
    ...(r.mode ? { mode: r.mode } : {}),
    baseLoad: toBaseLoad(r.baseLoad),
    pv: r.pv ? { peakW: r.pv.peakW, clouds: r.pv.clouds ?? 0.3 } : undefined,
    battery: r.battery ? { capacityWh: r.battery.capacityWh, maxW: r.battery.maxW, soc: r.battery.soc ?? 0.5, minSoc: r.battery.minSoc ?? 0.1, ...(r.battery.reserveForEvs ? { reserveForEvs: true } : {}), ...(r.battery.refillFromPv === false ? { refillFromPv: false } : {}) } : undefined,
    circuits,
    chargers,
    evs,
    baseDir,
  };
}

/** Reads and validates a scenario YAML file. Syntax errors come with line and column. */
export function loadScenario(file: string, epoch = VIRTUAL_EPOCH): Scenario {
  const read = readYamlFile(file);
  if (!read.ok) throw new ScenarioError(read.problems, file);
  return parseScenario(read.data, dirname(resolve(file)), file, epoch);
}
