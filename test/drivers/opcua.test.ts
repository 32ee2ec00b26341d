// OPC UA against a real node-opcua server on loopback: values arrive by subscription, a change is pushed, a server
// that goes away makes the device stale and it comes back by itself; user/password; certificates in the data dir.
import { existsSync, readdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DeviceConfigError, type Device } from '../../drivers/device.js';
import { SimOpcUaSite, simOpcUaNodes } from '../../src/sim/devices/opcua-site.js';
import { SiteModel } from '../../src/sim/devices/site-model.js';
import type { Reading } from '../../drivers/types.js';
import { isGood, nextReading, tempDir } from './helpers.js';

function listing(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('OPC UA device', () => {
  const model = new SiteModel();
  const tmp = tempDir('opcua-test');
  const site = new SimOpcUaSite(model, { pkiDir: join(tmp.path, 'server-pki') });
  const devices: Device[] = [];
  const configBefore = listing(join(homedir(), '.config'));

  beforeAll(async () => {
    model.setGrid({ currentsA: [16, 17, 18], voltagesV: [230, 231, 232], importWh: 5000 });
    model.setBattery({ socPct: 42, powerW: 1500 });
    await site.start();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await site.stop();
    tmp.remove();
  }, 60_000);

  type Extra = { staleMs?: number; username?: string; password?: string; endpoint?: string; securityMode?: 'None' | 'Sign' | 'SignAndEncrypt'; securityPolicy?: string };
  const open = (id: string, nodes: Record<string, string | string[]>, extra: Extra = {}) => {
    const d = createDevice(
      {
        id, driver: 'opcua', endpoint: extra.endpoint ?? site.endpoint, nodes, pollMs: 200, samplingMs: 50, publishingMs: 100,
        securityMode: extra.securityMode, securityPolicy: extra.securityPolicy,
        staleMs: extra.staleMs ?? 2000, backoffMinMs: 200, backoffMaxMs: 1000, username: extra.username, password: extra.password,
      },
      { dataDir: join(tmp.path, 'data') },
    );
    devices.push(d);
    return d;
  };

  it('subscribes to the configured nodes and reports their values', async () => {
    const grid = open('grid', simOpcUaNodes().grid);
    const r = await nextReading(grid, isGood, 20_000);
    expect(r.values.phaseCurrentsA).toEqual([16, 17, 18]);
    expect(r.values.phaseVoltagesV).toEqual([230, 231, 232]);
    expect(r.values.importEnergyWh).toBe(5000);
    expect(grid.capabilities).toContain('activePowerW');
    const battery = open('battery', simOpcUaNodes().battery);
    const b = await nextReading(battery, isGood, 20_000);
    expect(b.values.batterySocPct).toBe(42);
    expect(b.values.batteryPowerW).toBe(1500);
  }, 40_000);

  it('a value change arrives by subscription', async () => {
    const grid = open('grid-change', simOpcUaNodes().grid);
    await nextReading(grid, isGood, 20_000);
    model.setGrid({ currentsA: [25, 26, 27] });
    const r = await nextReading(grid, (x) => isGood(x) && x.values.phaseCurrentsA?.[2] === 27, 10_000);
    expect(r.values.phaseCurrentsA).toEqual([25, 26, 27]);
  }, 40_000);

  it('a node reporting a bad status makes the reading bad with the status named', async () => {
    const grid = open('grid-bad', simOpcUaNodes().grid);
    await nextReading(grid, isGood, 20_000);
    site.badValues = true;
    try {
      const bad = await nextReading(grid, (x) => x.quality === 'bad', 10_000);
      expect(bad.reason).toMatch(/BadSensorFailure/);
    } finally {
      site.badValues = false;
    }
    await nextReading(grid, isGood, 10_000);
  }, 40_000);

  // Regression: the demo's battery (staleMs 10000, default pollMs 1000 -> publishing 1000 ms, keep-alive every 3 s)
  // lost its connection every few seconds because the TCP idle timeout (transportTimeout) was 1 s, shorter than the
  // silence the subscription itself asks the server for. Unchanged values make that silence certain.
  it('a quiet server (unchanged values, keep-alives only) keeps its connection and the readings stay good', async () => {
    const warnings: string[] = [];
    const log = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (o: object | string, msg?: string) => void warnings.push(msg ?? String(o)) };
    const d = createDevice(
      { id: 'quiet', driver: 'opcua', endpoint: site.endpoint, nodes: simOpcUaNodes().battery, pollMs: 1000, staleMs: 10_000, timeoutMs: 1000 },
      { dataDir: join(tmp.path, 'data'), log },
    );
    devices.push(d);
    await nextReading(d, isGood, 20_000);
    const seen: Reading[] = [];
    const sub = d.readings$.subscribe((r) => seen.push(r));
    // Two keep-alive periods of silence on the wire.
    await new Promise((r) => setTimeout(r, 7_000));
    sub.unsubscribe();
    expect(warnings.filter((w) => /connection lost/.test(w))).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.quality !== 'good').map((r) => `${r.quality}: ${r.reason}`)).toEqual([]);
    await d.close();
  }, 40_000);

  it('server stopped -> stale -> good again after it returns, without restarting the device', async () => {
    const grid = open('grid-restart', simOpcUaNodes().grid, { staleMs: 1500 });
    await nextReading(grid, isGood, 20_000);
    await site.stop();
    const stale = await nextReading(grid, (x) => x.quality === 'stale', 15_000);
    expect(stale.values).toEqual({});
    model.setGrid({ currentsA: [3, 4, 5] });
    await site.start();
    const back = await nextReading(grid, (x) => isGood(x) && x.values.phaseCurrentsA?.[0] === 3, 30_000);
    expect(back.values.phaseCurrentsA).toEqual([3, 4, 5]);
  }, 60_000);

  it('a server that goes silent without closing the socket: stale, then the dead connection is dropped and re-made', async () => {
    // A loopback proxy that can freeze its open connections (bytes swallowed both ways, sockets left open), as a
    // hung server or a dead network path would; connections made after the freeze pass again.
    const live = new Set<Socket>();
    const frozen = new WeakSet<Socket>();
    const proxy = createServer((down) => {
      const up = connect(site.port, '127.0.0.1');
      live.add(down);
      const forward = (from: Socket, to: Socket) => from.on('data', (b) => void (frozen.has(down) || to.write(b)));
      forward(down, up);
      forward(up, down);
      const end = () => { live.delete(down); down.destroy(); up.destroy(); };
      down.on('close', end).on('error', end);
      up.on('close', end).on('error', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      const d = open('grid-silent', simOpcUaNodes().grid, { endpoint: `opc.tcp://127.0.0.1:${port}/UA/site`, staleMs: 1500 });
      await nextReading(d, isGood, 20_000);
      for (const s of live) frozen.add(s);
      const stale = await nextReading(d, (x) => x.quality === 'stale', 15_000);
      expect(stale.values).toEqual({});
      model.setGrid({ currentsA: [7, 8, 9] });
      const back = await nextReading(d, (x) => isGood(x) && x.values.phaseCurrentsA?.[0] === 7, 30_000);
      expect(back.values.phaseCurrentsA).toEqual([7, 8, 9]);
      await d.close();
    } finally {
      for (const s of live) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  }, 60_000);

  it('user/password login; a wrong password is a bad reading, not a crash', async () => {
    const secured = new SimOpcUaSite(model, { pkiDir: join(tmp.path, 'server2-pki'), user: { username: 'meter', password: 's3cret' } });
    await secured.start();
    try {
      const ok = open('grid-user', simOpcUaNodes().grid, { endpoint: secured.endpoint, username: 'meter', password: 's3cret' });
      await nextReading(ok, isGood, 20_000);
      const wrong = open('grid-wrong', simOpcUaNodes().grid, { endpoint: secured.endpoint, username: 'meter', password: 'nope', staleMs: 1000 });
      const r = await nextReading(wrong, (x) => x.quality !== 'good', 20_000);
      expect(r.reason).toBeTruthy();
      await ok.close();
      await wrong.close();
    } finally {
      await secured.stop();
    }
  }, 60_000);

  it('SignAndEncrypt with Basic256Sha256, the client certificate made in the data folder', async () => {
    const d = open('grid-secure', simOpcUaNodes().grid, { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' });
    const r = await nextReading(d, isGood, 30_000);
    expect(r.values.phaseCurrentsA).toHaveLength(3);
    expect(listing(join(tmp.path, 'data', 'opcua-pki', 'own', 'certs')).some((f) => f.endsWith('.pem'))).toBe(true);
    await d.close();
  }, 40_000);

  it('a server that is not there: stale after staleMs, and close() does not hang', async () => {
    const d = open('nobody', simOpcUaNodes().pv, { endpoint: 'opc.tcp://127.0.0.1:9/UA/none', staleMs: 800 });
    const r = await nextReading(d, (x) => x.quality === 'stale', 10_000);
    expect(r.values).toEqual({});
    expect(r.reason).toMatch(/not reachable|connect|ECONNREFUSED/i);
    await d.close();
  }, 20_000);

  it('rejects unknown value names and bad endpoints with a clear error', () => {
    expect(() => open('x', { gridCurrent: 'ns=1;s=X' })).toThrow(DeviceConfigError);
    expect(() => open('x', { gridCurrent: 'ns=1;s=X' })).toThrow(/nodes\.gridCurrent is not a known value/);
    expect(() => open('y', { phaseCurrentsA: ['a', 'b'] })).toThrow(/three/);
    expect(() => createDevice({ id: 'z', driver: 'opcua', endpoint: 'http://x', nodes: { activePowerW: 'a' } }, { dataDir: tmp.path })).toThrow(/opc\.tcp/);
  });

  it('keeps its certificate store in the data folder, nothing in ~/.config', () => {
    expect(existsSync(join(tmp.path, 'data', 'opcua-pki'))).toBe(true);
    // Only node-opcua's own folders count: other test files (Chromium) may add theirs to ~/.config meanwhile.
    const opcuaDirs = (dir: string) => listing(dir).filter((f) => /opcua/i.test(f));
    expect(opcuaDirs(join(homedir(), '.config'))).toEqual(configBefore.filter((f) => /opcua/i.test(f)));
    expect(opcuaDirs(homedir())).toEqual([]);
  });
});
