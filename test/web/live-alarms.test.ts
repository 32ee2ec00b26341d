// Alarm texts on the page say what is true: an overload while chargers the controller cannot limit are drawing is not
// "with all chargers paused"; queued messages the CSMS refused on every attempt are shown, not hidden.
import { BehaviorSubject, NEVER, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ControlState } from '../../src/control/types.js';
import type { ConnectionEvent } from '../../src/relay/events.js';
import { createSiteView } from '../../src/web/live.js';

const config = parseConfig({ stations: { listen: { port: 0 } }, upstream: { url: 'ws://127.0.0.1:1/csms' }, site: { limitA: [32, 32, 32] } });

function view(state: ControlState, refused: { stationId: string; action: string; messageId: string; error: string; failedAt: number }[] = []) {
  const v = createSiteView(config, {
    controlState$: new BehaviorSubject(state), readings$: NEVER, siteLimit$: NEVER,
    connections$: new Subject<ConnectionEvent>(), setExternalLimit: () => undefined,
    refusedMessages: () => refused,
  }, { now: () => 0, schedule: () => ({ unsubscribe: () => undefined }) } as never, () => ({ priorities: {}, modes: {} }));
  const s = v.snapshot();
  v.stop();
  return s;
}

const alarm = { nodeId: 'site', phase: 0, loadWithAllPaused: 40, limit: 32 };
const evse = (controllable: boolean) => ({ stationId: 'CP01', evseId: 1, transactionId: 'T1', controllable, ...(controllable ? {} : { controllableReason: 'NotImplemented' }) });

describe('page alarms', () => {
  it('an overload with an uncontrollable charger drawing names that draw instead of "all chargers paused"', () => {
    const s = view({ at: 0, nodes: [], evses: [evse(false)], alarms: [alarm], lastSolveMs: 0 });
    const text = s.alarms.find((a) => a.kind === 'overload')!.message;
    expect(text).not.toContain('with all chargers paused');
    expect(text).toContain('chargers the controller cannot limit');
    // With only controllable chargers, "all paused" is true and stays.
    expect(view({ at: 0, nodes: [], evses: [evse(true)], alarms: [alarm], lastSolveMs: 0 }).alarms.find((a) => a.kind === 'overload')!.message)
      .toContain('with all chargers paused');
  });

  it('messages the CSMS refused on every attempt are listed and raise an alarm', () => {
    const refused = [{ stationId: 'CP01', action: 'TransactionEvent', messageId: 'm1', error: 'RpcFrameworkError: Call already in progress', failedAt: 0 }];
    const s = view({ at: 0, nodes: [], evses: [], alarms: [], lastSolveMs: 0 }, refused);
    expect(s.csms.refused).toEqual(refused);
    expect(s.alarms.find((a) => a.kind === 'csms-refused')?.message).toContain('CP01');
  });
});
