// /metrics for the stages themselves (relay, control loop, drivers), beside the site metrics of site-metrics.ts.
// Counters are read from each stage's own snapshot at scrape time, so no stage depends on the web.
import type { Observable, Subscription } from 'rxjs';
import type { Reading } from '../../drivers/types.js';
import type { ControlLoop } from '../control/types.js';
import type { Relay } from '../relay/index.js';
import type { MetricsRegistry } from './metrics.js';

export function registerStageMetrics(metrics: MetricsRegistry, relay: Relay, control: ControlLoop, readings$: Observable<Reading>): Subscription {
  const relayGauges = {
    stationsConnected: metrics.gauge('relay_stations_connected', 'Stations connected to the controller'),
    upstreamsConnected: metrics.gauge('relay_upstreams_connected', 'Upstream sockets open toward the CSMS'),
    framesIn: metrics.gauge('relay_frames_in_total', 'Frames received from stations and the CSMS since start'),
    framesOut: metrics.gauge('relay_frames_out_total', 'Frames sent to stations and the CSMS since start'),
    errors: metrics.gauge('relay_errors_total', 'Malformed or invalid frames, refused handshakes, full queues since start'),
    localAnswers: metrics.gauge('relay_local_answers_total', 'Station CALLs answered locally while the CSMS was unreachable'),
    queued: metrics.gauge('relay_queued_total', 'Messages committed to the store-and-forward queue since start'),
    replayed: metrics.gauge('relay_replayed_total', 'Queued messages delivered to the CSMS after reconnecting'),
    refused: metrics.gauge('relay_refused_total', 'Station handshakes refused'),
    forwardFailed: metrics.gauge('relay_forward_failed', 'Queued messages the CSMS refused on every attempt (kept aside, not replayed)'),
    authFailures: metrics.gauge('relay_auth_failures_total', 'Station handshakes with a wrong password, no credentials or an id that is not a station'),
    throttled: metrics.gauge('relay_handshakes_throttled_total', 'Station handshakes refused by the failed-handshake back-off'),
    floodsCut: metrics.gauge('relay_floods_cut_total', 'Stations disconnected for flooding (frames piling up beyond stations.rateLimit)'),
  };
  const journalOk = metrics.gauge('relay_journal_ok', '1 while the OCPP journal is being written; 0 after a write failure (e.g. disk full)');
  const journalLost = metrics.gauge('relay_journal_lost_rows_total', 'Journal rows that could not be written since start');
  const queueLength = metrics.gauge('relay_queue_length', 'Messages waiting for the CSMS per station');
  const solveMs = metrics.gauge('control_solve_milliseconds', 'Duration of the last optimizer solve');
  const allocated = metrics.gauge('control_allocated_amperes', 'Sum of allocated current per phase over charging EVSEs');
  const sessions = metrics.gauge('control_sessions', 'EVSEs with an active transaction');
  const failSafe = metrics.gauge('control_fail_safe', '1 when the node runs on its safe limit (meter stale or bad)');
  const overload = metrics.gauge('control_overload_alarms', 'Nodes over their limit even with every EVSE paused');
  const readingsByQuality = metrics.counter('driver_readings_total', 'Readings per meter and quality');
  const readingAge = metrics.gauge('driver_last_good_reading_timestamp_seconds', 'When the meter last gave a good reading');

  metrics.collect(() => {
    const r = relay.metrics();
    for (const [key, gauge] of Object.entries(relayGauges)) gauge.set(r[key as keyof typeof relayGauges]);
    journalOk.set(r.journalOk ? 1 : 0);
    journalLost.set(r.journalLostRows);
    queueLength.reset();
    for (const [station, n] of Object.entries(relay.queueLengths())) queueLength.set(n, { station });
    const s = control.state();
    solveMs.set(s.lastSolveMs);
    const withTx = s.evses.filter((e) => e.transactionId !== undefined);
    sessions.set(withTx.length);
    allocated.set(withTx.reduce((sum, e) => sum + (e.limitA ?? 0) * (e.phases ?? 3), 0));
    failSafe.reset();
    for (const n of s.nodes) failSafe.set(n.failSafe ? 1 : 0, { node: n.id });
    overload.set(s.alarms.length);
  });
  return readings$.subscribe((reading) => {
    readingsByQuality.inc(1, { meter: reading.deviceId, quality: reading.quality });
    if (reading.quality === 'good') readingAge.set(reading.at / 1000, { meter: reading.deviceId });
  });
}
