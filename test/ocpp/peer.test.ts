import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { OcppPeer } from '../../src/ocpp/peer.js';
import { OcppCallError } from '../../src/relay/events.js';

interface Pair { server: WebSocketServer; a: OcppPeer; b: OcppPeer; rawA: WebSocket }
const open: Pair[] = [];

async function pair(): Promise<Pair> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as AddressInfo).port;
  const accepted = new Promise<WebSocket>((r) => server.once('connection', (s) => r(s)));
  const rawA = new WebSocket(`ws://127.0.0.1:${port}/x`, 'ocpp2.0.1');
  await new Promise<void>((r, j) => { rawA.once('open', () => r()); rawA.once('error', j); });
  const p: Pair = { server, a: new OcppPeer(rawA), b: new OcppPeer(await accepted), rawA };
  open.push(p);
  return p;
}

function nextMessage(ws: WebSocket): Promise<unknown> {
  return new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
}

afterEach(async () => {
  for (const p of open.splice(0)) {
    p.a.close();
    await p.a.closed;
    await new Promise<void>((r) => p.server.close(() => r()));
  }
});

describe('OcppPeer', () => {
  it('calls and answers with validation', async () => {
    const { a, b } = await pair();
    b.handle('Heartbeat', () => ({ currentTime: '2026-01-01T00:00:00.000Z' }));
    expect(await a.call('Heartbeat', {})).toEqual({ currentTime: '2026-01-01T00:00:00.000Z' });
  });

  it('queues its own calls: one outstanding at a time, in order', async () => {
    const { a, b } = await pair();
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: string[] = [];
    b.handle('DataTransfer', async (p) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      seen.push(String(p.messageId));
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      return { status: 'Accepted' };
    });
    await Promise.all([1, 2, 3, 4].map((i) => a.call('DataTransfer', { vendorId: 'v', messageId: `m${i}` })));
    expect(maxInFlight).toBe(1);
    expect(seen).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('answers unknown actions with NotImplemented and handler errors with their CALLERROR', async () => {
    const { a, b } = await pair();
    await expect(a.call('Heartbeat', {})).rejects.toMatchObject({ code: 'NotImplemented' });
    b.handle('Reset', () => { throw new OcppCallError('NotSupported', 'no resets here'); });
    await expect(a.call('Reset', { type: 'Immediate' })).rejects.toMatchObject({ code: 'NotSupported', description: 'no resets here' });
    b.handle('ClearCache', () => { throw new Error('boom'); });
    await expect(a.call('ClearCache', {})).rejects.toMatchObject({ code: 'InternalError' });
    // the peer still works afterwards
    b.handle('Heartbeat', () => ({ currentTime: '2026-01-01T00:00:00.000Z' }));
    await expect(a.call('Heartbeat', {})).resolves.toBeDefined();
  });

  it('rejects an invalid request with the right CALLERROR and keeps the socket', async () => {
    const { b, rawA } = await pair();
    b.handle('BootNotification', () => ({ status: 'Accepted', currentTime: '2026-01-01T00:00:00.000Z', interval: 60 }));
    let reply = nextMessage(rawA);
    rawA.send('[2,"q1","BootNotification",{"reason":"PowerUp"}]');
    expect(await reply).toEqual([4, 'q1', 'OccurrenceConstraintViolation', expect.any(String), {}]);
    reply = nextMessage(rawA);
    rawA.send('not json');
    expect(await reply).toEqual([4, '-1', 'FormatViolation', expect.any(String), {}]);
    reply = nextMessage(rawA);
    rawA.send('[6,"q2","Heartbeat",{}]');
    expect(await reply).toEqual([4, 'q2', 'MessageTypeNotSupported', expect.any(String), {}]);
    expect(rawA.readyState).toBe(WebSocket.OPEN);
  });

  it('times out a call that is never answered and goes on with the next', async () => {
    const { a, b } = await pair();
    b.handle('DataTransfer', () => new Promise(() => undefined));
    b.handle('Heartbeat', () => ({ currentTime: '2026-01-01T00:00:00.000Z' }));
    await expect(a.call('DataTransfer', { vendorId: 'v' }, { timeoutMs: 100 })).rejects.toThrow(/timed out/);
    await expect(a.call('Heartbeat', {})).resolves.toBeDefined();
  });

  it('rejects pending calls when the socket closes', async () => {
    const { a, b } = await pair();
    b.handle('DataTransfer', () => new Promise(() => undefined));
    const p = a.call('DataTransfer', { vendorId: 'v' });
    b.close();
    await expect(p).rejects.toThrow(/closed/);
    expect((await a.closed).code).toBe(1000);
  });
});
