// connections$ tells the truth at the moment it fires: a station announced up can be called at once from the
// callback, and a station that connects again on a new socket is never announced down after its new "up".
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startCsms, startRelay, until, type TestCsms, type TestRelay } from './helpers.js';
import type { ConnectionEvent } from '../../src/relay/events.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ csms: TestCsms; r: TestRelay }> {
  const csms = await startCsms();
  cleanups.push(() => csms.close());
  const r = await startRelay(csms.url);
  cleanups.push(() => r.stop());
  return { csms, r };
}

/** A station that answers GetVariables from its very first frame (the relay may call it right after the handshake). */
async function station(r: TestRelay, id: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${r.port}/ocpp/${id}`, ['ocpp2.0.1']);
  cleanups.push(() => ws.terminate());
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as unknown[];
    if (f[0] === 2 && f[2] === 'GetVariables') {
      ws.send(JSON.stringify([3, f[1], {
        getVariableResult: [{ attributeStatus: 'Accepted', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' }, attributeValue: '60' }],
      }]));
    }
  });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  return ws;
}

const getHeartbeat = { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] };

describe('connections$', () => {
  it('a station announced up can be called at once from the connections$ callback', async () => {
    const { r } = await setup();
    const replies: Promise<Record<string, unknown>>[] = [];
    r.relay.connections$.subscribe((e) => {
      if (e.side === 'station' && e.up) replies.push(r.relay.call(e.stationId, 'GetVariables', getHeartbeat));
    });
    await station(r, 'CP01');
    await until(() => replies.length === 1);
    const reply = await replies[0];
    expect(reply).toMatchObject({ getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '60' }] });
  });

  it('the same holds when the CSMS is unreachable and the station is served locally', async () => {
    const csms = await startCsms();
    const url = csms.url;
    await csms.close();
    const r = await startRelay(url);
    cleanups.push(() => r.stop());
    const replies: Promise<Record<string, unknown>>[] = [];
    r.relay.connections$.subscribe((e) => {
      if (e.side === 'station' && e.up) replies.push(r.relay.call(e.stationId, 'GetVariables', getHeartbeat));
    });
    await station(r, 'CP02');
    await until(() => replies.length === 1);
    await expect(replies[0]).resolves.toMatchObject({ getVariableResult: [{ attributeValue: '60' }] });
  });

  it('a station connecting again is announced down (replaced) before its new connection is announced up, never after', async () => {
    const { csms, r } = await setup();
    const events: ConnectionEvent[] = [];
    r.relay.connections$.subscribe((e) => events.push(e));
    const first = await station(r, 'CP03');
    await csms.connected('CP03');
    await until(() => events.some((e) => e.side === 'upstream' && e.up));
    const firstClosed = new Promise<void>((res) => first.once('close', () => res()));
    const second = await station(r, 'CP03');
    await firstClosed;
    await until(() => events.filter((e) => e.side === 'upstream' && e.up).length === 2);
    // Let the old connection's close (and its old upstream socket's close) run completely.
    await new Promise((res) => setTimeout(res, 200));
    const stationSide = events.filter((e) => e.side === 'station').map((e) => e.up);
    expect(stationSide).toEqual([true, false, true]);
    expect(events.at(-1)).toMatchObject({ side: 'upstream', up: true });
    expect(events.find((e) => !e.up && e.side === 'station')?.reason).toMatch(/replaced/);
    expect(r.relay.connectedStations()).toEqual(['CP03']);
    expect(r.relay.upstreamConnected('CP03')).toBe(true);
    await expect(r.relay.call('CP03', 'GetVariables', getHeartbeat)).resolves.toMatchObject({ getVariableResult: [{ attributeValue: '60' }] });
    expect(second.readyState).toBe(WebSocket.OPEN);
  });
});
