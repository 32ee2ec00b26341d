// What an operator reads: JSON lines when stdout is a pipe or a journal (and always for `run` unless told otherwise),
// readable lines when log.format is pretty (what `npm start` gives a person at a terminal).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveLogFormat } from '../../src/common/log.js';
import { baseConfig, CLI, startCli, type RunningCli } from '../faults/cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function runWith(format: string | undefined): Promise<{ cli: RunningCli; stdout: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'log-format-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = baseConfig(dir, 'ws://127.0.0.1:9/ocpp', format ? { log: { level: 'info', format } } : {});
  let cli: RunningCli;
  if (format === 'pretty') {
    // startCli finds the stations' port in a JSON line; a pretty run is started by hand below.
    const file = join(dir, 'site.yaml');
    writeFileSync(file, stringify(config));
    const child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(code ?? signal)));
    cleanups.push(() => void child.kill('SIGKILL'));
    const end = Date.now() + 20_000;
    while (!out.includes('stations connect to')) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`no start line:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    cli = { child, stationsPort: 0, output: () => out, lines: () => [], exited: () => exit };
    return { cli, stdout: () => out };
  }
  cli = await startCli(dir, config);
  cleanups.push(() => void cli.child.kill('SIGKILL'));
  return { cli, stdout: () => cli.output() };
}

describe('log format', () => {
  it('auto: readable for a person at a terminal, JSON for a pipe and for the production run', () => {
    expect(resolveLogFormat('auto', { isTTY: true, production: false })).toBe('pretty');
    expect(resolveLogFormat('auto', { isTTY: false, production: false })).toBe('json');
    expect(resolveLogFormat('auto', { isTTY: true, production: true })).toBe('json');
    expect(resolveLogFormat('pretty', { isTTY: false, production: true })).toBe('pretty');
    expect(resolveLogFormat('json', { isTTY: true, production: false })).toBe('json');
  });

  it('stdout not a terminal: every line is one JSON object', async () => {
    const { cli, stdout } = await runWith(undefined);
    cli.child.kill('SIGINT');
    await cli.exited();
    const lines = stdout().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(lines.some((l) => (JSON.parse(l) as { msg?: string }).msg?.startsWith('stations connect to'))).toBe(true);
  }, 40_000);

  it('log.format pretty: readable lines with time, level and stage, no JSON', async () => {
    const { cli, stdout } = await runWith('pretty');
    cli.child.kill('SIGINT');
    await cli.exited();
    const lines = stdout().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l, l).not.toMatch(/^\s*\{/);
    expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\] INFO: stations connect to ws:\/\/127\.0\.0\.1:\d+\/ocpp\/<stationId>/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\] INFO: stopped/.test(l))).toBe(true);
  }, 40_000);
});
