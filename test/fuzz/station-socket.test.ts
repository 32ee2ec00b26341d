// Fuzz of the station socket (fixed seed): hostile frames from one station through the real relay (real sockets,
// SQLite journal in a temp dir). Every frame gets exactly the answer Part 4 §4 calls for (a CALLERROR with the
// right code and id, or the CSMS's CALLRESULT when the frame was a valid CALL, or nothing for a stray reply);
// frames above twice maxFrameBytes close with 1009 and invalid UTF-8 with 1007; floods leave the heap near its baseline; another
// station's flow on the same relay completes throughout.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseFrame } from '../../src/ocpp/frames.js';
import { validatePayload } from '../../src/ocpp/validate.js';
import { stationMayNotSend } from '../../src/ocpp/directions.js';
import { connectStation, startRelay, until, type TestRelay } from '../relay/helpers.js';
import { startCsmsStub, type CsmsStub } from './csms-stub.js';
import { heapAfterGcMb, INVALID_UTF8, NO_RATE_LIMIT, sampleFrames } from './helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20260101);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ csms: CsmsStub; r: TestRelay }> {
  const csms = await startCsmsStub();
  cleanups.push(() => csms.close());
  // The fuzzer pipelines thousands of frames to test parsing: the per-station rate limit (tested in
  // test/relay/attacks.test.ts) is lifted here, or it would cut the fuzzer off as a flood.
  const r = await startRelay(csms.url, { stations: { maxFrameBytes: 65536, rateLimit: NO_RATE_LIMIT } });
  cleanups.push(() => r.stop());
  return { csms, r };
}

type Expected = { t: 'error'; id: string; code: string } | { t: 'result'; id: string } | { t: 'none' };

/** What the relay must answer to one frame from a station, by Part 4 §4 (the CSMS stub answers every valid CALL). */
function expectedFor(data: string): Expected {
  const p = parseFrame(data);
  if (!p.ok) return { t: 'error', id: p.error.messageId, code: p.error.code };
  if (p.frame.type !== 2) return { t: 'none' };
  const wrongWay = stationMayNotSend('ocpp2.0.1', p.frame.action);
  if (wrongWay) return { t: 'error', id: p.frame.messageId, code: wrongWay.code };
  const invalid = validatePayload(p.frame.action, 'request', p.frame.payload);
  if (invalid) return { t: 'error', id: p.frame.messageId, code: invalid.code };
  return { t: 'result', id: p.frame.messageId };
}

function describeAnswer(text: string): Expected {
  const f = JSON.parse(text) as unknown[];
  if (f[0] === 4) return { t: 'error', id: String(f[1]), code: String(f[2]) };
  return { t: 'result', id: String(f[1]) };
}

/** A station's normal flow: boot, status, a meter value, a heartbeat — all answered by the CSMS. */
async function normalFlow(port: number, id: string): Promise<void> {
  const s = await connectStation(port, id);
  try {
    await s.peer.call('BootNotification', { chargingStation: { model: 'M', vendorName: 'V' }, reason: 'PowerUp' });
    await s.peer.call('StatusNotification', { timestamp: new Date(0).toISOString(), connectorStatus: 'Available', evseId: 1, connectorId: 1 });
    await s.peer.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: new Date(0).toISOString(), sampledValue: [{ value: 1 }] }] });
    const hb = await s.peer.call('Heartbeat', {});
    expect(hb).toHaveProperty('currentTime');
  } finally {
    s.ws.close();
  }
}

describe('station socket fuzz', () => {
  it('answers every hostile frame as Part 4 §4 says, without disturbing another station', async () => {
    const { csms, r } = await setup();
    const fuzzer = await connectStation(r.port, 'FUZZ1');
    cleanups.push(() => fuzzer.ws.terminate());
    const frames = sampleFrames(SEED, RUNS);
    const expected = frames.map((f) => expectedFor(f.data));
    // Another station goes through its whole flow while the fuzzer sends.
    const other = normalFlow(r.port, 'GOOD1');
    for (const f of frames) fuzzer.ws.send(f.data);
    // Replies come in order per source; the marker's reply arrives after every earlier answer.
    fuzzer.ws.send(JSON.stringify([2, 'marker-1', 'Heartbeat', {}]));
    await until(() => fuzzer.received.some((t) => t.includes('"marker-1"')), 20_000);
    await other;
    const answers = fuzzer.received.filter((t) => !t.includes('"marker-1"')).map(describeAnswer);
    const want = expected.filter((e) => e.t !== 'none');
    const key = (e: Expected) => (e.t === 'none' ? 'none' : e.t === 'error' ? `E ${e.id} ${e.code}` : `R ${e.id}`);
    expect(answers.map(key).sort()).toEqual(want.map(key).sort());
    // The families the generator covers all occurred, and the codes are the ones Part 4 §4.3 names.
    const kinds = new Set(frames.map((f) => f.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(9);
    const codes = new Set(want.filter((e) => e.t === 'error').map((e) => (e as { code: string }).code));
    for (const c of ['FormatViolation', 'RpcFrameworkError', 'MessageTypeNotSupported', 'NotImplemented', 'TypeConstraintViolation',
      'OccurrenceConstraintViolation', 'PropertyConstraintViolation']) expect(codes).toContain(c);
    // Valid CALLs reached the CSMS; nothing the relay rejected did.
    const atCsms = csms.received.get('FUZZ1') ?? [];
    expect(atCsms.length).toBe(want.filter((e) => e.t === 'result').length + 1);
    expect(fuzzer.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('pins the error code for each kind of broken frame', async () => {
    const { r } = await setup();
    const s = await connectStation(r.port, 'TABLE1');
    cleanups.push(() => s.ws.terminate());
    const table: [string, string, string][] = [
      ['{not json', '-1', 'FormatViolation'],
      ['{"a":1}', '-1', 'RpcFrameworkError'],
      ['[]', '-1', 'RpcFrameworkError'],
      ['[2]', '-1', 'RpcFrameworkError'],
      ['[2,"id1","Heartbeat"]', 'id1', 'RpcFrameworkError'],
      ['[2,"id2","Heartbeat",[]]', 'id2', 'FormatViolation'],
      ['[5,"id3","Heartbeat",{}]', 'id3', 'MessageTypeNotSupported'],
      ['["2","id4","Heartbeat",{}]', 'id4', 'RpcFrameworkError'],
      [`[2,"${'x'.repeat(37)}","Heartbeat",{}]`, '-1', 'RpcFrameworkError'],
      ['[2,"id5","NoSuchAction",{}]', 'id5', 'NotImplemented'],
      ['[2,"id6","BootNotification",{"reason":"PowerUp"}]', 'id6', 'OccurrenceConstraintViolation'],
      ['[2,"id7","BootNotification",{"reason":7,"chargingStation":{"model":"M","vendorName":"V"}}]', 'id7', 'TypeConstraintViolation'],
      ['[2,"id8","BootNotification",{"reason":"Bogus","chargingStation":{"model":"M","vendorName":"V"}}]', 'id8', 'PropertyConstraintViolation'],
      [`[2,"id9","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"${'m'.repeat(21)}","vendorName":"V"}}]`, 'id9', 'PropertyConstraintViolation'],
      ['[2,"id10","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"},"x":1}]', 'id10', 'FormatViolation'],
      ['[2,"id11","StatusNotification",{"timestamp":"yesterday","connectorStatus":"Available","evseId":1,"connectorId":1}]', 'id11', 'PropertyConstraintViolation'],
    ];
    for (const [frame, id, code] of table) {
      const before = s.received.length;
      s.ws.send(frame);
      await until(() => s.received.length > before);
      const got = JSON.parse(s.received[before]) as unknown[];
      expect([frame, got[0], got[1], got[2]]).toEqual([frame, 4, id, code]);
    }
    // Binary frames are not OCPP-J.
    const before = s.received.length;
    s.ws.send(Buffer.from('[2,"b1","Heartbeat",{}]'), { binary: true });
    await until(() => s.received.length > before);
    expect((JSON.parse(s.received[before]) as unknown[]).slice(0, 3)).toEqual([4, '-1', 'FormatViolation']);
    // Replies to ids never sent and duplicate replies are dropped; the socket stays open and still works.
    s.ws.send('[3,"never-sent",{}]');
    s.ws.send('[4,"never-sent","GenericError","x",{}]');
    expect(await s.peer.call('Heartbeat', {})).toHaveProperty('currentTime');
  });

  it('closes a frame above twice maxFrameBytes with 1009 and invalid UTF-8 with 1007, with a reason', async () => {
    const { r } = await setup();
    const big = await connectStation(r.port, 'BIG1');
    const closedBig = new Promise<[number, string]>((res) => big.ws.once('close', (c, why) => res([c, why.toString()])));
    // Up to twice the limit a CALL is answered with a CALLERROR (test/relay/frame-size.test.ts); beyond, the socket closes.
    big.ws.send(JSON.stringify([2, 'b', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(140_000) }]));
    const [code, reason] = await closedBig;
    expect(code).toBe(1009);
    expect(reason.length).toBeGreaterThan(0);

    const bad = await connectStation(r.port, 'UTF1');
    const closedBad = new Promise<[number, string]>((res) => bad.ws.once('close', (c, why) => res([c, why.toString()])));
    bad.ws.send(INVALID_UTF8, { binary: false });
    const [code2, reason2] = await closedBad;
    expect(code2).toBe(1007);
    expect(reason2.length).toBeGreaterThan(0);
    // The relay is still up for everyone else.
    await normalFlow(r.port, 'AFTER1');
  });

  it('survives floods with the heap back near its baseline, while another station completes its flow', async () => {
    const { r } = await setup();
    await normalFlow(r.port, 'WARM1');
    const baseline = heapAfterGcMb();
    const flooders = await Promise.all([connectStation(r.port, 'FLOOD1'), connectStation(r.port, 'FLOOD2'), connectStation(r.port, 'FLOOD3')]);
    for (const f of flooders) cleanups.push(() => f.ws.terminate());
    const N = 5000;
    const garbage = sampleFrames(SEED + 1, 200).map((f) => f.data);
    for (let i = 0; i < N; i++) {
      flooders[0].ws.send(garbage[i % garbage.length]);
      flooders[1].ws.send(JSON.stringify([2, `h${i}`, 'Heartbeat', {}]));
      // Duplicate ids: the same id over and over.
      flooders[2].ws.send(JSON.stringify([2, 'dup', 'Heartbeat', {}]));
    }
    const other = normalFlow(r.port, 'GOOD2');
    for (const f of flooders) f.ws.send(JSON.stringify([2, 'end', 'Heartbeat', {}]));
    for (const f of flooders) await until(() => f.received.some((t) => t.includes('"end"')), 30_000);
    await other;
    expect(flooders[1].received.length).toBe(N + 1);
    expect(flooders[2].received.length).toBe(N + 1);
    const peak = process.memoryUsage().heapUsed / 1e6;
    for (const f of flooders) f.ws.close();
    await until(() => r.relay.metrics().stationsConnected === 0, 10_000);
    const after = heapAfterGcMb();
    console.log(`station flood: heap baseline ${baseline.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, after GC ${after.toFixed(1)} MB (${3 * N} frames)`);
    expect(after - baseline).toBeLessThan(20);
    await normalFlow(r.port, 'GOOD3');
  });
});
