// Security profile 2 on both sides: stations connect with wss + Basic auth to the relay; the relay reaches a wss
// CSMS whose certificate it verifies against the configured CA.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { OcppPeer } from '../../src/ocpp/peer.js';
import { NOW, startRelay } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('TLS', () => {
  it('relays over wss with Basic auth or a client certificate, and a verified CSMS certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });

    const https = createServer({ cert: readFileSync(cert), key: readFileSync(key) });
    const wss = new WebSocketServer({ server: https, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false) });
    let upstreamAuth: string | undefined;
    wss.on('connection', (ws, req) => {
      upstreamAuth = req.headers.authorization;
      new OcppPeer(ws).handle('Heartbeat', () => ({ currentTime: NOW }));
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); https.close(() => r()); }));
    const csmsPort = (https.address() as AddressInfo).port;

    const password = 'a-station-password-16+';
    const r = await startRelay(`wss://127.0.0.1:${csmsPort}/csms`, {
      stations: { auth: 'basic', allowUnknown: false, tls: { cert, key }, list: [{ id: 'CP01', passwordHash: hashPasswordSync(password, { N: 1024, r: 8, p: 1 }) }] },
      upstream: { ca: cert },
    });
    cleanups.push(() => r.stop());

    const authorization = `Basic ${Buffer.from(`CP01:${password}`).toString('base64')}`;
    const ws = new WebSocket(`wss://127.0.0.1:${r.port}/ocpp/CP01`, ['ocpp2.0.1'], { ca: readFileSync(cert), headers: { Authorization: authorization } });
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    cleanups.push(() => ws.terminate());
    const station = new OcppPeer(ws);
    expect(await station.call('Heartbeat', {})).toEqual({ currentTime: NOW });
    expect(upstreamAuth).toBe(authorization);
    expect(r.relay.upstreamConnected('CP01')).toBe(true);

    // Security profile 3: a client certificate signed by the configured CA is required, issued to the identity in the URL.
    const r3 = await startRelay(`wss://127.0.0.1:${csmsPort}/csms`, {
      stations: { tls: { cert, key, ca: cert, requireClientCert: true } },
      upstream: { ca: cert },
    });
    cleanups.push(() => r3.stop());
    const noCert = new WebSocket(`wss://127.0.0.1:${r3.port}/ocpp/127.0.0.1`, ['ocpp2.0.1'], { ca: readFileSync(cert) });
    await expect(new Promise((res, rej) => { noCert.once('open', res); noCert.once('error', rej); })).rejects.toBeDefined();
    const withCert = new WebSocket(`wss://127.0.0.1:${r3.port}/ocpp/127.0.0.1`, ['ocpp2.0.1'], { ca: readFileSync(cert), cert: readFileSync(cert), key: readFileSync(key) });
    await new Promise<void>((res, rej) => { withCert.once('open', () => res()); withCert.once('error', rej); });
    cleanups.push(() => withCert.terminate());
    expect(await new OcppPeer(withCert).call('Heartbeat', {})).toEqual({ currentTime: NOW });

    // Plain ws to a TLS listener is refused at the transport.
    const plain = new WebSocket(`ws://127.0.0.1:${r.port}/ocpp/CP01`, ['ocpp2.0.1']);
    await expect(new Promise((res, rej) => { plain.once('open', res); plain.once('error', rej); })).rejects.toBeDefined();
  });
});
