// Security profile 3 toward stations (mutual TLS): the client certificate must come from the configured CA AND be
// issued to the identity in the URL (CN or a DNS/URI subjectAltName). Private key files readable by group/others
// are refused at start, as ssh does. Certificates made with openssl in a temp dir.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { silentLogger } from '../../src/common/log.js';
import { createRelay } from '../../src/relay/relay.js';
import { openDatabase } from '../../src/store/db.js';
import { startCsmsStub } from '../fuzz/csms-stub.js';
import { startRelay, testConfig } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1, and station certificates: CP01 by CN, CP02 by SAN only. */
function makePki(dir: string): Record<string, string> {
  const f = (n: string) => join(dir, n);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=test-ca',
    '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  const issue = (name: string, subj: string, san: string) => {
    writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subj, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
    openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
      '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
    chmodSync(f(`${name}.key`), 0o600);
  };
  issue('server', '/CN=127.0.0.1', 'IP:127.0.0.1');
  issue('cp01', '/CN=CP01', 'DNS:cp01.example');
  issue('cp02', '/CN=someone-else', 'DNS:CP02');
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), cp01: f('cp01.pem'), cp01Key: f('cp01.key'), cp02: f('cp02.pem'), cp02Key: f('cp02.key') };
}

function connect(port: number, id: string, pki: Record<string, string>, cert?: string, key?: string): Promise<{ ws: WebSocket } | { status: number | string }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ocpp/${id}`, ['ocpp2.0.1'], {
    ca: readFileSync(pki.ca), ...(cert && key ? { cert: readFileSync(cert), key: readFileSync(key) } : {}),
  });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', (err) => resolve({ status: err.message }));
  });
}

describe('security profile 3 toward stations', () => {
  it('accepts a station only with a CA-issued certificate whose CN or SAN is its identity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp3-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    const csms = await startCsmsStub();
    cleanups.push(() => csms.close());
    const r = await startRelay(csms.url, { stations: { tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: true } } });
    cleanups.push(() => r.stop());

    const ok1 = await connect(r.port, 'CP01', pki, pki.cp01, pki.cp01Key);
    expect('ws' in ok1).toBe(true);
    if ('ws' in ok1) ok1.ws.terminate();
    const ok2 = await connect(r.port, 'CP02', pki, pki.cp02, pki.cp02Key);
    expect('ws' in ok2).toBe(true);
    if ('ws' in ok2) ok2.ws.terminate();
    // CP01's certificate on CP02's path (and the other way round) is refused with 403.
    expect(await connect(r.port, 'CP02', pki, pki.cp01, pki.cp01Key)).toEqual({ status: 403 });
    expect(await connect(r.port, 'CP01', pki, pki.cp02, pki.cp02Key)).toEqual({ status: 403 });
    expect(await connect(r.port, 'cp01.example', pki, pki.cp02, pki.cp02Key)).toEqual({ status: 403 });
    // No certificate: refused by TLS itself.
    const none = await connect(r.port, 'CP01', pki);
    expect('status' in none).toBe(true);
    // A self-signed certificate named CP01 but not from the CA: refused by TLS.
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=CP01',
      '-keyout', join(dir, 'rogue.key'), '-out', join(dir, 'rogue.pem')]);
    const rogue = await connect(r.port, 'CP01', pki, join(dir, 'rogue.pem'), join(dir, 'rogue.key'));
    expect('status' in rogue).toBe(true);
    expect(r.relay.connectedStations()).toEqual([]);
  });

  it('refuses to start when a private key file is readable by group or others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp3-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    chmodSync(pki.serverKey, 0o644);
    const db = openDatabase(':memory:');
    cleanups.push(() => { db.close(); });
    const stationsSide = createRelay({
      config: testConfig('ws://127.0.0.1:9/csms', { stations: { tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requireClientCert: true } } }),
      db, log: silentLogger, journal: false,
    });
    await expect(stationsSide.start()).rejects.toThrow(/stations\.tls\.key .*server\.key is accessible by group or others \(mode 0644\); run: chmod 600/);
    chmodSync(pki.cp01Key, 0o640);
    expect(() => createRelay({
      config: testConfig('wss://127.0.0.1:9/csms', { upstream: { clientCert: pki.cp01, clientKey: pki.cp01Key } }),
      db, log: silentLogger, journal: false,
    })).toThrow(/upstream\.clientKey .*cp01\.key is accessible by group or others \(mode 0640\)/);
    chmodSync(pki.cp01Key, 0o600);
    expect(() => createRelay({
      config: testConfig('wss://127.0.0.1:9/csms', { upstream: { clientCert: pki.cp01, clientKey: pki.cp01Key } }),
      db, log: silentLogger, journal: false,
    })).not.toThrow();
  });
});
