// The scenario loader: the CONTRACT format, defaults, overnight times, random fleets, and every problem named by its
// key path.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, parseClock, parseScenario, parseSpan, ScenarioError } from '../../src/sim/scenario.js';
import { VIRTUAL_EPOCH } from '../../src/sim/virtual-time.js';

const dir = mkdtempSync(join(tmpdir(), 'sim-scenario-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  name: 'x',
  duration: '24h',
  site: { limitA: [63, 63, 63] },
  chargers: [{ id: 'CP01', phases: 3, maxA: 32 }, { id: 'CP02', phases: 1, rotation: 'L2L3L1', honorsProfiles: false }],
  evs: [{ charger: 'CP01', arrive: '07:40', depart: '16:30', energyWh: 30000, maxA: 16 }],
};

function problems(raw: unknown): string[] {
  try {
    parseScenario(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).problems;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario loader', () => {
  it('parses times, spans and fills defaults', () => {
    expect(parseSpan('24h')).toBe(86_400_000);
    expect(parseSpan('1h30m')).toBe(5_400_000);
    expect(parseSpan(2)).toBe(2000);
    expect(parseClock('07:40')).toBe((7 * 60 + 40) * 60_000);
    expect(parseClock('06:30+1')).toBe((24 * 60 + 6 * 60 + 30) * 60_000);
    expect(parseClock('25:00')).toBeUndefined();
    const s = parseScenario(base);
    expect(s.stepMs).toBe(1000);
    expect(s.site.voltage).toBe(230);
    expect(s.chargers[1]).toMatchObject({ profiles: 'ignore', rotation: 'L2L3L1', reactionS: 5, maxA: 32 });
    expect(s.evs[0]).toMatchObject({ id: 'EV1', arriveAt: VIRTUAL_EPOCH + parseClock('07:40')!, maxA: 16, phases: 3, priority: 0 });
  });

  it('accepts overnight EVs with "HH:MM+1"', () => {
    const s = parseScenario({ ...base, duration: '32h', evs: [{ charger: 'CP01', arrive: '18:00', depart: '07:00+1', energyWh: 20000 }] });
    expect(s.evs[0].departAt - s.evs[0].arriveAt).toBe(13 * 3_600_000);
  });

  it('expands a random fleet reproducibly, never two EVs on one charger at once', () => {
    const raw = { ...base, evs: { random: { count: 30, seed: 3 } } };
    const a = parseScenario(raw);
    const b = parseScenario(raw);
    expect(a.evs).toEqual(b.evs);
    expect(a.evs.length).toBeGreaterThan(1);
    for (const c of a.chargers) {
      const mine = a.evs.filter((e) => e.charger === c.id).sort((x, y) => x.arriveAt - y.arriveAt);
      for (let i = 1; i < mine.length; i++) expect(mine[i].arriveAt).toBeGreaterThanOrEqual(mine[i - 1].departAt);
    }
    expect(parseScenario({ ...base, evs: { random: { count: 30, seed: 4 } } }).evs).not.toEqual(a.evs);
    // A list may mix explicit EVs and a random fleet.
    const mixed = parseScenario({ ...base, evs: [...base.evs, { random: { count: 5, seed: 1, arrive: ['17:00', '18:00'] } }] });
    expect(mixed.evs[0].id).toBe('EV1');
  });

  it('names every problem by its key path', () => {
    const p = problems({
      name: 'bad',
      duration: 'forever',
      site: { limitA: [63, 63] },
      baseLoad: { shape: 'factory' },
      chargers: [{ id: 'CP01', phases: 2 }, { id: 'CP01', circuit: 'nowhere' }],
      evs: [{ charger: 'CP01', arrive: '7h', depart: '16:30', energyWh: 1000 }],
      colour: 'red',
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'duration: must be a duration like "24h", "90m", "1s" or seconds',
        'site.limitA: must NOT have fewer than 3 items',
        'baseLoad.shape: must be office, home, flat or csv:<file>',
        'chargers[0].phases: must be one of 1, 3',
        'colour: unknown key',
      ]),
    );
    expect(p).toContain('evs[0].arrive: must be "HH:MM" or "HH:MM+1"');
    // Only the branch the author meant is reported, not every alternative of the schema.
    expect(p.some((x) => x.includes('anyOf') || x.includes('random'))).toBe(false);
  });

  it('checks references and times across keys', () => {
    const p = problems({
      ...base,
      circuits: [{ id: 'a', limitA: [32, 32, 32], parent: 'b' }, { id: 'b', limitA: [32, 32, 32], parent: 'a' }],
      chargers: [...base.chargers, { id: 'CP01' }, { id: 'CP03', circuit: 'nowhere' }],
      evs: [
        { charger: 'CP09', arrive: '07:00', depart: '08:00', energyWh: 1 },
        { charger: 'CP01', arrive: '09:00', depart: '08:00', energyWh: 1 },
        { charger: 'CP01', arrive: '07:00', depart: '12:00', energyWh: 1 },
        { charger: 'CP01', arrive: '11:00', depart: '13:00', energyWh: 1 },
        { charger: 'CP02', arrive: '23:99', depart: '13:00', energyWh: 1 },
      ],
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'circuits[0].parent: circuits form a cycle through "a"',
        'chargers[2].id: duplicate id "CP01"',
        'chargers[3].circuit: no circuit "nowhere" in circuits',
        'evs[0].charger: no charger "CP09" in chargers',
        'evs[1].depart: must be after arrive (use "HH:MM+1" for the next day)',
        'evs[3].arrive: charger "CP01" is occupied by another EV then',
        'evs[4].arrive: not a time of day ("23:99")',
      ]),
    );
  });

  it('reports YAML syntax errors with line and column, and an unreadable file', () => {
    const f = join(dir, 'broken.yaml');
    writeFileSync(f, 'name: x\nsite: { limitA: [1, 2, 3]\n');
    expect(() => loadScenario(f)).toThrow(/YAML line \d+ column \d+/);
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(/cannot read: ENOENT/);
  });

  it('loads every shipped scenario', () => {
    const folder = join(import.meta.dirname, '../../config/scenarios');
    const files = readdirSync(folder).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const s = loadScenario(join(folder, f));
      expect(s.evs.length, f).toBeGreaterThan(0);
    }
  });
});

describe('demo scenario', () => {
  it('config/demo.yaml names a scenario whose chargers are its stations; without one, a scenario is derived', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const { scenarioFromConfig } = await import('../../src/sim/world.js');
    const config = loadConfig(join(import.meta.dirname, '../../config/demo.yaml'));
    const s = loadScenario(config.sim!.scenario!);
    expect(s.chargers.map((c) => c.id).sort()).toEqual(config.stations.list.map((x) => x.id).sort());
    for (const c of s.chargers) {
      const st = config.stations.list.find((x) => x.id === c.id)!;
      expect([c.phases, c.maxA, c.rotation, c.circuit]).toEqual([st.phases, st.maxA, st.rotation, st.circuit]);
    }
    expect(s.chargers.filter((c) => c.profiles !== 'apply').map((c) => c.id)).toEqual(['CP08']);
    expect(s.site.limitA).toEqual(config.site.limitA);
    const derived = scenarioFromConfig(config);
    expect(derived.chargers.length).toBe(8);
    expect(derived.evs.length).toBeGreaterThan(8);
    expect(derived.circuits.map((c) => c.id)).toEqual(['boardA']);
  });
});

describe('csv base load', () => {
  it('reads HH:MM,L1,L2,L3 relative to the scenario file, interpolates, scales to peakA and names bad rows', async () => {
    const { SiteTree } = await import('../../src/sim/physics/site.js');
    writeFileSync(join(dir, 'load.csv'), 'time,L1,L2,L3\n00:00,10,20,30\n12:00,20,40,60\n');
    const f = join(dir, 'csv.yaml');
    writeFileSync(f, 'name: csv\nduration: 24h\nsite: { limitA: [63, 63, 63] }\nbaseLoad: { shape: "csv:load.csv", noise: 0 }\nchargers: [{ id: A }]\nevs: []\n');
    const s = loadScenario(f);
    const tree = new SiteTree(s);
    expect(tree.ownLoads(s.startAt + 6 * 3_600_000).get('grid')).toEqual([15, 30, 45]);
    expect(tree.ownLoads(s.startAt + 18 * 3_600_000).get('grid')).toEqual([15, 30, 45]);
    const scaled = new SiteTree({ ...s, baseLoad: { ...s.baseLoad, peakA: [6, 6, 6] } });
    expect(scaled.ownLoads(s.startAt + 12 * 3_600_000).get('grid')).toEqual([2, 4, 6]);
    writeFileSync(join(dir, 'bad.csv'), '00:00,1,2\n');
    expect(() => new SiteTree({ ...s, baseLoad: { ...s.baseLoad, shape: { csv: 'bad.csv' } } })).toThrow(/bad.csv line 1: expected "HH:MM,L1,L2,L3"/);
    writeFileSync(f, 'name: csv\nduration: 24h\nsite: { limitA: [63, 63, 63] }\nbaseLoad: { shape: "csv:nope.csv" }\nchargers: [{ id: A }]\nevs: []\n');
    expect(() => loadScenario(f)).toThrow(/baseLoad.shape: baseLoad csv nope.csv: cannot read \(ENOENT\)/);
  });
});
