// The controller identity over wss: verifies the CSMS with upstream.ca and presents upstream.clientCert/clientKey
// (security profile 3), against a real TLS server with certificates made by openssl for this test.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../../src/common/log.js';
import { VAR } from '../../src/controller/device-model.js';
import { variableKey } from '../../src/controller/device-model-data.js';
import { createControllerStation, type ControllerStation } from '../../src/controller/index.js';
import { OcppPeer } from '../../src/ocpp/index.js';
import { makeConfig, tempDir, type TempDir } from './helpers.js';

let tmp: TempDir | undefined;
let server: Server | undefined;
let station: ControllerStation | undefined;

afterEach(async () => {
  await station?.stop();
  if (server) {
    const s = server;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }
  tmp?.cleanup();
  station = undefined;
  server = undefined;
  tmp = undefined;
});

function makeCertificates(dir: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca');
  for (const [name, subject, ext] of [
    ['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1'],
    ['client', '/CN=LC-TLS', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

it('connects over wss with the configured CA and client certificate', async () => {
  tmp = tempDir();
  const dir = tmp.dir;
  makeCertificates(dir);
  server = createServer({
    cert: readFileSync(join(dir, 'server.pem')),
    key: readFileSync(join(dir, 'server.key')),
    ca: readFileSync(join(dir, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: true,
  });
  const wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false) });
  const clientNames: string[] = [];
  const boots: Array<Record<string, unknown>> = [];
  wss.on('connection', (socket, req) => {
    clientNames.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    const peer = new OcppPeer(socket);
    peer.handle('BootNotification', (p) => {
      boots.push(p);
      return { status: 'Accepted', interval: 300, currentTime: new Date().toISOString() };
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;

  const config = makeConfig({
    controller: { identity: 'LC-TLS' },
    upstream: { url: `wss://127.0.0.1:${port}/ocpp`, ca: join(dir, 'ca.pem'), clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key') },
  });
  station = createControllerStation({ config, db: tmp.open(), log: silentLogger });
  let connected = false;
  station.connected$.subscribe((c) => (connected = c));
  station.start();
  for (let i = 0; i < 200 && !connected; i++) await new Promise((r) => setTimeout(r, 50));
  expect(connected).toBe(true);
  expect(clientNames).toEqual(['LC-TLS']);
  expect(boots).toHaveLength(1);
  expect(station.deviceModel.get(variableKey('SecurityCtrlr', 'SecurityProfile'))).toBe('3');
  expect(station.deviceModel.get(VAR.heartbeatInterval)).toBe('300');
});
