import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';

const minimal = {
  stations: { listen: { port: 9000 } },
  upstream: { url: 'ws://csms.example:9000/ocpp' },
  site: { limitA: [63, 63, 63] },
};

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, '/tmp');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('fills defaults for a minimal site', () => {
    const c = parseConfig(minimal, '/srv/site');
    expect(c.stations.listen.host).toBe('0.0.0.0');
    expect(c.stations.allowUnknown).toBe(false);
    expect(c.site.voltage).toBe(230);
    expect(c.web.port).toBe(8080);
    expect(c.storage.path).toBe('/srv/site/data/site-controller.sqlite');
    expect(c.control.loopMs).toBe(1000);
    expect(c.upstream.retry).toEqual({ waitMinimumS: 3, randomRangeS: 10, repeatTimes: 5 });
  });

  it('names every problem by its key path', () => {
    const p = problems({
      stations: { listen: { port: 'x' }, list: [{ id: 'CP1', circuit: 'nope', phases: 2 }, { id: 'CP1' }] },
      upstream: { url: 'http://wrong' },
      site: { limitA: [63, 63] },
      meters: [{ id: 'm1', role: 'grid', driver: 'modbus-tcp' }],
      bogus: 1,
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'stations.listen.port: must be integer',
        'stations.list[0].phases: must be one of 1, 3',
        'upstream.url: must match pattern "^wss?://"',
        'site.limitA: must NOT have fewer than 3 items',
        'bogus: unknown key',
      ]),
    );
  });

  it('checks references, duplicates and what a driver needs once the shape is right', () => {
    const p = problems({
      ...minimal,
      stations: { listen: { port: 9000 }, list: [{ id: 'CP1', circuit: 'nope' }, { id: 'CP1' }] },
      site: { limitA: [63, 63, 63], circuits: [{ id: 'a', limitA: [32, 32, 32], parent: 'b' }, { id: 'b', limitA: [32, 32, 32], parent: 'a' }] },
      meters: [{ id: 'm1', role: 'grid', driver: 'modbus-tcp' }, { id: 'm2', role: 'sub', driver: 'opcua', endpoint: 'opc.tcp://x:4840' }],
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'stations.list[0].circuit: no circuit "nope" in site.circuits',
        'stations.list[1].id: duplicate id "CP1"',
        'site.circuits[0].parent: circuits form a cycle through "a"',
        'meters[0].host: required for driver modbus-tcp',
        'meters[0].map: required for driver modbus-tcp',
        'meters[1].nodes: required for driver opcua',
        'meters[1].circuit: required for role sub',
      ]),
    );
  });

  it('checks firmware quirk names (stations.list[].quirks) and notes a rotation the file sets', () => {
    const list = [{ id: 'CP01', quirks: ['watts-only', 'relative-only'], rotation: 'L2L3L1' }, { id: 'CP02', quirks: ['watts-only', 'wats-only'] }];
    expect(problems({ ...minimal, stations: { listen: { port: 9000 }, list } })).toEqual([
      expect.stringMatching(/^stations\.list\[1\]\.quirks\[1\]: must be one of "watts-only", "amps-only", .*"no-smart-charging"$/),
    ]);
    const c = parseConfig({ ...minimal, stations: { listen: { port: 9000 }, list: [list[0], { id: 'CP02' }] } }, '/tmp');
    expect(c.stations.list[0].quirks).toEqual(['watts-only', 'relative-only']);
    expect(c.stations.list[0].rotationSet).toBe(true);
    expect(c.stations.list[1].rotationSet).toBeUndefined();
    expect(c.stations.list[1].rotation).toBe('L1L2L3');
  });

  it('keeps the battery for the EVs only where the controller can tell it its limit (a Modbus SunSpec battery)', () => {
    const battery = (m: object) => ({ ...minimal, meters: [{ id: 'bat', role: 'battery', ...m }], control: { battery: { minSocPct: 10, reserveForEvs: true, capacityWh: 40000 } } });
    expect(problems(battery({ driver: 'modbus-tcp', host: '10.0.0.5', port: 502, unitId: 3, map: 'sunspec' }))).toEqual([]);
    expect(problems(battery({ driver: 'opcua', endpoint: 'opc.tcp://10.0.0.5:4840', nodes: { batterySocPct: 'ns=1;s=Soc' } }))).toEqual([
      'control.battery.reserveForEvs: meter bat must be a Modbus SunSpec device (map: sunspec) to take a discharge limit',
    ]);
    expect(problems({ ...minimal, control: { battery: { minSocPct: 10, reserveForEvs: true } } })).toEqual(['control.battery.reserveForEvs: needs exactly one meter with role battery (found 0)']);
    expect(problems({ ...minimal, control: { battery: { minSocPct: 10, capacityWh: -1 } } })[0]).toMatch(/control\.battery\.capacityWh/);
  });

  it('requires station password hashes for basic auth', () => {
    const p = problems({ ...minimal, stations: { listen: { port: 9000 }, auth: 'basic', list: [{ id: 'CP1' }] } });
    expect(p).toContain('stations.list[0].passwordHash: required when stations.auth is basic');
  });

  it('reports YAML syntax errors with their line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'stations:\n  listen: {port: 9000\nupstream: x\n');
    expect(() => loadConfig(file)).toThrow(/YAML line \d+/);
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/cannot read: ENOENT/);
  });
});
