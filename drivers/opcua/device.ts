// An OPC UA device: one session with one subscription, a monitored item per configured node. Values arrive by
// subscription (no polling); the subscription's keep-alives prove unchanged values are still current, so the
// device re-publishes them every pollMs while alive and goes stale when keep-alives stop. node-opcua reconnects
// by itself with backoff and restores the session and subscription. Its certificate store lives under the data
// folder (<dataDir>/opcua-pki), never in $HOME.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { format } from 'node:util';
import type { ClientSession, ClientSubscription, DataValue, OPCUAClient, UserIdentityInfo } from 'node-opcua';
import { timer, type SchedulerLike, type Subscription } from 'rxjs';
import { ReadingEmitter } from '../freshness.js';
import type { DriverLogger } from '../log.js';
import { SCALAR_FIELDS, VECTOR_FIELDS } from '../modbus/map.js';
import { errorText } from '../modbus/client.js';
import type { CapabilityName, MeasuredValues, PhaseVector } from '../types.js';

export interface OpcUaDeviceSettings {
  id: string;
  endpoint: string;
  securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  securityPolicy?: string;
  username?: string;
  password?: string;
  nodes: Record<string, string | string[]>;
  samplingMs: number;
  publishingMs: number;
  pollMs: number;
  staleMs: number;
  timeoutMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  dataDir: string;
}

/** One monitored node: which value (and phase) it feeds. */
interface Slot {
  field: CapabilityName;
  phase?: 0 | 1 | 2;
  /** The node holds all three phases as an array. */
  array?: boolean;
  nodeId: string;
  value?: number | PhaseVector;
  problem?: string;
}

export class OpcUaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpcUaConfigError';
  }
}

const VECTORS = new Set<string>(VECTOR_FIELDS);
const SCALARS = new Set<string>(SCALAR_FIELDS);

export function planSlots(nodes: Record<string, string | string[]>): Slot[] {
  const slots: Slot[] = [];
  for (const [field, ids] of Object.entries(nodes)) {
    if (VECTORS.has(field)) {
      if (typeof ids === 'string') slots.push({ field: field as CapabilityName, array: true, nodeId: ids });
      else if (Array.isArray(ids) && ids.length === 3) {
        ids.forEach((nodeId, i) => slots.push({ field: field as CapabilityName, phase: i as 0 | 1 | 2, nodeId }));
      } else throw new OpcUaConfigError(`nodes.${field} must be one node id (array value) or three (L1, L2, L3)`);
    } else if (SCALARS.has(field)) {
      if (typeof ids !== 'string') throw new OpcUaConfigError(`nodes.${field} must be one node id`);
      slots.push({ field: field as CapabilityName, nodeId: ids });
    } else {
      throw new OpcUaConfigError(`nodes.${field} is not a known value (one of ${[...VECTORS, ...SCALARS].join(', ')})`);
    }
  }
  return slots;
}

export class OpcUaDevice {
  readonly emitter: ReadingEmitter;
  private readonly slots: Slot[];
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private subscription: ClientSubscription | undefined;
  private readonly ticker: Subscription;
  private closed = false;
  private started: Promise<void>;

  constructor(
    private readonly s: OpcUaDeviceSettings,
    scheduler: SchedulerLike,
    private readonly log: DriverLogger,
  ) {
    this.slots = planSlots(s.nodes);
    securityPolicyOf(s.securityPolicy, s.securityMode); // fail at creation, not later in the background
    this.emitter = new ReadingEmitter(s.id, scheduler, s.staleMs, log);
    this.ticker = timer(s.pollMs, s.pollMs, scheduler).subscribe(() => this.tick());
    this.started = this.start().catch((err: unknown) => {
      if (!this.closed) this.emitter.failed(`OPC UA: ${errorText(err)}`);
    });
  }

  get capabilities(): CapabilityName[] {
    return [...new Set(this.slots.map((x) => x.field))];
  }

  private async start(): Promise<void> {
    const s = this.s;
    // Loaded on first use: node-opcua is large, and a site with only Modbus meters should not pay for it at start.
    const {
      AttributeIds, ClientMonitoredItem, ClientSubscription, MessageSecurityMode, OPCUACertificateManager, OPCUAClient,
      SecurityPolicy, TimestampsToReturn, UserTokenType, setWarningLogger, setErrorLogger,
    } = await import('node-opcua');
    if (this.closed) return;
    // node-opcua prints its warnings on stdout, which would break the JSON log lines: route them into our log.
    setWarningLogger((...args: unknown[]) => this.log.debug({ opcua: format(...args) }, 'node-opcua warning'));
    setErrorLogger((...args: unknown[]) => this.log.warn({ opcua: format(...args) }, 'node-opcua error'));
    const rootFolder = join(s.dataDir, 'opcua-pki');
    mkdirSync(rootFolder, { recursive: true });
    const certificateManager = new OPCUACertificateManager({ rootFolder, automaticallyAcceptUnknownCertificate: true });
    // Keep-alives come every publishingMs * maxKeepAliveCount when nothing changes: keep that well inside staleMs.
    const keepAlive = keepAliveCountFor(s.staleMs, s.publishingMs);
    const client = OPCUAClient.create({
      applicationName: 'site-controller',
      endpointMustExist: false,
      securityMode: MessageSecurityMode[s.securityMode],
      securityPolicy: SecurityPolicy[securityPolicyOf(s.securityPolicy, s.securityMode)],
      clientCertificateManager: certificateManager,
      connectionStrategy: { maxRetry: -1, initialDelay: s.backoffMinMs, maxDelay: s.backoffMaxMs, randomisationFactor: 0.1 },
      // node-opcua's transportTimeout is the socket's idle timeout, not a request timeout: a socket quiet for that
      // long is torn down as broken. An alive subscription on unchanged values is quiet for a whole keep-alive
      // period by design, so the timeout must outlast it (it was max(timeoutMs, 1000) once, and the demo's battery
      // with 3 s keep-alives reconnected every few seconds). Silence within staleMs is the readings' business.
      transportTimeout: transportTimeoutFor(s, keepAlive),
      requestedSessionTimeout: Math.max(60000, s.staleMs * 4),
    });
    this.client = client;
    client.on('connection_lost', () => {
      this.log.warn({ device: s.id }, 'OPC UA connection lost; reconnecting');
      this.forgetValues();
      if (!this.closed) this.emitter.failed('OPC UA connection lost');
    });
    client.on('connection_reestablished', () => this.log.info({ device: s.id }, 'OPC UA connection re-established'));
    client.on('backoff', (retry: number, delay: number) => this.log.debug({ device: s.id, retry, delay }, 'OPC UA connect retry'));

    await client.connect(s.endpoint);
    if (this.closed) return;
    const identity: UserIdentityInfo =
      s.username !== undefined
        ? { type: UserTokenType.UserName, userName: s.username, password: s.password ?? '' }
        : { type: UserTokenType.Anonymous };
    const session = await client.createSession(identity);
    this.session = session;
    if (this.closed) return;
    const sub = ClientSubscription.create(session, {
      requestedPublishingInterval: s.publishingMs,
      requestedMaxKeepAliveCount: keepAlive,
      requestedLifetimeCount: keepAlive * 10,
      maxNotificationsPerPublish: 100,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscription = sub;
    sub.once('started', () => {
      // The server may revise the interval or the count upwards; then silence on the wire can outlast staleMs or
      // the socket's idle timeout, and the readings (or the connection) would flap. Say so rather than guess.
      const silenceMs = sub.publishingInterval * sub.maxKeepAliveCount;
      if (silenceMs * 2 > transportTimeoutFor(s, keepAlive) || silenceMs > s.staleMs) {
        this.log.warn(
          { device: s.id, publishingMs: sub.publishingInterval, keepAliveCount: sub.maxKeepAliveCount, staleMs: s.staleMs },
          'OPC UA server revised the subscription: its keep-alive period is too long for staleMs; raise staleMs',
        );
      }
    });
    sub.on('keepalive', () => this.emitter.heard());
    sub.on('internal_error', (err: Error) => this.log.warn({ device: s.id, err: err.message }, 'OPC UA subscription error'));
    for (const slot of this.slots) {
      const item = ClientMonitoredItem.create(
        sub,
        { nodeId: slot.nodeId, attributeId: AttributeIds.Value },
        { samplingInterval: s.samplingMs, discardOldest: true, queueSize: 1 },
        TimestampsToReturn.Both,
      );
      item.on('changed', (dv: DataValue) => this.onValue(slot, dv));
      item.on('err', (msg: string) => {
        slot.problem = `node ${slot.nodeId}: ${msg}`;
        slot.value = undefined;
        this.publish(true);
      });
    }
    this.log.info({ device: s.id, endpoint: s.endpoint, nodes: this.slots.length }, 'OPC UA subscribed');
  }

  private onValue(slot: Slot, dv: DataValue): void {
    if (this.closed) return;
    const status = dv.statusCode;
    if (!status.isGood()) {
      slot.value = undefined;
      slot.problem = `node ${slot.nodeId}: ${status.name}`;
    } else {
      const v: unknown = dv.value?.value;
      const num = (x: unknown): number | undefined =>
        typeof x === 'number' && Number.isFinite(x) ? x : typeof x === 'bigint' ? Number(x) : undefined;
      if (slot.array) {
        const arr = v !== null && typeof v === 'object' && 'length' in v ? Array.from(v as ArrayLike<unknown>, num) : [];
        if (arr.length >= 3 && arr.slice(0, 3).every((x) => x !== undefined)) {
          slot.value = arr.slice(0, 3) as PhaseVector;
          slot.problem = undefined;
        } else {
          slot.value = undefined;
          slot.problem = `node ${slot.nodeId}: expected an array of 3 numbers`;
        }
      } else {
        const n = num(v);
        slot.value = n;
        slot.problem = n === undefined ? `node ${slot.nodeId}: ${Number.isNaN(v) ? 'NaN' : 'not a number'}` : undefined;
      }
    }
    this.publish(true);
  }

  /** Assembles the current values; `fresh` = just heard from the server. */
  private publish(fresh: boolean): void {
    const values: MeasuredValues = {};
    const problems: string[] = [];
    const vectors = new Map<string, Array<number | undefined>>();
    for (const slot of this.slots) {
      if (slot.problem) problems.push(`${slot.field}: ${slot.problem}`);
      if (slot.value === undefined) {
        if (!slot.problem) problems.push(`${slot.field}: no value yet`);
        continue;
      }
      if (slot.array) (values as Record<string, unknown>)[slot.field] = slot.value;
      else if (slot.phase !== undefined) {
        const vec = vectors.get(slot.field) ?? [undefined, undefined, undefined];
        vec[slot.phase] = slot.value as number;
        vectors.set(slot.field, vec);
      } else (values as Record<string, unknown>)[slot.field] = slot.value;
    }
    for (const [field, vec] of vectors) {
      if (vec.every((x) => x !== undefined)) (values as Record<string, unknown>)[field] = vec as PhaseVector;
    }
    // Waiting for the first values of a freshly created subscription is not a fault worth a bad reading.
    if (problems.length > 0 && problems.every((p) => p.endsWith('no value yet'))) return;
    if (fresh) this.emitter.answered(values, problems);
    else this.emitter.republish(values, problems);
  }

  /**
   * After an outage the cached values are history: drop them so the reading after reconnection is built only from
   * values the server sent since, never a mix of new and old.
   */
  private forgetValues(): void {
    for (const slot of this.slots) {
      slot.value = undefined;
      slot.problem = undefined;
    }
  }

  private tick(): void {
    if (this.closed) return;
    if (this.emitter.isStale()) {
      this.forgetValues();
      this.emitter.checkStale(this.session ? 'no notification or keep-alive from the OPC UA server' : 'OPC UA server not reachable');
      return;
    }
    if (this.session) this.publish(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ticker.unsubscribe();
    const client = this.client;
    try {
      if (this.subscription) await this.subscription.terminate().catch(() => undefined);
      if (this.session) await this.session.close().catch(() => undefined);
    } finally {
      if (client) await client.disconnect().catch(() => undefined);
      // A connect still retrying against an absent server may not settle at once; do not hang a shutdown on it.
      await Promise.race([this.started.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      this.emitter.complete();
    }
  }
}

/** Keep-alive count so that an idle subscription still proves itself about three times per stale time. */
export function keepAliveCountFor(staleMs: number, publishingMs: number): number {
  return Math.max(1, Math.min(10, Math.floor(staleMs / 3 / publishingMs)));
}

/**
 * The socket's idle timeout: at least two keep-alive periods (one late keep-alive is not a broken connection) and
 * at least staleMs, so a half-open connection is dropped and re-made about when its readings have gone stale anyway.
 */
export function transportTimeoutFor(s: Pick<OpcUaDeviceSettings, 'timeoutMs' | 'staleMs' | 'publishingMs'>, keepAlive: number): number {
  return Math.max(s.timeoutMs, s.staleMs, 2 * s.publishingMs * keepAlive, 1000);
}

const POLICIES = [
  'None', 'Basic128Rsa15', 'Basic256', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss',
] as const;
type PolicyName = (typeof POLICIES)[number];

/** The security policy's short name (accepts the full URI too), checked without loading node-opcua. */
export function securityPolicyOf(policy: string | undefined, mode: string): PolicyName {
  if (!policy) return mode === 'None' ? 'None' : 'Basic256Sha256';
  const key = policy.replace(/^.*#/, '');
  const found = POLICIES.find((p) => p === key);
  if (!found) throw new OpcUaConfigError(`securityPolicy "${policy}" is not one of ${POLICIES.join(', ')}`);
  return found;
}
