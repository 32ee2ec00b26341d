// Security profiles 1–3 for OCPP 1.6 stations, exactly as for 2.0.1: Basic auth with the identity as user (1), the
// same over TLS (2), mutual TLS with the identity in the certificate (3). Certificates made with openssl in a temp dir.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { startRelay } from './helpers.js';
import { startRawCsms } from './raw-peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function makePki(dir: string): Record<string, string> {
  const f = (n: string) => join(dir, n);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=test-ca', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  const issue = (name: string, subj: string, san: string) => {
    writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subj, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
    openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
    chmodSync(f(`${name}.key`), 0o600);
  };
  issue('server', '/CN=127.0.0.1', 'IP:127.0.0.1');
  issue('cp16', '/CN=CP16', 'DNS:cp16.example');
  issue('other', '/CN=OTHER', 'DNS:other.example');
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), cp16: f('cp16.pem'), cp16Key: f('cp16.key'), other: f('other.pem'), otherKey: f('other.key') };
}

function connect(url: string, opts: { auth?: string; ca?: string; cert?: string; key?: string } = {}): Promise<{ protocol: string } | { status: number | string }> {
  const ws = new WebSocket(url, ['ocpp1.6'], {
    headers: opts.auth ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {},
    ...(opts.ca ? { ca: readFileSync(opts.ca) } : {}),
    ...(opts.cert && opts.key ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key) } : {}),
  });
  cleanups.push(() => ws.terminate());
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ protocol: ws.protocol }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', (err) => resolve({ status: err.message }));
  });
}

describe('security profiles for OCPP 1.6 stations', () => {
  it('profile 1 and 2: Basic auth with the identity as user, in the clear and over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sec16-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    const csms = await startRawCsms();
    cleanups.push(() => csms.close());
    const hash = hashPasswordSync('secret-16-password', { N: 1024, r: 8, p: 1 });
    const list = [{ id: 'CP16', passwordHash: hash }, { id: 'CP17', passwordHash: hash }];
    const p1 = await startRelay(csms.url, { stations: { auth: 'basic', allowUnknown: false, list } });
    cleanups.push(() => p1.stop());
    const url1 = (id: string) => `ws://127.0.0.1:${p1.port}/ocpp/${id}`;
    expect(await connect(url1('CP16'), { auth: 'CP16:secret-16-password' })).toEqual({ protocol: 'ocpp1.6' });
    await csms.connected('CP16');
    expect(csms.protocols.get('CP16')).toBe('ocpp1.6');
    expect(await connect(url1('CP16'), { auth: 'CP16:wrong' })).toEqual({ status: 401 });
    expect(await connect(url1('CP17'), { auth: 'CP16:secret-16-password' })).toEqual({ status: 401 });
    expect(await connect(url1('CP16'))).toEqual({ status: 401 });

    const p2 = await startRelay(csms.url, { stations: { auth: 'basic', allowUnknown: false, list, tls: { cert: pki.serverCert, key: pki.serverKey, requireClientCert: false } } });
    cleanups.push(() => p2.stop());
    const url2 = (id: string) => `wss://127.0.0.1:${p2.port}/ocpp/${id}`;
    expect(await connect(url2('CP17'), { auth: 'CP17:secret-16-password', ca: pki.ca })).toEqual({ protocol: 'ocpp1.6' });
    expect(await connect(url2('CP17'), { auth: 'CP17:wrong', ca: pki.ca })).toEqual({ status: 401 });
  });

  it('profile 3: mutual TLS, the certificate issued to the identity in the URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sec16-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    const csms = await startRawCsms();
    cleanups.push(() => csms.close());
    const r = await startRelay(csms.url, { stations: { tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: true } } });
    cleanups.push(() => r.stop());
    const url = (id: string) => `wss://127.0.0.1:${r.port}/ocpp/${id}`;
    expect(await connect(url('CP16'), { ca: pki.ca, cert: pki.cp16, key: pki.cp16Key })).toEqual({ protocol: 'ocpp1.6' });
    expect(await connect(url('CP16'), { ca: pki.ca, cert: pki.other, key: pki.otherKey })).toEqual({ status: 403 });
    expect('status' in await connect(url('CP16'), { ca: pki.ca })).toBe(true);
    await csms.connected('CP16');
    expect(r.relay.connectedStations()).toEqual(['CP16']);
  });
});
