// `npm run bench -- meter-values [--json]`: what the one MeterValues parser costs per frame (it runs on every
// MeterValues of every station), with mathjs unit factors cached as in production, against converting each sample's
// unit with mathjs directly (what the cache saves). A typical 1.6 frame: 3 phase currents, offered current, power in
// kW, energy in kWh.
import { unit } from 'mathjs';
import { measurementOf } from '../../src/stations/meter-values.js';
import { normaliseMeterValue } from '../../src/stations/v16/events.js';
import type { Bench } from './run.js';

const FRAME = [{
  timestamp: '2026-01-01T00:00:00Z',
  sampledValue: [
    { value: '15.9', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
    { value: '16.1', measurand: 'Current.Import', phase: 'L2', unit: 'A' },
    { value: '16.0', measurand: 'Current.Import', phase: 'L3', unit: 'A' },
    { value: '16', measurand: 'Current.Offered', unit: 'A' },
    { value: '11.04', measurand: 'Power.Active.Import', unit: 'kW' },
    { value: '1234.567', measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
  ],
}];

function time(n: number, f: () => void): number {
  for (let i = 0; i < Math.min(n, 2000); i++) f(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1000 / n; // µs per call
}

export const run: Bench = async (opts) => {
  const n = Number(opts.args[0] ?? 50_000) || 50_000;
  let sink = 0;
  const cached = time(n, () => {
    sink += measurementOf(normaliseMeterValue(FRAME)).powerW ?? 0;
  });
  const uncached = time(Math.max(1000, n / 20), () => {
    for (const s of FRAME[0].sampledValue) {
      const base = s.unit.endsWith('Wh') ? 'Wh' : s.unit.endsWith('W') ? 'W' : 'A';
      sink += unit(Number(s.value), s.unit).toNumber(base);
    }
  });
  opts.log(`per frame: ${cached.toFixed(2)} µs with cached factors; converting its six units with mathjs each time would add ${uncached.toFixed(2)} µs (${sink > 0 ? 'ok' : ''})`);
  return { frames: n, us_per_frame: Number(cached.toFixed(3)), us_mathjs_units_per_frame_uncached: Number(uncached.toFixed(3)), frames_per_s: Math.round(1e6 / cached) };
};
