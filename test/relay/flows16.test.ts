// Every OCPP 1.6J flow through the relay, with real sockets on both sides (a raw station and a raw CSMS written here):
// each side receives exactly the bytes the other sent. Also: a 1.6 and a 2.0.1 station on the same port at once,
// upstream.url16, the per-station protocol choice, injected calls to a 1.6 station, and 1.6 error codes.
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionEvent, OcppCallEvent, OcppResultEvent } from '../../src/relay/events.js';
import { NOW, startRelay, until, type TestRelay } from './helpers.js';
import { connectRawStation, startRawCsms, type RawCsms, type RawStation } from './raw-peers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Record<string, unknown> = {}): Promise<{ csms: RawCsms; r: TestRelay }> {
  const csms = await startRawCsms();
  cleanups.push(() => csms.close());
  const r = await startRelay(csms.url, overrides);
  cleanups.push(() => r.stop());
  return { csms, r };
}

async function station(r: TestRelay, id: string, protocols = ['ocpp1.6']): Promise<RawStation> {
  const st = await connectRawStation(r.port, id, protocols);
  cleanups.push(() => st.ws.terminate());
  return st;
}

/** Unusual but valid JSON spacing, so a relay that re-encoded anything would be caught. */
const call = (id: string, action: string, payload: unknown): string => `[2, "${id}",  "${action}", ${JSON.stringify(payload, null, 1)}]`;
const result = (id: string, payload: unknown): string => `[3,"${id}" , ${JSON.stringify(payload, null, 2)} ]`;

const meterValue = [{ timestamp: NOW, sampledValue: [{ value: '7200', measurand: 'Power.Active.Import', unit: 'W' }, { value: '16.3', measurand: 'Current.Import', phase: 'L1', unit: 'A' }] }];

/** [action, request, CSMS reply] for every CALL a 1.6 charge point sends. */
const FROM_STATION: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['BootNotification', { chargePointVendor: 'V', chargePointModel: 'M', firmwareVersion: '1.0' }, { currentTime: NOW, interval: 300, status: 'Accepted' }],
  ['Heartbeat', {}, { currentTime: NOW }],
  ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: NOW }, {}],
  ['Authorize', { idTag: 'TAG1' }, { idTagInfo: { status: 'Accepted', expiryDate: '2030-01-01T00:00:00.000Z' } }],
  ['StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 1000, timestamp: NOW }, { idTagInfo: { status: 'Accepted' }, transactionId: 4711 }],
  ['MeterValues', { connectorId: 1, transactionId: 4711, meterValue }, {}],
  ['StopTransaction', { transactionId: 4711, meterStop: 9000, timestamp: NOW, idTag: 'TAG1', reason: 'Local', transactionData: meterValue }, { idTagInfo: { status: 'Accepted' } }],
  ['DataTransfer', { vendorId: 'com.example', messageId: 'm', data: 'x' }, { status: 'Accepted', data: 'y' }],
  ['DiagnosticsStatusNotification', { status: 'Uploaded' }, {}],
  ['FirmwareStatusNotification', { status: 'Installed' }, {}],
  ['SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: NOW, techInfo: 'v2' }, {}],
  ['SignCertificate', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' }, { status: 'Accepted' }],
  ['SignedFirmwareStatusNotification', { status: 'SignatureVerified', requestId: 7 }, {}],
  ['LogStatusNotification', { status: 'Uploaded', requestId: 8 }, {}],
];

const profile = {
  chargingProfileId: 10, transactionId: 4711, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative',
  chargingSchedule: { chargingRateUnit: 'A', minChargingRate: 6, chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.3, numberPhases: 3 }, { startPeriod: 600, limit: 10.1 }] },
};

/** [action, request, station reply] for every CALL a 1.6 central system sends. */
const FROM_CSMS: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['RemoteStartTransaction', { connectorId: 1, idTag: 'TAG2' }, { status: 'Accepted' }],
  ['RemoteStopTransaction', { transactionId: 4711 }, { status: 'Accepted' }],
  ['ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '60' }, { status: 'Accepted' }],
  ['GetConfiguration', { key: ['HeartbeatInterval'] }, { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: [] }],
  ['SetChargingProfile', { connectorId: 1, csChargingProfiles: profile }, { status: 'Accepted' }],
  ['ClearChargingProfile', { id: 10 }, { status: 'Accepted' }],
  ['GetCompositeSchedule', { connectorId: 1, duration: 3600, chargingRateUnit: 'A' }, {
    status: 'Accepted', connectorId: 1, scheduleStart: NOW,
    chargingSchedule: { duration: 3600, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.3 }] },
  }],
  ['DataTransfer', { vendorId: 'com.example', data: 'z' }, { status: 'Rejected' }],
  ['TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 }, { status: 'Accepted' }],
  ['Reset', { type: 'Soft' }, { status: 'Accepted' }],
  ['ChangeAvailability', { connectorId: 1, type: 'Inoperative' }, { status: 'Scheduled' }],
  ['UnlockConnector', { connectorId: 1 }, { status: 'Unlocked' }],
  ['CertificateSigned', { certificateChain: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }, { status: 'Accepted' }],
  ['ExtendedTriggerMessage', { requestedMessage: 'SignChargePointCertificate' }, { status: 'Accepted' }],
  ['GetLog', { logType: 'SecurityLog', requestId: 8, log: { remoteLocation: 'https://logs.example/up' } }, { status: 'Accepted', filename: 'security.log' }],
  ['SignedUpdateFirmware', {
    requestId: 7, firmware: { location: 'https://fw.example/fw.bin', retrieveDateTime: NOW, signingCertificate: '-----BEGIN CERTIFICATE-----', signature: 'c2ln' },
  }, { status: 'Accepted' }],
  ['InstallCertificate', { certificateType: 'CentralSystemRootCertificate', certificate: '-----BEGIN CERTIFICATE-----' }, { status: 'Accepted' }],
  ['GetInstalledCertificateIds', { certificateType: 'ManufacturerRootCertificate' }, { status: 'NotFound' }],
  ['DeleteCertificate', { certificateHashData: { hashAlgorithm: 'SHA256', issuerNameHash: 'a', issuerKeyHash: 'b', serialNumber: '1' } }, { status: 'Accepted' }],
];

describe('OCPP 1.6J flows through the relay', () => {
  it('relays every charge-point-initiated 1.6 flow byte for byte and publishes 1.6 events', async () => {
    const { csms, r } = await setup();
    const calls: OcppCallEvent[] = [];
    const results: OcppResultEvent[] = [];
    const conns: ConnectionEvent[] = [];
    r.relay.calls$.subscribe((c) => calls.push(c));
    r.relay.results$.subscribe((e) => results.push(e));
    r.relay.connections$.subscribe((e) => conns.push(e));
    const replies = new Map(FROM_STATION.map(([a, , reply]) => [a, reply]));
    const sentReplies: string[] = [];
    csms.answer = (_id, frame) => {
      const text = result(String(frame[1]), replies.get(String(frame[2])));
      sentReplies.push(text);
      return text;
    };
    const st = await station(r, 'CP16');
    expect(st.ws.protocol).toBe('ocpp1.6');
    await csms.connected('CP16');
    expect(csms.protocols.get('CP16')).toBe('ocpp1.6');
    const sent: string[] = [];
    for (const [i, [action, payload]] of FROM_STATION.entries()) {
      const text = call(`s-${i}`, action, payload);
      sent.push(text);
      st.send(text);
      await st.nth(i + 1);
    }
    expect(csms.received.get('CP16')).toEqual(sent);
    expect(st.received).toEqual(sentReplies);
    await until(() => results.length === FROM_STATION.length);
    expect(calls.map((c) => c.action)).toEqual(FROM_STATION.map((f) => f[0]));
    expect(calls.every((c) => c.protocol === 'ocpp1.6' && c.origin === 'station')).toBe(true);
    expect(results.every((e) => e.protocol === 'ocpp1.6' && !e.answeredLocally && e.error === undefined)).toBe(true);
    expect(results.find((e) => e.action === 'StartTransaction')?.result).toEqual({ idTagInfo: { status: 'Accepted' }, transactionId: 4711 });
    expect(conns.filter((c) => c.up).map((c) => [c.side, c.protocol]).sort()).toEqual([['station', 'ocpp1.6'], ['upstream', 'ocpp1.6']]);
  });

  it('relays every central-system-initiated 1.6 flow byte for byte, one at a time', async () => {
    const { csms, r } = await setup();
    const st = await station(r, 'CP16');
    await csms.connected('CP16');
    const replies = new Map(FROM_CSMS.map(([a, , reply]) => [a, reply]));
    const stationReplies: string[] = [];
    st.answer = (frame) => {
      const text = result(String(frame[1]), replies.get(String(frame[2])));
      stationReplies.push(text);
      return text;
    };
    const sent: string[] = [];
    for (const [i, [action, payload]] of FROM_CSMS.entries()) {
      const text = call(`c-${i}`, action, payload);
      sent.push(text);
      csms.send('CP16', text);
      await until(() => (csms.received.get('CP16') ?? []).length === i + 1, 10_000);
    }
    expect(st.received).toEqual(sent);
    expect(csms.received.get('CP16')).toEqual(stationReplies);
    expect(stationReplies.every((t) => t.startsWith('[3,'))).toBe(true);
  });

  it('serves a 1.6 and a 2.0.1 station on the same port at once, each toward its own CSMS endpoint', async () => {
    const csms16 = await startRawCsms('/csms16');
    cleanups.push(() => csms16.close());
    const { csms, r } = await setup({ upstream: { url16: csms16.url } });
    csms.answer = (_id, f) => result(String(f[1]), { currentTime: NOW, interval: 60, status: 'Accepted' });
    csms16.answer = (_id, f) => result(String(f[1]), { currentTime: NOW, interval: 120, status: 'Accepted' });
    const [a, b] = await Promise.all([station(r, 'CP16'), station(r, 'CP20', ['ocpp2.0.1'])]);
    expect([a.ws.protocol, b.ws.protocol]).toEqual(['ocpp1.6', 'ocpp2.0.1']);
    await Promise.all([csms16.connected('CP16'), csms.connected('CP20')]);
    expect(csms16.protocols.get('CP16')).toBe('ocpp1.6');
    expect(csms.protocols.get('CP20')).toBe('ocpp2.0.1');
    expect(csms.sockets.has('CP16')).toBe(false);
    const boot16 = call('b16', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    const boot20 = call('b20', 'BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } });
    a.send(boot16);
    b.send(boot20);
    expect(JSON.parse(await a.nth(1))).toEqual([3, 'b16', { currentTime: NOW, interval: 120, status: 'Accepted' }]);
    expect(JSON.parse(await b.nth(1))).toEqual([3, 'b20', { currentTime: NOW, interval: 60, status: 'Accepted' }]);
    expect(csms16.received.get('CP16')).toEqual([boot16]);
    expect(csms.received.get('CP20')).toEqual([boot20]);
    // Each is checked against its own version's schemas: a 2.0.1 boot from the 1.6 station is refused in 1.6 terms.
    a.send(call('x', 'BootNotification', { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } }));
    expect((JSON.parse(await a.nth(2)) as unknown[]).slice(0, 3)).toEqual([4, 'x', 'OccurenceConstraintViolation']);
    expect(r.relay.metrics().stationsConnected).toBe(2);
  });

  it('agrees the configured version with a station that offers both, and the station\'s first choice otherwise', async () => {
    const { csms, r } = await setup({ stations: { list: [{ id: 'BOTH16', protocol: 'ocpp1.6' }, { id: 'ONLY20', protocol: 'ocpp1.6' }] } });
    const a = await station(r, 'BOTH16', ['ocpp2.0.1', 'ocpp1.6']);
    const b = await station(r, 'FREE', ['ocpp2.0.1', 'ocpp1.6']);
    const c = await station(r, 'ONLY20', ['ocpp2.0.1']);
    expect([a.ws.protocol, b.ws.protocol, c.ws.protocol]).toEqual(['ocpp1.6', 'ocpp2.0.1', 'ocpp2.0.1']);
    await csms.connected('BOTH16');
    expect(csms.protocols.get('BOTH16')).toBe('ocpp1.6');
  });

  it('injects controller calls into a 1.6 station with their own ids, keeps the replies local, and checks them against 1.6', async () => {
    const { csms, r } = await setup();
    const st = await station(r, 'CP16');
    await csms.connected('CP16');
    st.answer = (f) => result(String(f[1]), { status: 'Accepted' });
    const reply = await r.relay.call('CP16', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' });
    expect(reply).toEqual({ status: 'Accepted' });
    const injected = JSON.parse(st.received[0]) as unknown[];
    expect(injected[2]).toBe('ChangeConfiguration');
    expect(String(injected[1])).toMatch(/^[0-9a-f-]{36}$/);
    // A 2.0.1-only action is not sent to a 1.6 station at all.
    await expect(r.relay.call('CP16', 'SetVariables', { setVariableData: [] })).rejects.toMatchObject({ code: 'NotImplemented' });
    await new Promise((res) => setTimeout(res, 50));
    expect(csms.received.get('CP16') ?? []).toEqual([]);
    expect(st.received).toHaveLength(1);
  });

  it('keeps one outstanding call toward a 1.6 station: the controller\'s waits behind the CSMS\'s, and its reply stays local', async () => {
    const { csms, r } = await setup();
    const st = await station(r, 'CP16');
    await csms.connected('CP16');
    // The station holds the CSMS's call for a while before answering (as chargers applying a profile do).
    const held: unknown[][] = [];
    st.answer = (f) => {
      if (f[2] === 'GetConfiguration') {
        held.push(f);
        return undefined;
      }
      return result(String(f[1]), { status: 'Accepted' });
    };
    csms.send('CP16', call('csms-1', 'GetConfiguration', {}));
    await st.nth(1);
    const injected = r.relay.call('CP16', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '10' });
    await new Promise((res) => setTimeout(res, 200));
    expect(st.received).toHaveLength(1);
    st.send(result('csms-1', { configurationKey: [], unknownKey: [] }));
    expect(await injected).toEqual({ status: 'Accepted' });
    expect(st.received).toHaveLength(2);
    expect(JSON.parse(st.received[1])[2]).toBe('ChangeConfiguration');
    // The CSMS got its own reply, and nothing of the controller's call.
    await until(() => (csms.received.get('CP16') ?? []).length === 1);
    await new Promise((res) => setTimeout(res, 100));
    expect(csms.received.get('CP16')).toEqual([result('csms-1', { configurationKey: [], unknownKey: [] })]);
  });

  it('answers invalid 1.6 frames with the 1.6 error codes and forwards none of them', async () => {
    const { csms, r } = await setup();
    const st = await station(r, 'CP16');
    await csms.connected('CP16');
    const cases: [string, string, string][] = [
      ['not json', '-1', 'FormationViolation'],
      ['[2,"a","BootNotification",{"chargePointVendor":"V"}]', 'a', 'OccurenceConstraintViolation'],
      ['[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M","extra":1}]', 'b', 'FormationViolation'],
      ['[2,"c","BootNotification",{"chargePointVendor":1,"chargePointModel":"M"}]', 'c', 'TypeConstraintViolation'],
      ['[2,"d","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Occupied"}]', 'd', 'PropertyConstraintViolation'],
      ['[2,"e","TransactionEvent",{}]', 'e', 'NotImplemented'],
      ['[7,"f"]', 'f', 'FormationViolation'],
      ['[2,"g","Heartbeat"]', 'g', 'FormationViolation'],
    ];
    for (const [i, [text, id, code]] of cases.entries()) {
      st.send(text);
      const reply = JSON.parse(await st.nth(i + 1)) as unknown[];
      expect([reply[0], reply[1], reply[2]]).toEqual([4, id, code]);
    }
    expect(csms.received.get('CP16') ?? []).toEqual([]);
    // The CSMS's malformed frames are answered in 1.6 terms too.
    csms.send('CP16', '[2,"z","Reset"]');
    await until(() => (csms.received.get('CP16') ?? []).length === 1);
    expect((JSON.parse(csms.received.get('CP16')![0]) as unknown[]).slice(0, 3)).toEqual([4, 'z', 'FormationViolation']);
  });
});
