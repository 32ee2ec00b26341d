// The site's stations in the neutral model, built from the relay's events and its injected calls: each event goes
// through the adapter of the protocol its station speaks (the event's own `protocol`, absent = 2.0.1), and each
// request leaves through the adapter of the protocol the station last connected with.
import { merge, mergeMap, share, type Observable } from 'rxjs';
import { DEFAULT_PROTOCOL, type OcppProtocol } from '../ocpp/protocol.js';
import type { RelayEvents, StationCaller } from '../relay/events.js';
import type { ProtocolAdapter } from './adapter.js';
import type { StationEvent, StationRequests, Stations } from './model.js';
import { v16 } from './v16/index.js';
import { v201 } from './v201/index.js';

const ADAPTERS: Record<OcppProtocol, ProtocolAdapter> = { 'ocpp2.0.1': v201, 'ocpp1.6': v16 };

export const adapterFor = (protocol: OcppProtocol | undefined): ProtocolAdapter => ADAPTERS[protocol ?? DEFAULT_PROTOCOL];

export interface StationsInputs {
  relay: RelayEvents;
  caller: StationCaller;
}

export function createStations({ relay, caller }: StationsInputs): Stations {
  const protocols = new Map<string, OcppProtocol>();
  const protocolOf = (id: string): OcppProtocol => protocols.get(id) ?? DEFAULT_PROTOCOL;
  const byProtocol = new Map<OcppProtocol, StationRequests>();
  const requestsOf = (id: string): StationRequests => {
    const p = protocolOf(id);
    let r = byProtocol.get(p);
    if (!r) byProtocol.set(p, (r = adapterFor(p).requests(caller)));
    return r;
  };
  const note = (id: string, p: OcppProtocol | undefined) => {
    if (p) protocols.set(id, p);
  };

  const events$: Observable<StationEvent> = merge(
    relay.connections$.pipe(
      mergeMap((c): StationEvent[] => {
        if (c.side !== 'station') return [];
        note(c.stationId, c.protocol);
        const ev: StationEvent = {
          kind: 'connection', stationId: c.stationId, protocol: c.protocol ?? protocolOf(c.stationId), up: c.up, at: c.at,
          ...(c.up && c.accepted !== undefined ? { accepted: c.accepted } : {}),
        };
        // Nothing is kept for a station that is gone (ids that come and go must not grow this map); it says its
        // protocol again when it reconnects.
        if (!c.up) protocols.delete(c.stationId);
        return [ev];
      }),
    ),
    // Published by the relay before the boot's result, so 'registration' comes before 'booted'.
    ...(relay.boots$ ? [relay.boots$.pipe(mergeMap((b): StationEvent[] => [{ kind: 'registration', stationId: b.stationId, accepted: b.status === 'Accepted', at: b.at }]))] : []),
    relay.calls$.pipe(mergeMap((ev) => (note(ev.stationId, ev.protocol), adapterFor(ev.protocol).fromCall(ev)))),
    relay.results$.pipe(mergeMap((ev) => (note(ev.stationId, ev.protocol), adapterFor(ev.protocol).fromResult(ev)))),
  ).pipe(share()); // one parse per frame however many stages read the stations (control loop, session store)

  const requests: StationRequests = {
    readCapabilities: (id, fallback, t) => requestsOf(id).readCapabilities(id, fallback, t),
    setDefaultLimit: (id, limit, t) => requestsOf(id).setDefaultLimit(id, limit, t),
    setSessionLimit: (id, limit, t) => requestsOf(id).setSessionLimit(id, limit, t),
    compositeSchedule: (id, evseId, d, t) => requestsOf(id).compositeSchedule(id, evseId, d, t),
  };

  return { events$, requests, connectedStations: () => caller.connectedStations(), protocolOf, accepted: (id) => relay.accepted?.(id) };
}
