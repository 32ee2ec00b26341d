// Maximum flow (Dinic) on real capacities, for the score's energy upper bound. Small graphs: thousands of edges.
export class FlowGraph {
  private readonly head: number[] = [];
  private readonly to: number[] = [];
  private readonly cap: number[] = [];
  private readonly next: number[] = [];
  private nodes = 0;

  node(): number {
    this.head.push(-1);
    return this.nodes++;
  }

  edge(u: number, v: number, c: number): void {
    if (!(c > 1e-9)) return;
    for (const [a, b, cc] of [[u, v, c], [v, u, 0]] as const) {
      this.to.push(b);
      this.cap.push(cc);
      this.next.push(this.head[a]);
      this.head[a] = this.to.length - 1;
    }
  }

  maxFlow(s: number, t: number): number {
    let flow = 0;
    const level = new Array<number>(this.nodes);
    const it = new Array<number>(this.nodes);
    const bfs = (): boolean => {
      level.fill(-1);
      level[s] = 0;
      const q = [s];
      for (let i = 0; i < q.length; i++) {
        const u = q[i];
        for (let e = this.head[u]; e >= 0; e = this.next[e]) {
          if (this.cap[e] > 1e-9 && level[this.to[e]] < 0) {
            level[this.to[e]] = level[u] + 1;
            q.push(this.to[e]);
          }
        }
      }
      return level[t] >= 0;
    };
    const dfs = (u: number, f: number): number => {
      if (u === t) return f;
      for (; it[u] >= 0; it[u] = this.next[it[u]]) {
        const e = it[u];
        const v = this.to[e];
        if (this.cap[e] > 1e-9 && level[v] === level[u] + 1) {
          const d = dfs(v, Math.min(f, this.cap[e]));
          if (d > 1e-9) {
            this.cap[e] -= d;
            this.cap[e ^ 1] += d;
            return d;
          }
        }
      }
      return 0;
    };
    while (bfs()) {
      for (let i = 0; i < this.nodes; i++) it[i] = this.head[i];
      for (let f = dfs(s, Infinity); f > 1e-9; f = dfs(s, Infinity)) flow += f;
    }
    return flow;
  }
}
