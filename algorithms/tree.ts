// The supply tree and its headroom: which nodes an EVSE loads (its node and every node above it), what each
// node carries before any controllable EVSE draws (uncontrolled load + fixed loads), and which nodes are over
// their limit even with every controllable EVSE paused (alarms).
//
// Constraints are numbered so that the solver works on flat typed arrays:
//   4n + p  (p = 0..2)  node n, site phase p, in A
//   4n + 3              node n, power, in W (Infinity when the node has no power limit)
//   4N                  the import ceiling (peak shaving), in W
//   4N + 1              the PV pool (surplus, plus battery for running sessions), in W
import type { LimitNode, OverloadAlarm, PhaseVector } from './types.js';

export interface SiteTree {
  /** Node ids in canonical (sorted) order; index = node number. */
  ids: string[];
  index: Map<string, number>;
  /** 1 when the node reaches a root through known parents without a cycle. */
  valid: Uint8Array;
  /** Chain of node n (itself, its parent, ..., the root): chain[chainStart[n] .. chainStart[n + 1]). */
  chainStart: Int32Array;
  chain: Int32Array;
  /** Limit per node and site phase (A), 3 per node. */
  limitA: Float64Array;
  /** Power limit per node (W), Infinity when none. */
  limitW: Float64Array;
  /** Load per node and site phase before controllable EVSEs (A): uncontrolled (>= 0, >= sum of children) + fixed loads. */
  baseA: Float64Array;
}

export const constraintCount = (nodeCount: number): number => 4 * nodeCount + 2;
export const peakConstraint = (nodeCount: number): number => 4 * nodeCount;
export const poolConstraint = (nodeCount: number): number => 4 * nodeCount + 1;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Indexes the nodes, checks the tree and takes each node's uncontrolled load (never below its children's). */
export function buildTree(nodes: readonly LimitNode[], problems: string[]): SiteTree {
  // Merge duplicates the safe way (lowest limits, highest load) so that the input order never matters.
  const merged = new Map<string, { parentId: string | undefined; parentConflict: boolean; limitA: number[]; limitW: number; unc: number[] }>();
  for (const node of nodes) {
    if (!node || typeof node.id !== 'string') {
      problems.push('a node without a string id was ignored');
      continue;
    }
    const limitA = [0, 1, 2].map((p) => {
      const v = node.limitA?.[p];
      if (!finite(v)) {
        problems.push(`node ${node.id}: limitA[${p}] is not a number; taken as 0`);
        return 0;
      }
      return Math.max(0, v);
    });
    const limitW = node.limitW === undefined ? Infinity : finite(node.limitW) ? Math.max(0, node.limitW) : 0;
    if (node.limitW !== undefined && !finite(node.limitW)) problems.push(`node ${node.id}: limitW is not a number; taken as 0`);
    const unc = [0, 1, 2].map((p) => {
      const v = node.uncontrolledA?.[p];
      if (!finite(v)) {
        // An unknown load is taken as filling the phase: nothing is allocated there.
        problems.push(`node ${node.id}: uncontrolledA[${p}] is not a number; taken as the full limit`);
        return limitA[p];
      }
      return Math.max(0, v);
    });
    const parentId = typeof node.parentId === 'string' ? node.parentId : undefined;
    const prev = merged.get(node.id);
    if (!prev) {
      merged.set(node.id, { parentId, parentConflict: false, limitA, limitW, unc });
    } else {
      problems.push(`node ${node.id} is listed twice; the lower limits and higher loads are used`);
      for (let p = 0; p < 3; p++) {
        prev.limitA[p] = Math.min(prev.limitA[p], limitA[p]);
        prev.unc[p] = Math.max(prev.unc[p], unc[p]);
      }
      prev.limitW = Math.min(prev.limitW, limitW);
      if (prev.parentId !== parentId) prev.parentConflict = true;
    }
  }

  const ids = [...merged.keys()].sort(byId);
  const n = ids.length;
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  const parent = new Int32Array(n).fill(-1);
  const valid = new Uint8Array(n);
  const limitA = new Float64Array(3 * n);
  const limitW = new Float64Array(n);
  const baseA = new Float64Array(3 * n);
  const broken = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const m = merged.get(ids[i])!;
    for (let p = 0; p < 3; p++) {
      limitA[3 * i + p] = m.limitA[p];
      baseA[3 * i + p] = m.unc[p];
    }
    limitW[i] = m.limitW;
    if (m.parentConflict) {
      broken[i] = 1;
      problems.push(`node ${ids[i]} is listed twice with different parents; EVSEs under it are paused`);
    } else if (m.parentId !== undefined) {
      const pi = index.get(m.parentId);
      if (pi === undefined) {
        broken[i] = 1;
        problems.push(`node ${ids[i]}: parent ${m.parentId} is unknown; EVSEs under it are paused`);
      } else parent[i] = pi;
    }
  }

  // Chains to the root; a node whose chain is broken or loops is invalid (its EVSEs are paused).
  const chains: number[][] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const chain: number[] = [];
    let cur = i;
    let ok = true;
    while (cur !== -1) {
      if (broken[cur] || chain.length > n) {
        ok = false;
        break;
      }
      chain.push(cur);
      cur = parent[cur];
    }
    if (!ok && chain.length > n) problems.push(`node ${ids[i]} is in or under a parent cycle; EVSEs under it are paused`);
    valid[i] = ok ? 1 : 0;
    chains.push(ok ? chain : []);
    total += ok ? chain.length : 0;
  }
  const chainStart = new Int32Array(n + 1);
  const chain = new Int32Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    chainStart[i] = k;
    for (const c of chains[i]) chain[k++] = c;
  }
  chainStart[n] = k;

  // A parent carries at least what its children carry (meters sampled at slightly different times disagree;
  // the larger reading is the safe one). Deepest nodes first.
  const order = [...Array(n).keys()].filter((i) => valid[i]).sort((a, b) => chains[b].length - chains[a].length || a - b);
  const childSum = new Float64Array(3 * n);
  for (const i of order) {
    for (let p = 0; p < 3; p++) baseA[3 * i + p] = Math.max(baseA[3 * i + p], childSum[3 * i + p]);
    const pi = parent[i];
    if (pi >= 0) for (let p = 0; p < 3; p++) childSum[3 * pi + p] += baseA[3 * i + p];
  }
  return { ids, index, valid, chainStart, chain, limitA, limitW, baseA };
}

/** Adds a fixed load (a non-controllable EVSE) to its node and every node above it. */
export function addFixedLoad(tree: SiteTree, node: number, loadA: PhaseVector): void {
  for (let k = tree.chainStart[node]; k < tree.chainStart[node + 1]; k++) {
    const m = tree.chain[k];
    for (let p = 0; p < 3; p++) tree.baseA[3 * m + p] += loadA[p];
  }
}

/**
 * Headroom per constraint before any controllable EVSE (peak and pool slots are left for the modes to fill),
 * and the alarms of nodes already over a limit with every controllable EVSE paused.
 */
export function nodeHeadroom(tree: SiteTree, voltageV: number): { residual: Float64Array; alarms: OverloadAlarm[] } {
  const n = tree.ids.length;
  const residual = new Float64Array(constraintCount(n));
  const alarms: OverloadAlarm[] = [];
  for (let i = 0; i < n; i++) {
    let baseSum = 0;
    for (let p = 0; p < 3; p++) {
      const base = tree.baseA[3 * i + p];
      const limit = tree.limitA[3 * i + p];
      baseSum += base;
      residual[4 * i + p] = limit - base;
      if (base > limit + 1e-9) alarms.push({ nodeId: tree.ids[i], phase: p, loadWithAllPaused: base, limit });
    }
    const limitW = tree.limitW[i];
    if (limitW === Infinity) residual[4 * i + 3] = Infinity;
    else {
      const baseW = baseSum * voltageV;
      residual[4 * i + 3] = limitW - baseW;
      if (baseW > limitW + 1e-6) alarms.push({ nodeId: tree.ids[i], phase: -1, loadWithAllPaused: baseW, limit: limitW });
    }
  }
  residual[peakConstraint(n)] = Infinity;
  residual[poolConstraint(n)] = Infinity;
  return { residual, alarms };
}

/** Human-readable name of a constraint, for `limitedBy`. */
export function constraintName(tree: SiteTree, c: number): string {
  const n = tree.ids.length;
  if (c === peakConstraint(n)) return 'importCeiling';
  if (c === poolConstraint(n)) return 'pv';
  const node = tree.ids[c >> 2];
  const p = c & 3;
  return p === 3 ? `${node}/W` : `${node}/L${p + 1}`;
}

/** Sum of the root nodes' base load (A per site phase): what the grid connection carries without controllable EVSEs. */
export function rootBaseA(tree: SiteTree): PhaseVector {
  const out: PhaseVector = [0, 0, 0];
  for (let i = 0; i < tree.ids.length; i++) {
    if (!tree.valid[i] || tree.chainStart[i + 1] - tree.chainStart[i] !== 1) continue;
    for (let p = 0; p < 3; p++) out[p] += tree.baseA[3 * i + p];
  }
  return out;
}
