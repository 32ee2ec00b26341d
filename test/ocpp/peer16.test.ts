// OcppPeer speaking OCPP 1.6J (protocol: 'ocpp1.6'): 1.6 schemas validate, CALLERRORs in 1.6's spelling.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { OcppPeer } from '../../src/ocpp/peer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function pair(): Promise<{ a: OcppPeer; b: OcppPeer; rawA: WebSocket }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  cleanups.push(() => new Promise<void>((r) => { for (const c of server.clients) c.terminate(); server.close(() => r()); }));
  const accepted = new Promise<WebSocket>((r) => server.once('connection', (s) => r(s)));
  const rawA = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/CP16`, 'ocpp1.6');
  await new Promise<void>((r, j) => { rawA.once('open', () => r()); rawA.once('error', j); });
  cleanups.push(() => rawA.terminate());
  return { a: new OcppPeer(rawA, { protocol: 'ocpp1.6' }), b: new OcppPeer(await accepted, { protocol: 'ocpp1.6' }), rawA };
}

function next(ws: WebSocket): Promise<unknown[]> {
  return new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()) as unknown[])));
}

describe('OcppPeer with OCPP 1.6', () => {
  it('validates 1.6 payloads and answers in 1.6 error codes', async () => {
    const { a, b, rawA } = await pair();
    b.handle('BootNotification', () => ({ currentTime: '2026-01-01T00:00:00.000Z', interval: 300, status: 'Accepted' }));
    expect(await a.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' })).toMatchObject({ status: 'Accepted' });
    // A 2.0.1 boot is not a 1.6 one.
    await expect(a.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } })).rejects.toMatchObject({ code: 'OccurenceConstraintViolation' });
    let reply = next(rawA);
    rawA.send('[2,"x","BootNotification",{"chargePointVendor":"V","chargePointModel":"M","extra":1}]');
    expect((await reply).slice(0, 3)).toEqual([4, 'x', 'FormationViolation']);
    reply = next(rawA);
    rawA.send('{oops');
    expect((await reply).slice(0, 3)).toEqual([4, '-1', 'FormationViolation']);
    reply = next(rawA);
    rawA.send('[2,"y","GetLog",{"logType":"SecurityLog","requestId":1,"log":{"remoteLocation":"ftp://x"}}]');
    expect((await reply).slice(0, 3)).toEqual([4, 'y', 'NotImplemented']);
  });
});
