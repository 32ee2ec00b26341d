// What the operator reads and what stations never see: a stray CSMS reply is dropped (and logged), a station's
// disconnect is logged with its close code and reason, and no log line names its stage twice.
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/common/log.js';
import { parseConfig } from '../../src/config/load.js';
import { createControllerStation } from '../../src/controller/index.js';
import { createRelay } from '../../src/relay/relay.js';
import { openDatabase } from '../../src/store/db.js';
import { connectStation, NOW, startCsms, testConfig, until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('relay logs', () => {
  it('drops and logs a CSMS reply to no pending call; logs a station disconnect with its code and reason', async () => {
    const csms = await startCsms();
    cleanups.push(() => csms.close());
    csms.setup = (peer) => peer.handle('Heartbeat', () => ({ currentTime: NOW }));
    const dir = mkdtempSync(join(tmpdir(), 'relay-log-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = testConfig(csms.url, {}, join(dir, 'db.sqlite'));
    const db = openDatabase(config.storage.path);
    const { lines, stream } = capture();
    const relay = createRelay({ config, db, log: createLogger('info', stream).child({ stage: 'relay' }), upstreamHandshakeTimeoutMs: 2000 });
    const { port } = await relay.start();
    cleanups.push(async () => {
      await relay.stop();
      db.close();
    });
    const st = await connectStation(port, 'CP01');
    await csms.connected('CP01');
    const ws = csms.sockets.get('CP01')!;
    ws.send(JSON.stringify([3, 'never-asked', { status: 'Accepted' }]));
    ws.send(JSON.stringify([4, 'never-asked-either', 'GenericError', '', {}]));
    expect(await st.peer.call('Heartbeat', {})).toEqual({ currentTime: NOW });
    // The station got the answer to its own call and nothing else.
    expect(st.received.map((t) => (JSON.parse(t) as unknown[])[1])).toHaveLength(1);
    await until(() => parsed(lines).filter((l) => l.msg === 'reply from the CSMS to no pending station call dropped').length === 2);

    st.ws.close(4000, 'maintenance');
    await until(() => parsed(lines).some((l) => l.msg === 'station disconnected'));
    expect(parsed(lines).find((l) => l.msg === 'station disconnected')).toMatchObject({ level: 30, stationId: 'CP01', code: 4000, reason: 'maintenance' });
  });

  it('no log line carries "stage" twice (the controller stage is given its child logger once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctrl-log-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = parseConfig({
      stations: { listen: { host: '127.0.0.1', port: 0 } }, upstream: { url: 'ws://127.0.0.1:9/csms' },
      controller: { identity: 'LC01' }, storage: { path: join(dir, 'db.sqlite') }, site: { limitA: [32, 32, 32] },
    });
    const db = openDatabase(config.storage.path);
    const { lines, stream } = capture();
    const station = createControllerStation({ config, db, log: createLogger('debug', stream).child({ stage: 'controller' }) });
    station.start();
    cleanups.push(async () => {
      await station.stop();
      db.close();
    });
    await until(() => lines.length > 0, 10_000);
    for (const l of lines) expect(l.match(/"stage":/g)).toHaveLength(1);
  });
});
