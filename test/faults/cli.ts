// The compiled CLI as an operator runs it (`node dist/src/main.js run --config FILE`), for the fault and
// process-level tests: a temp YAML, ephemeral ports, the stations' port read from the controller's own log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');

export interface RunningCli {
  child: ChildProcess;
  stationsPort: number;
  /** Everything printed so far (pino JSON lines on stdout, errors on stderr). */
  output(): string;
  /** Parsed JSON log lines. */
  lines(): Record<string, unknown>[];
  /** Waits for the process to exit; returns its code (or the signal name). */
  exited(): Promise<number | string | null>;
}

/** A minimal `run` config: stations on 127.0.0.1:0, no page, no meters. */
export function baseConfig(dir: string, upstreamUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    stations: { listen: { host: '127.0.0.1', port: 0 }, allowUnknown: true, pingIntervalS: 0 },
    upstream: { url: upstreamUrl },
    storage: { path: join(dir, 'site.sqlite') },
    web: { enabled: false },
    site: { limitA: [32, 32, 32] },
    ...extra,
  };
}

/**
 * Starts the CLI. `fileSizeLimitKb` runs it under `ulimit -f` with SIGXFSZ ignored, so writes past the limit fail
 * with EFBIG, which SQLite reports as "database or disk is full" — a full disk for this process, without root.
 */
export async function startCli(dir: string, config: Record<string, unknown>, opts: { fileSizeLimitKb?: number; timeoutMs?: number } = {}): Promise<RunningCli> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stringify(config));
  const args = [CLI, 'run', '--config', file];
  const child = opts.fileSizeLimitKb
    ? spawn('bash', ['-c', `trap '' XFSZ; ulimit -f ${opts.fileSizeLimitKb}; exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  const lines = (): Record<string, unknown>[] => out.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; }
  });
  const end = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const line = lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('stations connect to') && typeof l.port === 'number');
    if (line) return { child, stationsPort: line.port as number, output: () => out, lines, exited: () => exit };
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the controller exited while starting:\n${out.slice(-3000)}`);
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the controller did not start in time:\n${out.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
