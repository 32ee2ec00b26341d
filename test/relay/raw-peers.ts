// Raw-socket peers for byte-for-byte relay tests in either OCPP version: a CSMS and stations that send exactly the
// text they are given and record exactly the text they receive (no OcppPeer re-encoding, no automatic answers).
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { until } from './helpers.js';

export interface RawCsms {
  url: string;
  sockets: Map<string, WebSocket>;
  /** The subprotocol each station's upstream socket agreed. */
  protocols: Map<string, string>;
  /** Every text frame received, per station, in order. */
  received: Map<string, string[]>;
  /** Answers a station's CALL (return the raw reply text, or undefined to stay silent). */
  answer: (stationId: string, frame: unknown[], text: string) => string | undefined;
  connected(id: string, timeoutMs?: number): Promise<WebSocket>;
  send(id: string, text: string): void;
  close(): Promise<void>;
}

export async function startRawCsms(path = '/csms', port = 0): Promise<RawCsms> {
  const server = new WebSocketServer({
    host: '127.0.0.1', port, perMessageDeflate: true,
    handleProtocols: (p) => (p.has('ocpp2.0.1') ? 'ocpp2.0.1' : p.has('ocpp1.6') ? 'ocpp1.6' : false),
  });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const bound = (server.address() as AddressInfo).port;
  const csms: RawCsms = {
    url: `ws://127.0.0.1:${bound}${path}`,
    sockets: new Map(),
    protocols: new Map(),
    received: new Map(),
    answer: () => undefined,
    async connected(id, timeoutMs = 10_000) {
      await until(() => csms.sockets.get(id)?.readyState === WebSocket.OPEN, timeoutMs);
      return csms.sockets.get(id)!;
    },
    send(id, text) {
      csms.sockets.get(id)!.send(text);
    },
    async close() {
      for (const s of server.clients) s.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on('connection', (ws, req) => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    csms.sockets.set(id, ws);
    csms.protocols.set(id, ws.protocol);
    ws.on('message', (d) => {
      const text = d.toString();
      const list = csms.received.get(id) ?? [];
      list.push(text);
      csms.received.set(id, list);
      let frame: unknown[];
      try {
        frame = JSON.parse(text) as unknown[];
      } catch {
        return;
      }
      if (frame[0] !== 2) return;
      const reply = csms.answer(id, frame, text);
      if (reply !== undefined) ws.send(reply);
    });
  });
  return csms;
}

export interface RawStation {
  ws: WebSocket;
  received: string[];
  /** Answers a CSMS or controller CALL (raw reply text, or undefined to stay silent). */
  answer: (frame: unknown[], text: string) => string | undefined;
  send(text: string): void;
  /** Waits until `n` frames have been received in all; returns the n-th. */
  nth(n: number, timeoutMs?: number): Promise<string>;
}

export async function connectRawStation(port: number, id: string, protocols: string[]): Promise<RawStation> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${encodeURIComponent(id)}`, protocols, { perMessageDeflate: true });
  const st: RawStation = {
    ws,
    received: [],
    answer: () => undefined,
    send: (text) => ws.send(text),
    async nth(n, timeoutMs = 10_000) {
      await until(() => st.received.length >= n, timeoutMs);
      return st.received[n - 1];
    },
  };
  ws.on('message', (d) => {
    const text = d.toString();
    st.received.push(text);
    let frame: unknown[];
    try {
      frame = JSON.parse(text) as unknown[];
    } catch {
      return;
    }
    if (frame[0] !== 2) return;
    const reply = st.answer(frame, text);
    if (reply !== undefined) ws.send(reply);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return st;
}

/** Sends a CALL from the station and resolves with the reply frame carrying the same id. */
export async function stationCall(st: RawStation, id: string, action: string, payload: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown[]> {
  const from = st.received.length;
  st.send(JSON.stringify([2, id, action, payload]));
  let reply: unknown[] | undefined;
  await until(() => {
    for (let i = from; i < st.received.length; i++) {
      const f = JSON.parse(st.received[i]) as unknown[];
      if (f[1] === id && f[0] !== 2) reply = f;
    }
    return reply !== undefined;
  }, timeoutMs);
  return reply!;
}

/** The CALL frames a CSMS received from a station, parsed. */
export function callsAt(csms: RawCsms, id: string): [number, string, string, Record<string, unknown>][] {
  return (csms.received.get(id) ?? []).map((t) => JSON.parse(t) as [number, string, string, Record<string, unknown>]).filter((f) => f[0] === 2);
}
