// The compiled CLI as an operator runs it: `node dist/src/main.js run --config FILE` on a temp YAML, with ports 0
// (ephemeral) for the stations' listener and the page; the bound ports are read from the controller's own log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
export const CLI = join(root, 'dist', 'src', 'main.js');

export interface CliController {
  /** The page, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The port stations connect to (ws://127.0.0.1:PORT/ocpp/<id>). */
  stationsPort: number;
  /** Everything the process printed so far (pino JSON lines). */
  output(): string;
  /** Log lines (parsed) at warn level or above. */
  problems(): { level: number; msg: string }[];
  /** SIGINT and wait for the exit code. */
  stop(): Promise<number | null>;
}

export async function startCliController(dir: string, config: Record<string, unknown>, env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliController> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  const file = join(dir, 'site.yaml');
  writeFileSync(file, stringify(config));
  const child: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; }
  });
  const end = Date.now() + timeoutMs;
  let url: string | undefined;
  let stationsPort: number | undefined;
  while (url === undefined || stationsPort === undefined) {
    if (child.exitCode !== null) throw new Error(`the controller exited (${child.exitCode}) while starting:\n${out.slice(-3000)}`);
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the controller did not start within ${timeoutMs} ms:\n${out.slice(-3000)}`);
    }
    for (const l of lines()) {
      if (typeof l.msg === 'string' && l.msg.startsWith('facility manager page at') && typeof l.url === 'string') url = l.url;
      if (typeof l.msg === 'string' && l.msg.startsWith('stations connect to') && typeof l.port === 'number') stationsPort = l.port;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stationsPort,
    output: () => out,
    problems: () => lines().filter((l) => typeof l.level === 'number' && l.level >= 40).map((l) => ({ level: l.level as number, msg: String(l.msg) })),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
