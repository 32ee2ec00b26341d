// A small Prometheus registry: any stage can add gauges and counters (or a collector that fills them just before a
// scrape) and GET /metrics renders them in the text exposition format 0.0.4.
export type Labels = Record<string, string | number>;

export interface Gauge {
  set(value: number, labels?: Labels): void;
  /** Removes every series of this gauge (e.g. before a collector refills it). */
  reset(): void;
}

export interface Counter {
  inc(by?: number, labels?: Labels): void;
}

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  values: Map<string, { labels: Labels; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(',');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => void)[] = [];

  private family(name: string, help: string, type: Family['type']): Family {
    if (!NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    const existing = this.families.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric ${name} is already registered as a ${existing.type}`);
      return existing;
    }
    const f: Family = { name, help, type, values: new Map() };
    this.families.set(name, f);
    return f;
  }

  private static checkLabels(labels: Labels): void {
    for (const k of Object.keys(labels)) if (!LABEL.test(k)) throw new Error(`invalid label name "${k}"`);
  }

  /** Registers (or returns the existing) gauge. */
  gauge(name: string, help: string): Gauge {
    const f = this.family(name, help, 'gauge');
    return {
      set(value, labels = {}) {
        MetricsRegistry.checkLabels(labels);
        f.values.set(labelKey(labels), { labels, value });
      },
      reset() {
        f.values.clear();
      },
    };
  }

  /** Registers (or returns the existing) counter; `_total` is appended when missing. */
  counter(name: string, help: string): Counter {
    const f = this.family(name.endsWith('_total') ? name : `${name}_total`, help, 'counter');
    return {
      inc(by = 1, labels = {}) {
        if (!(by >= 0)) throw new Error('a counter only goes up');
        MetricsRegistry.checkLabels(labels);
        const key = labelKey(labels);
        const cur = f.values.get(key);
        f.values.set(key, { labels, value: (cur?.value ?? 0) + by });
      },
    };
  }

  /** Runs before every render, to set gauges from current state. A collector that throws is skipped. */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }

  render(): string {
    for (const c of this.collectors) {
      try { c(); } catch { /* one broken collector must not hide the others */ }
    }
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.values.values()) {
        const key = labelKey(labels);
        out.push(`${f.name}${key ? `{${key}}` : ''} ${formatValue(value)}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
