// The long fuzz run (not part of `npm test`): FUZZ_RUNS hostile frames from a station and from the CSMS through a
// real relay, in batches, checking after each batch that every frame got its answer, the relay is still serving a
// well-behaved station, and the heap after GC stays near its baseline.
//   npm run build && FUZZ_RUNS=100000 FUZZ_SEED=7 node dist/test/fuzz/long.js
// Exits 1 on the first missing/unexpected answer or on heap growth above FUZZ_HEAP_MB (default 30).
import { WebSocket } from 'ws';
import { parseFrame } from '../../src/ocpp/frames.js';

import { connectStation, startRelay } from '../relay/helpers.js';
import { startCsmsStub } from './csms-stub.js';
import { heapAfterGcMb, sampleFrames } from './helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const HEAP_MB = Number(process.env.FUZZ_HEAP_MB ?? 30);
const BATCH = 1000;

function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - start > ms) reject(new Error('timed out waiting for answers'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

/** How many answers the station (to its own frames) must get for one batch. */
function answersExpected(frames: string[]): number {
  let n = 0;
  for (const f of frames) {
    const p = parseFrame(f);
    if (!p.ok || p.frame.type === 2) n++;
  }
  return n;
}

async function main(): Promise<void> {
  const csms = await startCsmsStub();
  // Batches of 1000 frames each way overload the event loop on purpose: a generous CSMS call timeout.
  const r = await startRelay(csms.url, { upstream: { callTimeoutS: 120 } });
  const station = new WebSocket(`ws://127.0.0.1:${r.port}/ocpp/LONG1`, ['ocpp2.0.1']);
  await new Promise<void>((res, rej) => { station.once('open', () => res()); station.once('error', rej); });
  let stationAnswers = 0;
  let stationCalls = 0;
  station.on('message', (d) => {
    const f = JSON.parse(d.toString()) as unknown[];
    if (f[0] === 2) { stationCalls++; station.send(JSON.stringify([3, f[1], {}])); } else stationAnswers++;
  });
  const up = await csms.connected('LONG1');
  let csmsAnswers = 0;
  up.on('message', () => { csmsAnswers++; });
  const good = await connectStation(r.port, 'GOOD1');
  const baseline = heapAfterGcMb();
  let sent = 0;
  let maxHeap = baseline;
  for (let batch = 0; sent < RUNS; batch++) {
    const frames = sampleFrames(SEED + batch, Math.min(BATCH, RUNS - sent)).map((f) => f.data);
    const want = stationAnswers + answersExpected(frames);
    for (const f of frames) station.send(f);
    // The same frames from the CSMS side: every one is answered to the CSMS, by the relay or by the station.
    const csmsWant = csmsAnswers + frames.filter((f) => { const p = parseFrame(f); return !p.ok || p.frame.type === 2; }).length;
    for (const f of frames) up.send(f);
    try {
      await waitFor(() => stationAnswers >= want && csmsAnswers >= csmsWant, 60_000);
    } catch {
      throw new Error(`batch ${batch} (seed ${SEED + batch}): station got ${stationAnswers}/${want} answers, CSMS got ${csmsAnswers}/${csmsWant}; relay ${JSON.stringify(r.relay.metrics())}`);
    }
    await good.peer.call('Heartbeat', {});
    sent += frames.length;
    // The stub keeps every frame it received: forget them, or the script measures its own memory.
    csms.received.clear();
    if (batch % 10 === 9 || sent >= RUNS) {
      const heap = heapAfterGcMb();
      maxHeap = Math.max(maxHeap, heap);
      process.stdout.write(`${sent} frames each way: heap after GC ${heap.toFixed(1)} MB (baseline ${baseline.toFixed(1)}), CSMS calls delivered ${stationCalls}\n`);
      if (heap - baseline > HEAP_MB) throw new Error(`heap grew by ${(heap - baseline).toFixed(1)} MB`);
    }
  }
  const result = { runs: RUNS, seed: SEED, heap_baseline_mb: +baseline.toFixed(1), heap_max_after_gc_mb: +maxHeap.toFixed(1), relay: r.relay.metrics(), journal: r.relay.journal?.health() };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  good.ws.close();
  station.close();
  await r.stop();
  await csms.close();
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`long fuzz failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
