// `npm run bench -- NAME [--json]`: runs test/bench/NAME.ts. Each benchmark module exports
// `run(opts): Promise<Record<string, unknown>>`; with --json the last stdout line is that object as JSON.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchOptions {
  json: boolean;
  args: string[];
  log: (line: string) => void;
}

export type Bench = (opts: BenchOptions) => Promise<Record<string, unknown>>;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  const name = rest[0];
  const here = dirname(fileURLToPath(import.meta.url));
  if (!name || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(here, `${name}.js`))) {
    process.stderr.write(`usage: npm run bench -- NAME [--json]  (NAME: relay, relay16, journal, optimizer, reaction, footprint)${name ? `; no benchmark "${name}"` : ''}\n`);
    process.exit(2);
  }
  const mod = (await import(`./${name}.js`)) as { run: Bench };
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const result = await mod.run({ json, args: rest.slice(1), log });
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
