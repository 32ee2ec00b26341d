#!/usr/bin/env node
// The CLI, and the only place that wires the stages together: run | demo | score | check-config | hash-password.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { hashPasswordSync } from './common/passwords.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

const USAGE = `site-controller ${version} — OCPP 2.0.1 Local Controller
usage:
  site-controller run --config FILE            production run
  site-controller demo [--config FILE] [--no-web]   controller + simulated site (default config/demo.yaml)
  site-controller score FILE [--json]          run a scenario on virtual time and print its score
  site-controller check-config FILE            validate a config; every problem named by its key path
  site-controller backup --config FILE OUT     online backup of the SQLite file to OUT (safe while running)
  site-controller hash-password [PASSWORD]     print a scrypt hash for a config file (reads stdin if omitted)
  site-controller --version`;

class UsageError extends Error {}

interface RunOptions { withSimulation: boolean; web: boolean }

/** Wires relay, controller identity, drivers, control loop, store and page (and the simulated site for the demo). */
async function runController(config: Config, options: RunOptions): Promise<void> {
  void config;
  void options;
  throw new Error('not wired yet');
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return v;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case '--version':
    case 'version':
      process.stdout.write(`site-controller ${version}\n`);
      return 0;
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'check-config': {
      const file = args[0];
      if (!file) throw new UsageError('check-config needs a FILE');
      loadConfig(file);
      process.stdout.write(`${file}: ok\n`);
      return 0;
    }
    case 'hash-password': {
      const password = args[0] ?? (await readStdin());
      if (!password) throw new UsageError('hash-password needs a password (argument or stdin)');
      process.stdout.write(`${hashPasswordSync(password)}\n`);
      return 0;
    }
    case 'backup': {
      const file = option(args, '--config');
      const out = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--config')[0];
      if (!file || !out) throw new UsageError('backup needs --config FILE and an output file');
      const { backupDatabase } = await import('./store/backup.js');
      const r = await backupDatabase(loadConfig(file).storage.path, out);
      process.stdout.write(`backed up ${r.pages} pages to ${out}\n`);
      return 0;
    }
    case 'run': {
      const file = option(args, '--config');
      if (!file) throw new UsageError('run needs --config FILE');
      await runController(loadConfig(file), { withSimulation: false, web: true });
      return -1; // keeps running until a signal
    }
    case 'demo': {
      const file = option(args, '--config') ?? join(root, 'config', 'demo.yaml');
      await runController(loadConfig(file), { withSimulation: true, web: !args.includes('--no-web') });
      return -1;
    }
    case 'score': {
      const file = args.find((a) => !a.startsWith('--'));
      if (!file) throw new UsageError('score needs a scenario FILE');
      throw new UsageError(`score is not wired yet (${file})`);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.file ? `${err.file}: ` : ''}invalid config:\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
    } else if (err instanceof UsageError) {
      process.stderr.write(`site-controller: ${err.message}\n${USAGE}\n`);
    } else {
      process.stderr.write(`site-controller: ${err instanceof Error ? err.message : String(err)}\n`);
      if (process.env.DEBUG) console.error(err);
    }
    process.exit(1);
  },
);
