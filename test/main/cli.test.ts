// The CLI as a user runs it: the compiled bin (npm test type-checks and compiles before vitest runs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/common/passwords.js';

const bin = join(import.meta.dirname, '..', '..', 'dist', 'src', 'main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('site-controller CLI', () => {
  it('prints its version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^site-controller \d+\.\d+\.\d+/);
  });

  it('check-config accepts a good file and names every problem of a bad one, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'stations: {listen: {port: 9000}}\nupstream: {url: "ws://127.0.0.1:9100/ocpp"}\nsite: {limitA: [63, 63, 63]}\n');
    expect(cli('check-config', good).status).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'stations: {listen: {port: 9000}, list: [{id: CP1, circuit: boardX}]}\nupstream: {url: "ftp://x"}\nsite: {limitA: [63, 63, 63]}\n');
    const r = cli('check-config', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('upstream.url');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses unknown commands and missing arguments with a one-line reason', () => {
    for (const args of [['frobnicate'], ['run'], ['check-config']]) {
      const r = cli(...args);
      expect(r.status).not.toBe(0);
      expect(r.stderr.split('\n')[0]).toMatch(/^site-controller: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('hash-password prints a scrypt hash that verifies', async () => {
    const r = cli('hash-password', 'correct horse battery staple');
    expect(r.status).toBe(0);
    const hash = r.stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('wrong', hash)).toBe(false);
  });
});

describe('site-controller backup', () => {
  it('copies the live database to a new file and refuses to overwrite', async () => {
    const { openDatabase } = await import('../../src/store/db.js');
    const dir = mkdtempSync(join(tmpdir(), 'backup-'));
    const dbFile = join(dir, 'site.sqlite');
    const db = openDatabase(dbFile);
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (42);');
    const cfg = join(dir, 'site.yaml');
    writeFileSync(cfg, `stations: {listen: {port: 9000}}\nupstream: {url: "ws://127.0.0.1:9100/ocpp"}\nsite: {limitA: [63, 63, 63]}\nstorage: {path: site.sqlite}\n`);
    const out = join(dir, 'copy.sqlite');
    const r = cli('backup', '--config', cfg, out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const copy = openDatabase(out);
    expect(copy.prepare('SELECT x FROM t').get()).toEqual({ x: 42 });
    copy.close();
    db.close();
    const again = cli('backup', '--config', cfg, out);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists/);
  });

  it('refuses a corrupt database with a clear error and leaves it untouched', async () => {
    const { readFileSync } = await import('node:fs');
    const { openDatabase } = await import('../../src/store/db.js');
    const dir = mkdtempSync(join(tmpdir(), 'corrupt-'));
    const file = join(dir, 'site.sqlite');
    writeFileSync(file, 'this is not a database, just some text long enough to look like a header'.repeat(20));
    const before = readFileSync(file);
    expect(() => openDatabase(file)).toThrow(/not a usable SQLite database.*restore a backup/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
