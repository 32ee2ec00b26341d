// The controller's own calls (GetVariables for capabilities, the TxDefaultProfile) wait for the station's accepted
// registration. Real stations refuse calls before their BootNotification was accepted (SecurityError), and a Pending
// station may only be called by the CSMS (B02). The real relay, the real control loop, a station as rude as real ones.
import { BehaviorSubject, NEVER, asyncScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import type { SiteLimit } from '../../src/controller/site-limit.js';
import { createControlLoop } from '../../src/control/loop.js';
import { createStations } from '../../src/stations/stations.js';
import { OcppCallError } from '../../src/relay/events.js';
import { connectStation, NOW, startCsms, startRelay, until, type TestStation } from '../relay/helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const boot = { reason: 'PowerUp', chargingStation: { model: 'M', vendorName: 'V' } };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A station that refuses every call until it was told Accepted, and records what it got and when. */
function rude(st: TestStation, initially = false): { got: { action: string; accepted: boolean }[] } {
  let accepted = initially;
  const got: { action: string; accepted: boolean }[] = [];
  // It learns its status from the BootNotificationResponse itself, before reading the next frame.
  st.ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as unknown[];
    const p = f[2] as { status?: string; interval?: number } | undefined;
    if (f[0] === 3 && p && typeof p.interval === 'number' && typeof p.status === 'string') accepted = p.status === 'Accepted';
  });
  const guard = (action: string, answer: (p: Record<string, unknown>) => Record<string, unknown>) => st.peer.handle(action, (p) => {
    got.push({ action, accepted });
    if (!accepted) throw new OcppCallError('SecurityError', 'not accepted by the CSMS yet');
    return answer(p);
  });
  guard('GetVariables', (p) => ({
    getVariableResult: (p.getVariableData as { component: unknown; variable: { name: string } }[]).map((d) => ({
      attributeStatus: 'Accepted', attributeValue: ({ RateUnit: 'A', ProfileStackLevel: '8', PeriodsPerSchedule: '24' } as Record<string, string>)[d.variable.name] ?? '0',
      component: d.component, variable: d.variable,
    })),
  }));
  guard('SetChargingProfile', () => ({ status: 'Accepted' }));
  guard('ClearChargingProfile', () => ({ status: 'Accepted' }));
  guard('SetVariables', () => ({ setVariableResult: [] }));
  return { got };
}

describe('calls before the station is accepted', () => {
  it('nothing of the controller reaches a station before its boot is accepted (not before boot, not while Pending, never after Rejected)', async () => {
    const csms = await startCsms();
    cleanups.push(() => csms.close());
    const answers: Record<string, string[]> = { CP01: ['Pending', 'Accepted'], CP02: ['Rejected'] };
    csms.setup = (peer, id) => {
      peer.handle('BootNotification', () => ({ currentTime: NOW, interval: 60, status: answers[id]?.shift() ?? 'Accepted' }));
      peer.handle('Heartbeat', () => ({ currentTime: NOW }));
    };
    const r = await startRelay(csms.url);
    cleanups.push(() => r.stop());
    const fuse = { kind: 'fuse' as const, id: 'site.limitA', limitA: r.config.site.limitA };
    const loop = createControlLoop({
      scheduler: asyncScheduler, config: r.config, stations: createStations({ relay: r.relay, caller: r.relay }), readings$: NEVER, settings$: NEVER, log: silentLogger,
      siteLimit$: new BehaviorSubject<SiteLimit>({ at: Date.now(), limitA: r.config.site.limitA, binding: fuse, sources: [fuse] }),
    });
    cleanups.push(() => loop.stop());

    const a = await connectStation(r.port, 'CP01');
    cleanups.push(() => a.ws.terminate());
    const b = await connectStation(r.port, 'CP02');
    cleanups.push(() => b.ws.terminate());
    const sa = rude(a);
    const sb = rude(b);
    // Every frame the stations received since their handshake (calls that came before the handlers were set too).
    const callsTo = (st: TestStation) => st.received.filter((t) => (JSON.parse(t) as unknown[])[0] === 2);
    await pause(1500);
    expect(callsTo(a)).toEqual([]); // not before its BootNotification

    expect(await a.peer.call('BootNotification', boot)).toMatchObject({ status: 'Pending' });
    expect(await b.peer.call('BootNotification', boot)).toMatchObject({ status: 'Rejected' });
    await pause(1500);
    expect(callsTo(a)).toEqual([]); // not while Pending

    expect(await a.peer.call('BootNotification', boot)).toMatchObject({ status: 'Accepted' });
    await until(() => sa.got.some((c) => c.action === 'SetChargingProfile'), 10_000);
    expect(sa.got.map((c) => c.action)).toContain('GetVariables');
    expect(sa.got.every((c) => c.accepted)).toBe(true);
    expect(callsTo(b)).toEqual([]); // never after Rejected
    expect(sb.got).toEqual([]);

    // Reconnecting without a new boot (e.g. after a network cut): it is still accepted, the controller sets it up again.
    const calls = sa.got.length;
    a.ws.close();
    const again = await connectStation(r.port, 'CP01');
    cleanups.push(() => again.ws.terminate());
    const s2 = rude(again, true);
    await until(() => s2.got.some((c) => c.action === 'SetChargingProfile'), 10_000);
    expect(calls).toBeGreaterThan(0);
  }, 30_000);
});
