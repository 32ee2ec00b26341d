// /metrics through prom-client, the ecosystem's Prometheus client: any stage adds gauges and counters (or a collector
// that fills them just before a scrape), and the registry renders them, with the process and Node runtime metrics
// (CPU, memory, event-loop lag, GC, handles) beside them, in the text exposition format 0.0.4.
//
// The stages call gauge(name, help) and set(value, labels) without declaring label names up front (the interface
// predates prom-client): a metric's label names are those of its first use (or the `labelNames` given).
import { Counter as PromCounter, Gauge as PromGauge, Registry, collectDefaultMetrics } from 'prom-client';

export type Labels = Record<string, string | number>;

export interface Gauge {
  set(value: number, labels?: Labels): void;
  /** Removes every series of this gauge (e.g. before a collector refills it). */
  reset(): void;
}

export interface Counter {
  inc(by?: number, labels?: Labels): void;
}

export interface MetricsOptions {
  /** Process and Node runtime metrics (prom-client's default metrics); default true. */
  processMetrics?: boolean;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'gauge' | 'counter';

interface Family {
  name: string;
  help: string;
  kind: Kind;
  metric?: PromGauge | PromCounter;
}

export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => void)[] = [];

  constructor(opts: MetricsOptions = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  private family(name: string, help: string, kind: Kind): Family {
    if (!NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    const existing = this.families.get(name);
    if (existing) {
      if (existing.kind !== kind) throw new Error(`metric ${name} is already registered as a ${existing.kind}`);
      return existing;
    }
    const f: Family = { name, help, kind };
    this.families.set(name, f);
    return f;
  }

  /** The prom-client metric behind a family, created on first use with the label names it is used with. */
  private metric(f: Family, labels: Labels): PromGauge | PromCounter {
    for (const k of Object.keys(labels)) if (!LABEL.test(k)) throw new Error(`invalid label name "${k}"`);
    if (!f.metric) {
      const labelNames = Object.keys(labels).sort();
      const config = { name: f.name, help: f.help, labelNames, registers: [this.registry] };
      f.metric = f.kind === 'gauge' ? new PromGauge(config) : new PromCounter(config);
    }
    return f.metric;
  }

  /** Registers (or returns the existing) gauge. */
  gauge(name: string, help: string): Gauge {
    const f = this.family(name, help, 'gauge');
    return {
      set: (value, labels = {}) => (this.metric(f, labels) as PromGauge).set(labels, value),
      reset: () => f.metric?.reset(),
    };
  }

  /** Registers (or returns the existing) counter; `_total` is appended when missing. */
  counter(name: string, help: string): Counter {
    const f = this.family(name.endsWith('_total') ? name : `${name}_total`, help, 'counter');
    return {
      inc: (by = 1, labels = {}) => {
        if (!(by >= 0)) throw new Error('a counter only goes up');
        (this.metric(f, labels) as PromCounter).inc(labels, by);
      },
    };
  }

  /** Runs before every render, to set gauges from current state. A collector that throws is skipped. */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }

  async render(): Promise<string> {
    for (const c of this.collectors) {
      try { c(); } catch { /* one broken collector must not hide the others */ }
    }
    return this.registry.metrics();
  }
}
