// The controller stage: its own station identity toward the CSMS and the site limit it publishes.
// main.ts wires it with createControllerStation; the control pipeline subscribes to siteLimit$.
import { asyncScheduler, BehaviorSubject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { PhaseVector } from '../../algorithms/types.js';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/types.js';
import type { Db } from '../store/db.js';
import { openDeviceModelStore } from '../store/device-model.js';
import { openProfileStore } from '../store/profiles.js';
import { controllerVariables } from './device-model-data.js';
import { DeviceModel } from './device-model.js';
import { ExternalLimitReporter } from './external-limits.js';
import { ChargingProfiles } from './profiles.js';
import { SiteLimitPublisher, type ExternalLimitSource } from './site-limit-stream.js';
import type { SiteLimit } from './site-limit.js';
import type { IdentityProtocol } from './identity-protocol.js';
import { ocpp16Identity } from './protocol-16.js';
import { ocpp201Identity } from './protocol-201.js';
import { UpstreamStation } from './station.js';

export type { ExternalLimitKind, ExternalLimitSource } from './site-limit-stream.js';
export { DeviceModel } from './device-model.js';
export type { SiteLimit, LimitSource } from './site-limit.js';

export interface ControllerStationDeps {
  config: Config;
  db: Db;
  log: Logger;
  scheduler?: SchedulerLike;
}

export interface ControllerStation {
  /** The effective site limit; replays the latest value to new subscribers. */
  siteLimit$: Observable<SiteLimit>;
  /** K14: sets (or with null withdraws) a local external limit, amperes per phase (one number = all phases). */
  setExternalLimit(source: ExternalLimitSource, limitA: number | PhaseVector | null): void;
  /** True while connected to the CSMS and accepted; always false without controller.identity. */
  connected$: Observable<boolean>;
  start(): void;
  stop(): Promise<void>;
  deviceModel: DeviceModel;
  profiles: ChargingProfiles;
}

function toPhases(limitA: number | PhaseVector): PhaseVector {
  const v: PhaseVector = typeof limitA === 'number' ? [limitA, limitA, limitA] : [limitA[0], limitA[1], limitA[2]];
  if (v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0)) {
    throw new RangeError(`external limit must be a non-negative number of amperes per phase, got ${JSON.stringify(limitA)}`);
  }
  return v;
}

export function createControllerStation(deps: ControllerStationDeps): ControllerStation {
  const { config, db, log } = deps;
  const scheduler = deps.scheduler ?? asyncScheduler;
  const now = () => scheduler.now();
  const deviceModel = new DeviceModel(controllerVariables(config), openDeviceModelStore(db), now);
  const profiles = new ChargingProfiles(openProfileStore(db), deviceModel, now);
  const hasIdentity = config.controller.identity !== undefined;
  const protocol: IdentityProtocol = config.controller.protocol === 'ocpp1.6' ? ocpp16Identity : ocpp201Identity;
  // Without an identity there is no CSMS to take profiles from: the site limit is the fuse and external limits.
  const publisher = new SiteLimitPublisher(config.site, scheduler, hasIdentity ? () => profiles.installed() : undefined);
  const reporter = new ExternalLimitReporter(() => publisher.externalLimits(), deviceModel, now, log);
  const subscriptions: Subscription[] = [profiles.changes$.subscribe(() => publisher.evaluate())];

  let upstream: UpstreamStation | undefined;
  const notConnected = new BehaviorSubject<boolean>(false);
  if (hasIdentity) {
    const station: UpstreamStation = new UpstreamStation({
      config,
      // main.ts already gives this stage its { stage: 'controller' } child: another would print "stage" twice.
      log,
      scheduler,
      deviceModel,
      protocol,
      install: (peer) =>
        protocol.installHandlers(peer, {
          deviceModel,
          profiles,
          site: config.site,
          externalLimits: () => publisher.externalLimits(),
          now,
          log,
          send: (action, payload) => station.callOnCurrent(action, payload),
          triggerBoot: () => void station.boot('Triggered'),
          triggerHeartbeat: () => station.heartbeat(),
        }),
      onRegistered: () => {
        const call = (a: string, p: Record<string, unknown>) => station.call(a, p);
        if (protocol.reportsExternalLimits) void reporter.sync(call);
        protocol.onRegistered?.(call, now()).catch((err: Error) => log.warn({ err: err.message }, 'message after registration failed'));
      },
    });
    upstream = station;
  }

  return {
    siteLimit$: publisher.siteLimit$,
    connected$: upstream ? upstream.connected$ : notConnected.asObservable(),
    deviceModel,
    profiles,
    setExternalLimit(source, limitA) {
      if (!source || typeof source.id !== 'string' || !['EMS', 'Other', 'SO'].includes(source.kind)) {
        throw new RangeError(`external limit source needs an id and kind EMS, Other or SO, got ${JSON.stringify(source)}`);
      }
      publisher.setExternal(source, limitA === null ? null : toPhases(limitA));
      if (upstream && protocol.reportsExternalLimits) {
        const u = upstream;
        void reporter.sync((a, p) => u.call(a, p));
      }
    },
    start() {
      publisher.start();
      upstream?.start();
    },
    async stop() {
      for (const s of subscriptions.splice(0)) s.unsubscribe();
      publisher.stop();
      await upstream?.stop();
    },
  };
}
