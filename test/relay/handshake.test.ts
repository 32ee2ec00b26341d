// Who may connect, and what malformed frames get: refusals at the handshake, CALLERRORs with the socket kept.
import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { hashPasswordSync } from '../../src/common/passwords.js';
import { backoffMs } from '../../src/relay/upstream.js';
import { connectStation, NOW, startCsms, startRelay, until, nextText, type TestCsms, type TestRelay } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Record<string, unknown> = {}, csmsOpts: Parameters<typeof startCsms>[0] = {}): Promise<{ csms: TestCsms; r: TestRelay }> {
  const csms = await startCsms(csmsOpts);
  cleanups.push(() => csms.close());
  const r = await startRelay(csms.url, overrides);
  cleanups.push(() => r.stop());
  return { csms, r };
}

async function status(port: number, path: string, headers: Record<string, string> = {}, protocols = ['ocpp2.0.1']): Promise<number | 'open'> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers });
  return new Promise((resolve) => {
    ws.once('open', () => { ws.terminate(); resolve('open'); });
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('error', () => undefined);
  });
}

const PASSWORD = 'correct-horse-battery-staple';
const basic = (user: string, pw: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });

describe('station handshake', () => {
  it('refuses unknown station ids with 404 unless unknown stations are allowed', async () => {
    const { r, csms } = await setup({ stations: { allowUnknown: false, list: [{ id: 'CP01' }] } });
    expect(await status(r.port, '/ocpp/CP99')).toBe(404);
    expect(await status(r.port, '/ocpp/CP01')).toBe('open');
    expect(await status(r.port, '/other/CP01')).toBe(404);
    expect(await status(r.port, `/ocpp/${'x'.repeat(49)}`)).toBe(404);
    expect(await status(r.port, '/ocpp/CP%3A01')).toBe(404);
    expect(r.relay.metrics().refused).toBe(4);
    expect([...csms.peers.keys()]).toEqual(['CP01']);
  });

  it('checks Basic auth: username is the identity, password checked against its scrypt hash', async () => {
    const hash = hashPasswordSync(PASSWORD, { N: 1024, r: 8, p: 1 });
    const { r, csms } = await setup({ stations: { auth: 'basic', allowUnknown: false, list: [{ id: 'CP01', passwordHash: hash }, { id: 'CP02', passwordHash: hash }] } });
    expect(await status(r.port, '/ocpp/CP01')).toBe(401);
    expect(await status(r.port, '/ocpp/CP01', basic('CP01', 'wrong-password-123'))).toBe(401);
    // CP02's valid credentials cannot open CP01's path.
    expect(await status(r.port, '/ocpp/CP01', basic('CP02', PASSWORD))).toBe(401);
    expect(await status(r.port, '/ocpp/CP01', basic('CP01', PASSWORD))).toBe('open');
    // The station's own credentials are forwarded upstream (upstream.credentials: forward).
    await until(() => csms.requests.length === 1);
    expect(csms.requests[0].headers.authorization).toBe(basic('CP01', PASSWORD).Authorization);
  });

  it('sends configured upstream credentials when told to', async () => {
    const { r, csms } = await setup({ upstream: { credentials: 'configured' }, stations: { list: [{ id: 'CP01', upstreamPassword: 'upstream-secret-0001' }] } });
    await connectStation(r.port, 'CP01').then((s) => cleanups.push(() => s.ws.terminate()));
    await csms.connected('CP01');
    expect(csms.requests[0].headers.authorization).toBe(basic('CP01', 'upstream-secret-0001').Authorization);
  });

  it('passes the CSMS refusing a station on to the station', async () => {
    const { r } = await setup({}, { verifyClient: (info, cb) => (info.req.url?.endsWith('/BAD') ? cb(false, 404) : cb(true)) });
    expect(await status(r.port, '/ocpp/BAD')).toBe(404);
    expect(await status(r.port, '/ocpp/GOOD')).toBe('open');
  });

  it('completes the handshake without a subprotocol and closes when the station offers neither ocpp2.0.1 nor ocpp1.6', async () => {
    const { r, csms } = await setup();
    // Only ocpp1.5 offered: HTTP 101 without a Sec-WebSocket-Protocol header (ws clients then give up themselves).
    const upgraded = await new Promise<IncomingMessage>((res, rej) => {
      const req = httpRequest({ host: '127.0.0.1', port: r.port, path: '/ocpp/CP01', headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'ocpp1.5',
      } });
      req.once('upgrade', (resp, sock) => { sock.destroy(); res(resp); });
      req.once('response', (resp) => rej(new Error(`HTTP ${resp.statusCode}`)));
      req.once('error', rej);
      req.end();
    });
    expect(upgraded.statusCode).toBe(101);
    expect(upgraded.headers['sec-websocket-protocol']).toBeUndefined();
    // No subprotocol offered at all: handshake completes, then the relay closes with 1002.
    const ws = new WebSocket(`ws://127.0.0.1:${r.port}/ocpp/CP01`);
    const opened = new Promise<string>((res) => ws.once('open', () => res(ws.protocol)));
    const closed = new Promise<number>((res) => ws.once('close', (c) => res(c)));
    expect(await opened).toBe('');
    expect(await closed).toBe(1002);
    expect(csms.peers.size).toBe(0);
    // ocpp2.0.1 offered after a version the relay does not speak is still agreed.
    const st = await connectStation(r.port, 'CP02', { protocols: ['ocpp1.5', 'ocpp2.0.1'] });
    cleanups.push(() => st.ws.terminate());
    expect(st.ws.protocol).toBe('ocpp2.0.1');
  });
});

describe('malformed frames', () => {
  it('answers each kind with the right CALLERROR, keeps the socket, and never forwards them', async () => {
    const { r, csms } = await setup();
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    const cases: [string, unknown[]][] = [
      ['{not json', [4, '-1', 'FormatViolation']],
      ['{"a":1}', [4, '-1', 'RpcFrameworkError']],
      ['[2,"m1","Heartbeat"]', [4, 'm1', 'RpcFrameworkError']],
      ['[5,"m2","Heartbeat",{}]', [4, 'm2', 'MessageTypeNotSupported']],
      ['[2,"m3","FlyToMoon",{}]', [4, 'm3', 'NotImplemented']],
      ['[2,"m4","BootNotification",{"reason":"PowerUp"}]', [4, 'm4', 'OccurrenceConstraintViolation']],
      ['[2,"m5","Heartbeat",{"x":1}]', [4, 'm5', 'FormatViolation']],
      ['[2,"m6","StatusNotification",{"timestamp":"' + NOW + '","connectorStatus":"Occupied","evseId":"1","connectorId":1}]', [4, 'm6', 'TypeConstraintViolation']],
      ['[2,"m7","StatusNotification",{"timestamp":"' + NOW + '","connectorStatus":"Busy","evseId":1,"connectorId":1}]', [4, 'm7', 'PropertyConstraintViolation']],
    ];
    for (const [text, expected] of cases) {
      const reply = nextText(st.ws);
      st.ws.send(text);
      const frame = JSON.parse(await reply) as unknown[];
      expect(frame.slice(0, 3), text).toEqual(expected);
      expect(frame).toHaveLength(5);
    }
    expect(st.ws.readyState).toBe(WebSocket.OPEN);
    // Still relays normally afterwards; nothing malformed reached the CSMS.
    csms.peers.get('CP01')!.handle('Heartbeat', () => ({ currentTime: NOW }));
    expect(await st.peer.call('Heartbeat', {})).toEqual({ currentTime: NOW });
    expect(csms.received.get('CP01')!.map((t) => (JSON.parse(t) as unknown[])[2])).toEqual(['Heartbeat']);
    expect(r.relay.metrics().errors).toBe(cases.length);
  });

  it('forwards a station CALL that fails the schema when the policy says forward', async () => {
    const { r, csms } = await setup({ stations: { invalidFromStation: 'forward' } });
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    st.ws.send('[2,"m4","BootNotification",{"reason":"PowerUp"}]');
    await until(() => (csms.received.get('CP01') ?? []).length === 1);
    expect(csms.received.get('CP01')![0]).toBe('[2,"m4","BootNotification",{"reason":"PowerUp"}]');
  });

  it('forwards a CSMS reply that fails the schema (logged), and answers a malformed CSMS frame to the CSMS', async () => {
    const { r, csms } = await setup();
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    await csms.connected('CP01');
    const up = csms.sockets.get('CP01')!;
    csms.peers.get('CP01')!.handle('Heartbeat', () => ({ currentTime: 'not-a-time' }));
    const reply = nextText(st.ws);
    st.ws.send('[2,"h1","Heartbeat",{}]');
    expect(await reply).toBe('[3,"h1",{"currentTime":"not-a-time"}]');
    const back = new Promise<string>((res) => up.once('message', (d) => res(d.toString())));
    up.send('[2,"c1"');
    expect(JSON.parse(await back).slice(0, 3)).toEqual([4, '-1', 'FormatViolation']);
    expect(st.received).toHaveLength(1);
    expect(r.relay.metrics().errors).toBe(2);
  });
});

describe('reconnect back-off', () => {
  it('doubles RetryBackOffWaitMinimum up to RepeatTimes times and adds the random range', () => {
    const retry = { waitMinimumS: 3, randomRangeS: 10, repeatTimes: 2 };
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, retry, () => 0))).toEqual([3000, 6000, 12000, 12000, 12000]);
    expect(backoffMs(0, retry, () => 0.5)).toBe(8000);
  });
});
