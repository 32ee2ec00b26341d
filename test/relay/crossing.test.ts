// Crossed calls are not a dead CSMS. The CSMS sends Reset; the station sends its TransactionEvent Ended before it
// answers; the CSMS holds that event until its Reset is answered (some CSMSs do). Both peers' own timeouts resolve
// this: the controller must neither drop the CSMS connection (which answers the station locally and replays the event
// — a duplicate at the CSMS) nor lose the station's late answer to the Reset.
import { afterEach, describe, expect, it } from 'vitest';
import { connectStation, NOW, startCsms, startRelay, until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ended = { eventType: 'Ended', timestamp: NOW, triggerReason: 'ResetCommand', seqNo: 7, transactionInfo: { transactionId: 'T1', stoppedReason: 'ImmediateReset' } };

describe('crossed calls', () => {
  it('a CSMS that holds the station\'s TransactionEvent until its Reset is answered: nothing duplicated, nothing lost', async () => {
    const csms = await startCsms();
    let resetAnswer: Promise<Record<string, unknown>> | undefined;
    csms.setup = (peer) => {
      peer.handle('TransactionEvent', async () => {
        // Held until the station has answered this CSMS's own call.
        await resetAnswer?.catch(() => undefined);
        return {};
      });
    };
    // Reply timeout 2 s; the station takes 3.5 s to answer the Reset (it ends the transaction first).
    const r = await startRelay(csms.url, { upstream: { callTimeoutS: 2 } });
    cleanups.push(() => r.stop());
    const st = await connectStation(r.port, 'CP01');
    cleanups.push(() => st.ws.terminate());
    let txAnswer: Promise<Record<string, unknown>> | undefined;
    st.peer.handle('Reset', async () => {
      txAnswer = st.peer.call('TransactionEvent', ended, { timeoutMs: 30_000 });
      await new Promise((res) => setTimeout(res, 3500));
      return { status: 'Accepted' };
    });
    const peer = await csms.connected('CP01');
    resetAnswer = peer.call('Reset', { type: 'Immediate' }, { timeoutMs: 30_000 });

    expect(await resetAnswer).toEqual({ status: 'Accepted' });
    await until(() => txAnswer !== undefined);
    expect(await txAnswer).toEqual({});
    await new Promise((res) => setTimeout(res, 300));
    const events = (csms.received.get('CP01') ?? []).filter((t) => t.includes('"TransactionEvent"'));
    expect(events).toHaveLength(1);
    // One connection all along: the controller never took the crossing for a dead CSMS.
    expect(csms.requests).toHaveLength(1);
    expect(r.relay.upstreamConnected('CP01')).toBe(true);
    expect(r.relay.queueLengths()).toEqual({});
    expect(r.relay.metrics().localAnswers).toBe(0);
  }, 20_000);
});
