// A Modbus device (TCP or RTU) polled on the injected scheduler: connect (with backoff after failures), discover
// SunSpec or load the register map once, then read the map every poll. Modbus exceptions and not-implemented values
// make bad readings; timeouts and lost connections make bad and then stale readings and trigger a reconnect.
import { timer, type SchedulerLike, type Subscription } from 'rxjs';
import type { DriverLogger } from '../log.js';
import { ReadingEmitter } from '../freshness.js';
import type { CapabilityName } from '../types.js';
import { discoverSunSpec, readSunSpecIdentity, sunspecRegisterMap } from '../sunspec/discovery.js';
import { errorText, ModbusConnection, ModbusExceptionError, type ModbusEndpoint } from './client.js';
import { mapCapabilities, type RegisterMap } from './map.js';
import { planReads, readMap, type ReadSpan } from './reader.js';
import { DISCHARGE_LIMIT_REVERT_S, writeDischargeLimit } from './battery-control.js';

export interface ModbusDeviceSettings {
  id: string;
  endpoint: ModbusEndpoint;
  unitId: number;
  /** A loaded register map, or 'sunspec' to discover one. */
  map: RegisterMap | 'sunspec';
  pollMs: number;
  staleMs: number;
  timeoutMs: number;
  /** Extra attempts of a failed read within one poll before giving up on it. */
  retries: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export class ModbusDevice {
  readonly emitter: ReadingEmitter;
  private readonly conn: ModbusConnection;
  private map: RegisterMap | undefined;
  private plan: ReadSpan[] = [];
  private busy = false;
  /** The poll under way, if any: a release on close waits for it (one request at a time on the connection). */
  private inflight: Promise<void> | undefined;
  private closed = false;
  private nextConnectAt = 0;
  private backoffMs: number;
  private readonly ticker: Subscription;
  /** The discharge limit asked for (W; undefined: released) and what was last written, when. `chargeRefused`: the
   * inverter refused a negative limit (to charge) and took 0: it is held at 0 when asked to charge from then on. */
  private discharge?: { wantW: number | undefined; writtenW?: number | null; writtenAt?: number; failures: number; chargeRefused?: boolean };

  constructor(
    readonly settings: ModbusDeviceSettings,
    private readonly scheduler: SchedulerLike,
    private readonly log: DriverLogger,
  ) {
    this.emitter = new ReadingEmitter(settings.id, scheduler, settings.staleMs, log);
    this.conn = new ModbusConnection(settings.endpoint, settings.timeoutMs);
    this.backoffMs = settings.backoffMinMs;
    if (settings.map !== 'sunspec') this.useMap(settings.map);
    this.ticker = timer(0, settings.pollMs, scheduler).subscribe(() => this.tick());
  }

  get capabilities(): CapabilityName[] {
    return this.map ? mapCapabilities(this.map) : [];
  }

  /** The map in use (after SunSpec discovery: the discovered one). */
  get registerMap(): RegisterMap | undefined {
    return this.map;
  }

  /** Whether the device takes a battery discharge limit (known after SunSpec discovery). */
  get controlsBatteryDischarge(): boolean {
    return this.map?.controls?.batteryDischarge !== undefined;
  }

  /** Asks for a discharge limit (W; negative: charge at least that much) or its release (undefined); written with the
   * next poll and renewed before the inverter's revert time runs out. */
  setBatteryDischargeLimit(limitW: number | undefined): void {
    const wantW = limitW === undefined || !Number.isFinite(limitW) ? undefined : limitW;
    // Changed in place: a write in flight records what it wrote on this same object.
    if (this.discharge) this.discharge.wantW = wantW;
    else this.discharge = { wantW, failures: 0 };
  }

  /** Writes the discharge limit when it changed by more than 100 W or between held and released, or is due for renewal. */
  private async applyDischargeLimit(): Promise<void> {
    const regs = this.map?.controls?.batteryDischarge;
    const d = this.discharge;
    if (!regs || !d) return;
    const now = this.scheduler.now();
    // What this write writes: the wish may change while it is in flight (the next poll writes that). An inverter that
    // refused to be told to charge is held at 0 instead.
    const wantW = d.chargeRefused && d.wantW !== undefined && d.wantW < 0 ? 0 : d.wantW;
    const want = wantW ?? null;
    const changed = d.writtenW === undefined || (want === null) !== (d.writtenW === null) || (want !== null && d.writtenW !== null && Math.abs(want - d.writtenW) > 100);
    const due = want !== null && now - (d.writtenAt ?? -Infinity) >= (DISCHARGE_LIMIT_REVERT_S * 1000) / 3;
    if (!changed && !due) return;
    const s = this.settings;
    try {
      const pct = await writeDischargeLimit(regs, wantW, (a, c) => this.conn.read(s.unitId, 'holding', a, c), (a, v) => this.conn.write(s.unitId, a, v));
      // Held ↔ released at info; the limit following the load within a hold, every few seconds, at debug.
      const toggled = d.writtenW === undefined || (want === null) !== (d.writtenW === null);
      if (changed) this.log[toggled ? 'info' : 'debug']({ device: s.id, dischargeLimitW: wantW ?? 'released', ratePct: Math.round(pct * 10) / 10 }, 'battery discharge limit written');
      d.writtenW = want;
      d.writtenAt = now;
      d.failures = 0;
    } catch (err) {
      // The inverter answered (a Modbus exception, not a timeout) and refused the charge command: does it take 0?
      if (wantW !== undefined && wantW < 0 && err instanceof ModbusExceptionError && (await this.refusesCharge(regs))) return;
      if (d.failures++ === 0) this.log.warn({ device: s.id, err: errorText(err) }, 'battery discharge limit not written; trying again with the next poll');
    }
  }

  /** After a refused charge command: whether the inverter takes a limit of 0. If so it takes no negative rate, and is
   * held at 0 from then on whenever it is asked to charge (control.battery.refillFromPv false says the same). */
  private async refusesCharge(regs: NonNullable<NonNullable<RegisterMap['controls']>['batteryDischarge']>): Promise<boolean> {
    const d = this.discharge;
    const s = this.settings;
    if (!d) return false;
    try {
      await writeDischargeLimit(regs, 0, (a, c) => this.conn.read(s.unitId, 'holding', a, c), (a, v) => this.conn.write(s.unitId, a, v));
    } catch {
      return false;
    }
    d.chargeRefused = true;
    d.writtenW = 0;
    d.writtenAt = this.scheduler.now();
    d.failures = 0;
    this.log.warn({ device: s.id }, 'the battery refused to be told to charge (a negative OutWRte); it is held at 0 instead when the controller would refill it from PV (set control.battery.refillFromPv: false)');
    return true;
  }

  private useMap(map: RegisterMap): void {
    this.map = map;
    this.plan = planReads(map);
  }

  private tick(): void {
    if (this.closed) return;
    if (this.busy) {
      // A read still hanging (slow serial line, dead TCP peer): time goes on regardless.
      this.emitter.checkStale('no answer');
      return;
    }
    this.busy = true;
    this.inflight = this.poll()
      .catch((err: unknown) => this.emitter.failed(errorText(err)))
      .finally(() => {
        this.busy = false;
      });
  }

  private async poll(): Promise<void> {
    const s = this.settings;
    if (!this.conn.isOpen) {
      const now = this.scheduler.now();
      if (now < this.nextConnectAt) {
        this.emitter.failed(`disconnected; next connection attempt in ${this.nextConnectAt - now} ms`);
        return;
      }
      try {
        await this.conn.connect();
        this.log.info({ device: s.id, endpoint: this.conn.describe() }, 'modbus connected');
      } catch (err) {
        this.scheduleReconnect();
        this.emitter.failed(errorText(err));
        return;
      }
    }
    if (this.closed) return;

    const read = (table: 'holding' | 'input', address: number, count: number): Promise<number[]> =>
      this.conn.read(s.unitId, table, address, count);
    let lastError: unknown;
    for (let attempt = 0; attempt <= s.retries; attempt++) {
      try {
        if (!this.map) {
          const readHolding = (a: number, c: number) => read('holding', a, c);
          const found = await discoverSunSpec(readHolding);
          this.useMap(sunspecRegisterMap(found));
          const identity = await readSunSpecIdentity(readHolding, found).catch(() => undefined);
          this.log.info({ device: s.id, base: found.base, models: found.models.map((m) => m.id), ...identity }, 'SunSpec device found');
        }
        const result = await readMap(this.map as RegisterMap, read, this.plan);
        if (this.closed) return;
        this.backoffMs = s.backoffMinMs;
        this.emitter.answered(result.values, result.problems);
        await this.applyDischargeLimit();
        return;
      } catch (err) {
        lastError = err;
        // The device answered (an exception during discovery, no SunSpec): retrying now will not change it.
        if (err instanceof ModbusExceptionError || !this.conn.isOpen) break;
        if (err instanceof Error && err.name === 'SunSpecDiscoveryError') break;
      }
    }
    if (this.closed) return;
    const isAnswer = lastError instanceof ModbusExceptionError || (lastError instanceof Error && lastError.name === 'SunSpecDiscoveryError');
    if (isAnswer) {
      this.emitter.answered({}, [errorText(lastError)]);
      return;
    }
    // Timeout or lost link: drop the connection, a late answer must not be taken for the next request's.
    await this.conn.close();
    this.scheduleReconnect();
    this.emitter.failed(errorText(lastError));
  }

  private scheduleReconnect(): void {
    this.nextConnectAt = this.scheduler.now() + this.backoffMs;
    this.backoffMs = Math.min(this.settings.backoffMaxMs, this.backoffMs * 2);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ticker.unsubscribe();
    await this.releaseDischargeLimit();
    await this.conn.close();
    this.emitter.complete();
  }

  /** A controller that stops cleanly gives the battery back at once rather than after the inverter's revert time;
   * best effort (one try, within the request timeout): the revert time is still there if it fails. */
  private async releaseDischargeLimit(): Promise<void> {
    const regs = this.map?.controls?.batteryDischarge;
    const d = this.discharge;
    if (!regs || !d) return;
    // A poll under way may be writing a hold: the release goes after it (and after it records what it wrote), on the
    // same connection.
    await this.inflight;
    if (d.writtenW === undefined || d.writtenW === null || !this.conn.isOpen) return;
    const s = this.settings;
    try {
      await writeDischargeLimit(regs, undefined, (a, c) => this.conn.read(s.unitId, 'holding', a, c), (a, v) => this.conn.write(s.unitId, a, v));
      this.log.info({ device: s.id }, 'battery discharge limit released on stop');
    } catch (err) {
      this.log.warn({ device: s.id, err: errorText(err) }, 'battery discharge limit not released on stop; the inverter drops it after its revert time');
    }
  }
}
