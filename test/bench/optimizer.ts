// `npm run bench -- optimizer [--json] [evses] [solves]`: time of one allocate() on a large site.
// 1000 EVSEs (default) on a 3-level tree (grid connection -> 10 boards -> 5 sub-boards each), 3 phases, mixed
// 1-phase (all rotations) and 3-phase, some switchable, two priorities, weights, some non-controllable, power
// limits on the boards; contended at every level so water-filling, rotation and phase switching all run.
// Each solve feeds the previous result back (previous limits, pause/charge timers) and moves the base load,
// like the control loop does every second.
import { performance } from 'node:perf_hooks';
import { allocate } from '../../algorithms/index.js';
import type { AllocationInput, EvseDemand, LimitNode, PhaseVector, Rotation } from '../../algorithms/types.js';
import type { Bench } from './run.js';

const ROTATIONS: Rotation[] = ['L1L2L3', 'L2L3L1', 'L3L1L2', 'L1L3L2', 'L3L2L1', 'L2L1L3'];

/** Small deterministic PRNG (mulberry32) so every run solves the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function bigSite(evseCount: number, seed = 42): AllocationInput {
  const rnd = prng(seed);
  const nodes: LimitNode[] = [{ id: 'grid', limitA: [2000, 2000, 2000], uncontrolledA: [120, 90, 150] }];
  const leaves: string[] = [];
  for (let b = 0; b < 10; b++) {
    nodes.push({ id: `board${b}`, parentId: 'grid', limitA: [250, 250, 250], limitW: 160_000, uncontrolledA: [10, 12, 8] });
    for (let s = 0; s < 5; s++) {
      const id = `board${b}-sub${s}`;
      nodes.push({ id, parentId: `board${b}`, limitA: [63, 63, 63], uncontrolledA: [2, 1, 3] });
      leaves.push(id);
    }
  }
  const evses: EvseDemand[] = [];
  for (let i = 0; i < evseCount; i++) {
    const phases: 1 | 3 = rnd() < 0.6 ? 3 : 1;
    const e: EvseDemand = {
      id: `CP${String(i).padStart(4, '0')}/1`,
      nodeId: leaves[i % leaves.length],
      phases,
      rotation: ROTATIONS[Math.floor(rnd() * 6)],
      minA: 6,
      maxA: [10, 13, 16, 20, 25, 32][Math.floor(rnd() * 6)],
      canSwitchPhases: phases === 3 && rnd() < 0.3,
      priority: rnd() < 0.03 ? 1 : 0,
      energyDeliveredWh: Math.floor(rnd() * 30_000),
      controllable: rnd() < 0.97,
      previousA: 0,
      previousPhases: phases,
      pausedForMs: 0,
      chargingForMs: 0,
    };
    if (rnd() < 0.5) e.weight = 1 + Math.floor(rnd() * 3);
    if (rnd() < 0.5) {
      e.energyWantedWh = 5_000 + Math.floor(rnd() * 40_000);
      e.departureAt = 3_600_000 * (1 + Math.floor(rnd() * 10));
    }
    if (!e.controllable && rnd() < 0.5) e.measuredA = phases === 3 ? [8, 8, 8] : [0, 0, 0];
    evses.push(e);
  }
  // The control loop lists EVSEs in no particular order: shuffle so the solver's own ordering work is measured.
  for (let i = evses.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [evses[i], evses[j]] = [evses[j], evses[i]];
  }
  return {
    now: 0,
    voltageV: 230,
    nodes,
    evses,
    settings: { mode: 'fast', rotationPeriodMs: 600_000, stepMs: 1000, rampAPerS: 2, hysteresisA: 0.5 },
  };
}

const baseline = new WeakMap<LimitNode, PhaseVector>();

/** The next second: previous limits and timers from the result, base load moved a little. */
function advance(input: AllocationInput, result: ReturnType<typeof allocate>, rnd: () => number): void {
  const byId = new Map(result.allocations.map((a) => [a.evseId, a]));
  input.now += 1000;
  for (const e of input.evses) {
    const a = byId.get(e.id);
    if (!a || !e.controllable) continue;
    if (a.limitA > 0) {
      e.chargingForMs = e.previousA > 0 ? e.chargingForMs + 1000 : 0;
      e.pausedForMs = 0;
    } else {
      e.pausedForMs = e.previousA > 0 ? 0 : e.pausedForMs + 1000;
      e.chargingForMs = 0;
    }
    e.previousA = a.limitA;
    e.previousPhases = a.phases;
    e.energyDeliveredWh += (a.limitA * a.phases * 230) / 3600;
  }
  // Base load moves +-10 % around where it started (a random walk would drift away from a realistic site).
  for (const n of input.nodes) {
    const start = baseline.get(n) ?? n.uncontrolledA;
    baseline.set(n, start);
    n.uncontrolledA = start.map((x) => x * (0.9 + 0.2 * rnd())) as PhaseVector;
  }
}

function percentile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export const run: Bench = async (opts) => {
  const evseCount = Number(opts.args[0] ?? 1000);
  const solves = Number(opts.args[1] ?? 600);
  const warmup = 100;
  const input = bigSite(evseCount);
  const rnd = prng(7);
  const times: number[] = [];
  // CPU time of the process during each solve: on a machine shared with other work the wall clock also counts
  // time spent waiting for a core; this shows what the solve itself costs.
  const cpu: number[] = [];
  let charging = 0;
  let paused = 0;
  for (let i = 0; i < warmup + solves; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = allocate(input);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    if (i >= warmup) {
      times.push(t1 - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
    if (i === warmup + solves - 1) {
      charging = result.allocations.filter((a) => a.limitA > 0 && a.reason !== 'not-controllable').length;
      paused = result.allocations.filter((a) => a.limitA === 0).length;
    }
    advance(input, result, rnd);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const median = percentile(times, 0.5);
  const p99 = percentile(times, 0.99);
  opts.log(`optimizer: ${evseCount} EVSEs, ${input.nodes.length} nodes, ${solves} solves: median ${median.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`);
  return {
    evses: evseCount,
    median_ms: Number(median.toFixed(3)),
    p99_ms: Number(p99.toFixed(3)),
    median_cpu_ms: Number(percentile(cpu, 0.5).toFixed(3)),
    p99_cpu_ms: Number(percentile(cpu, 0.99).toFixed(3)),
    nodes: input.nodes.length,
    solves,
    charging,
    paused,
    node: process.version,
  };
};
