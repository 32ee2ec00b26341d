// GET /api/live: the page's live updates as Server-Sent Events, bound to the session that opened them.
import type { FastifyInstance } from 'fastify';
import { map, share, throttleTime } from 'rxjs';
import { SESSION_COOKIE } from './auth.js';
import type { DataRouteOptions } from './routes-data.js';

/**
 * Live updates: Server-Sent Events, one `state` event per change (throttled), so the page never polls. A stream lives
 * only as long as its session (logout or a deleted/expired session ends it) and holds at most one frame for a client
 * that does not read: while the socket is congested newer snapshots replace the unsent one, and a client that reads
 * nothing for liveStallMs is dropped.
 */
export function registerLiveStream(app: FastifyInstance, o: DataRouteOptions): void {
  const streams = new Map<() => void, string>();
  o.onStop(() => { for (const end of [...streams.keys()]) end(); });
  o.onSessionEnd((token) => { for (const [end, t] of [...streams]) if (t === token) end(); });
  const stallMs = o.liveStallMs ?? 30_000;
  // One snapshot per change for all open streams, serialised once.
  const frames$ = o.view.changed$.pipe(
    throttleTime(o.liveThrottleMs, o.scheduler, { leading: true, trailing: true }),
    map(() => `event: state\ndata: ${JSON.stringify(o.view.snapshot())}\n\n`),
    share(),
  );
  app.get('/api/live', async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE] ?? '';
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let ended = false;
    let waiting: string | undefined;
    let congestedSince: number | undefined;
    const write = (frame: string) => {
      if (ended || res.writableEnded) return;
      if (congestedSince !== undefined) {
        // The client has not taken the last frame yet: keep only the newest, and give up on a client that stalls.
        waiting = frame;
        if (Date.now() - congestedSince > stallMs) end();
        return;
      }
      if (!res.write(frame)) congestedSince = Date.now();
    };
    res.on('drain', () => {
      congestedSince = undefined;
      const next = waiting;
      waiting = undefined;
      if (next) write(next);
    });
    const send = (frame: string) => {
      if (!o.sessionValid(token)) end();
      else write(frame);
    };
    res.write('retry: 2000\n\n');
    send(`event: state\ndata: ${JSON.stringify(o.view.snapshot())}\n\n`);
    const sub = frames$.subscribe(send);
    // A comment now and then keeps proxies and the browser from timing out an idle stream (socket-level timer).
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), 15_000);
    // A session deleted or expired behind the page's back (no logout) ends the stream too, and a stalled client is
    // noticed even when nothing changes.
    const check = setInterval(() => {
      if (!o.sessionValid(token)) end();
      else if (congestedSince !== undefined && Date.now() - congestedSince > stallMs) end();
    }, Math.min(o.liveSessionCheckMs ?? 5000, stallMs));
    function end(): void {
      if (ended) return;
      ended = true;
      sub.unsubscribe();
      clearInterval(keepAlive);
      clearInterval(check);
      streams.delete(end);
      o.liveClients.set(streams.size);
      // A client that does not read would never take a graceful end: cut it.
      if (congestedSince !== undefined) res.destroy();
      else if (!res.writableEnded) res.end();
    }
    streams.set(end, token);
    o.liveClients.set(streams.size);
    req.raw.on('close', end);
    res.on('error', end);
  });
}
