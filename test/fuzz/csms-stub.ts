// A raw test CSMS for the fuzz and fault tests: answers every CALL with a CALLRESULT (Heartbeat with currentTime,
// anything else with {}), records every frame it received per station, and can be told to stall or to send frames.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface CsmsStub {
  url: string;
  port: number;
  /** Text frames received, per station id. */
  received: Map<string, string[]>;
  sockets: Map<string, WebSocket>;
  /** When true, CALLs are recorded but never answered. */
  stalled: boolean;
  /** Actions the CSMS never answers (while answering everything else). */
  ignore: Set<string>;
  /** Overrides the answer to a CALL (return undefined for the default). */
  answer?: (action: string, payload: Record<string, unknown>) => Record<string, unknown> | undefined;
  connected(id: string, timeoutMs?: number): Promise<WebSocket>;
  close(): Promise<void>;
}

export async function startCsmsStub(port = 0): Promise<CsmsStub> {
  const server = new WebSocketServer({
    host: '127.0.0.1', port, perMessageDeflate: true, maxPayload: 16 * 1024 * 1024,
    handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : false),
  });
  await new Promise<void>((r, j) => { server.once('listening', () => r()); server.once('error', j); });
  const bound = (server.address() as AddressInfo).port;
  const stub: CsmsStub = {
    url: `ws://127.0.0.1:${bound}/csms`,
    port: bound,
    received: new Map(),
    sockets: new Map(),
    stalled: false,
    ignore: new Set(),
    async connected(id, timeoutMs = 10_000) {
      const start = Date.now();
      for (;;) {
        const s = stub.sockets.get(id);
        if (s && s.readyState === WebSocket.OPEN) return s;
        if (Date.now() - start > timeoutMs) throw new Error(`${id} did not reach the CSMS`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on('connection', (ws, req) => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    stub.sockets.set(id, ws);
    ws.on('message', (d) => {
      const t = d.toString();
      const list = stub.received.get(id) ?? [];
      list.push(t);
      stub.received.set(id, list);
      if (stub.stalled) return;
      let f: unknown;
      try { f = JSON.parse(t); } catch { return; }
      if (!Array.isArray(f) || f[0] !== 2 || stub.ignore.has(String(f[2]))) return;
      const custom = stub.answer?.(String(f[2]), f[3] as Record<string, unknown>);
      const payload = custom ?? (f[2] === 'Heartbeat' ? { currentTime: new Date(0).toISOString() }
        : f[2] === 'BootNotification' ? { currentTime: new Date(0).toISOString(), interval: 300, status: 'Accepted' } : {});
      ws.send(JSON.stringify([3, f[1], payload]));
    });
  });
  return stub;
}
