// Config keys for OCPP 1.6 stations: upstream.url16 and stations.list[].protocol, checked like every other key.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const base = { stations: { listen: { port: 9000 } }, upstream: { url: 'ws://csms.example:9000/ocpp' }, site: { limitA: [63, 63, 63] } };

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, '/tmp');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('OCPP 1.6 config keys', () => {
  it('takes upstream.url16 and a per-station protocol', () => {
    const c = parseConfig({
      ...base,
      stations: { listen: { port: 9000 }, list: [{ id: 'CP16', protocol: 'ocpp1.6' }, { id: 'CP20' }] },
      upstream: { url: 'ws://csms.example:9000/ocpp', url16: 'wss://csms.example/ocpp16' },
    }, '/tmp');
    expect(c.upstream.url16).toBe('wss://csms.example/ocpp16');
    expect(c.stations.list.map((s) => s.protocol)).toEqual(['ocpp1.6', undefined]);
    expect(parseConfig(base, '/tmp').upstream.url16).toBeUndefined();
  });

  it('names a wrong url16 or protocol by its key path', () => {
    const p = problems({
      ...base,
      stations: { listen: { port: 9000 }, list: [{ id: 'CP16', protocol: 'ocpp1.5' }] },
      upstream: { url: 'ws://csms.example:9000/ocpp', url16: 'http://csms.example/ocpp16' },
    });
    expect(p.some((x) => x.startsWith('upstream.url16'))).toBe(true);
    expect(p.some((x) => x.startsWith('stations.list[0].protocol'))).toBe(true);
  });
});
