// Weighted max-min fair water-filling with floors and caps over linear constraints (progressive filling).
//
// Every session rises with a common water level t: x = clamp(weight * t, floor, cap). A session stops rising when
// it reaches its cap, or when one of its constraints runs out (then every session in that constraint stops:
// none of them can take more without taking from another). Result: no session below its cap could get more
// without some constraint going over, and among sessions sharing a binding constraint the smaller (per
// weight) ones were served first — the max-min fair share.
//
// Event-driven so that a solve costs O((entries + constraints) log constraints), not O(events x constraints):
// each constraint's headroom falls linearly at `rate` between events; the time it runs out sits in a heap
// (stale entries skipped by a version stamp); activations (level reaches the floor) and caps come from two
// sorted lists.

export interface FillProblem {
  count: number;
  weight: Float64Array;
  floor: Float64Array;
  cap: Float64Array;
  /** Entries of session k: entCons/entCoef[entStart[k] .. entStart[k + 1]). */
  entStart: Int32Array;
  entCons: Int32Array;
  entCoef: Float64Array;
}

export interface FillResult {
  value: Float64Array;
  /** The constraint that stopped each session, or -1 when it reached its cap. */
  boundBy: Int32Array;
}

const WAITING = 0;
const RISING = 1;
const DONE = 2;

/**
 * Fills the sessions of one priority against `residual` (headroom per constraint, already net of the floors),
 * which is reduced in place by what they take above their floors.
 */
export function waterFill(p: FillProblem, residual: Float64Array): FillResult {
  const K = p.count;
  const C = residual.length;
  const value = new Float64Array(K);
  const boundBy = new Int32Array(K).fill(-1);
  if (K === 0) return { value, boundBy };
  const { weight, floor, cap, entStart, entCons, entCoef } = p;

  // Members of each constraint (CSR).
  const memStart = new Int32Array(C + 1);
  const E = entStart[K];
  for (let i = 0; i < E; i++) memStart[entCons[i] + 1]++;
  for (let c = 0; c < C; c++) memStart[c + 1] += memStart[c];
  const memList = new Int32Array(E);
  const fillPos = memStart.slice(0, C);
  for (let k = 0; k < K; k++) for (let i = entStart[k]; i < entStart[k + 1]; i++) memList[fillPos[entCons[i]]++] = k;

  const status = new Uint8Array(K);
  const tAct = new Float64Array(K);
  const tCap = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    tAct[k] = floor[k] / weight[k];
    tCap[k] = cap[k] / weight[k];
    value[k] = floor[k];
    if (cap[k] <= floor[k]) {
      status[k] = DONE;
      value[k] = cap[k];
    }
  }
  const actOrder = sortedIndex(tAct, K);
  const capOrder = sortedIndex(tCap, K);

  const rate = new Float64Array(C);
  const tref = new Float64Array(C);
  const version = new Int32Array(C);
  const dirty = new Uint8Array(C);
  const dirtyList: number[] = [];
  const heap = new Heap(C + 2 * E + 8);

  const settle = (c: number, t: number): void => {
    if (rate[c] !== 0) residual[c] -= rate[c] * (t - tref[c]);
    tref[c] = t;
    if (!dirty[c]) {
      dirty[c] = 1;
      dirtyList.push(c);
    }
  };
  const changeRate = (k: number, t: number, sign: number): void => {
    const w = weight[k] * sign;
    for (let i = entStart[k]; i < entStart[k + 1]; i++) {
      const c = entCons[i];
      settle(c, t);
      const r = rate[c] + entCoef[i] * w;
      // Guard against drift: a rate that should be zero must not schedule a far-future event.
      rate[c] = r > 1e-12 ? r : 0;
    }
  };
  const flush = (): void => {
    for (const c of dirtyList) {
      dirty[c] = 0;
      version[c]++;
      if (rate[c] > 0) heap.push(tref[c] + Math.max(0, residual[c]) / rate[c], c, version[c]);
    }
    dirtyList.length = 0;
  };

  let t = 0;
  let ai = 0;
  let ci = 0;
  for (;;) {
    while (ai < K && status[actOrder[ai]] !== WAITING) ai++;
    while (ci < K && status[capOrder[ci]] === DONE) ci++;
    while (heap.size > 0 && heap.topVersion() !== version[heap.topId()]) heap.pop();
    const tA = ai < K ? tAct[actOrder[ai]] : Infinity;
    const tS = ci < K ? tCap[capOrder[ci]] : Infinity;
    const tC = heap.size > 0 ? heap.topTime() : Infinity;
    if (tA === Infinity && tS === Infinity && tC === Infinity) break;

    if (tC <= tA && tC <= tS) {
      // A constraint ran out: everyone in it stops where they are.
      const c = heap.topId();
      heap.pop();
      t = Math.max(t, tC);
      for (let i = memStart[c]; i < memStart[c + 1]; i++) {
        const k = memList[i];
        if (status[k] === DONE) continue;
        if (status[k] === RISING) {
          value[k] = Math.min(cap[k], Math.max(floor[k], weight[k] * t));
          changeRate(k, t, -1);
        }
        status[k] = DONE;
        boundBy[k] = c;
      }
      settle(c, t);
      if (residual[c] < 0 && residual[c] > -1e-9) residual[c] = 0;
      rate[c] = 0;
    } else if (tA <= tS) {
      // Level reached these sessions' floors: they start rising.
      t = Math.max(t, tA);
      const until = tA + 1e-12 * Math.max(1, tA);
      while (ai < K && tAct[actOrder[ai]] <= until) {
        const k = actOrder[ai++];
        if (status[k] !== WAITING) continue;
        status[k] = RISING;
        changeRate(k, t, +1);
      }
    } else {
      // Level reached these sessions' caps.
      t = Math.max(t, tS);
      const until = tS + 1e-12 * Math.max(1, tS);
      while (ci < K && tCap[capOrder[ci]] <= until) {
        const k = capOrder[ci++];
        if (status[k] === DONE) continue;
        if (status[k] === RISING) changeRate(k, t, -1);
        status[k] = DONE;
        value[k] = cap[k];
      }
    }
    flush();
  }
  return { value, boundBy };
}

function sortedIndex(keys: Float64Array, n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // Ties broken by index (canonical session order) so the result never depends on the sort's stability.
  idx.sort((a, b) => keys[a] - keys[b] || a - b);
  return idx;
}

/** Binary min-heap of (time, constraint, version) on typed arrays; ties by constraint number for determinism. */
class Heap {
  private t: Float64Array;
  private id: Int32Array;
  private ver: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
    this.id = new Int32Array(capacity);
    this.ver = new Int32Array(capacity);
  }

  topTime(): number {
    return this.t[0];
  }

  topId(): number {
    return this.id[0];
  }

  topVersion(): number {
    return this.ver[0];
  }

  private less(i: number, j: number): boolean {
    return this.t[i] < this.t[j] || (this.t[i] === this.t[j] && this.id[i] < this.id[j]);
  }

  private swap(i: number, j: number): void {
    const t = this.t[i];
    this.t[i] = this.t[j];
    this.t[j] = t;
    const id = this.id[i];
    this.id[i] = this.id[j];
    this.id[j] = id;
    const v = this.ver[i];
    this.ver[i] = this.ver[j];
    this.ver[j] = v;
  }

  push(time: number, id: number, ver: number): void {
    if (this.size === this.t.length) this.grow();
    let i = this.size++;
    this.t[i] = time;
    this.id[i] = id;
    this.ver[i] = ver;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    this.t[0] = this.t[last];
    this.id[0] = this.id[last];
    this.ver[0] = this.ver[last];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private grow(): void {
    const n = this.t.length * 2 + 8;
    const t = new Float64Array(n);
    t.set(this.t);
    const id = new Int32Array(n);
    id.set(this.id);
    const ver = new Int32Array(n);
    ver.set(this.ver);
    this.t = t;
    this.id = id;
    this.ver = ver;
  }
}
