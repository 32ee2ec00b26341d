// The controller's own device model (B05 SetVariables, B06 GetVariables, B07 GetBaseReport data): definitions from
// device-model-data.ts, values set by the CSMS persisted in SQLite, live values (e.g. Entries[ChargingProfiles])
// provided by the code that owns them, and a change stream the owners subscribe to.
import { Subject, type Observable } from 'rxjs';
import { OcppCallError } from '../ocpp/errors.js';
import type { DeviceModelStore } from '../store/device-model.js';
import { variableKey, type VariableDefinition } from './device-model-data.js';
import { checkValue } from './device-model-values.js';

export interface ComponentRef {
  name: string;
  instance?: string;
  evse?: { id: number; connectorId?: number };
}
export interface VariableRef {
  name: string;
  instance?: string;
}
export type AttributeType = 'Actual' | 'Target' | 'MinSet' | 'MaxSet';
export interface StatusInfo {
  reasonCode: string;
  additionalInfo?: string;
}

export interface GetVariableData {
  attributeType?: AttributeType;
  component: ComponentRef;
  variable: VariableRef;
}
export interface GetVariableResult {
  attributeStatus: 'Accepted' | 'Rejected' | 'UnknownComponent' | 'UnknownVariable' | 'NotSupportedAttributeType';
  attributeStatusInfo?: StatusInfo;
  attributeType?: AttributeType;
  attributeValue?: string;
  component: ComponentRef;
  variable: VariableRef;
}
export interface SetVariableData {
  attributeType?: AttributeType;
  attributeValue: string;
  component: ComponentRef;
  variable: VariableRef;
}
export interface SetVariableResult {
  attributeType?: AttributeType;
  attributeStatus: 'Accepted' | 'Rejected' | 'UnknownComponent' | 'UnknownVariable' | 'NotSupportedAttributeType' | 'RebootRequired';
  attributeStatusInfo?: StatusInfo;
  component: ComponentRef;
  variable: VariableRef;
}

export type ReportBase = 'ConfigurationInventory' | 'FullInventory' | 'SummaryInventory';
export interface ReportData {
  component: { name: string };
  variable: VariableRef;
  variableAttribute: Array<{ type: 'Actual'; value?: string; mutability: VariableDefinition['mutability']; persistent: boolean; constant: boolean }>;
  variableCharacteristics?: {
    unit?: string;
    dataType: VariableDefinition['dataType'];
    minLimit?: number;
    maxLimit?: number;
    valuesList?: string;
    supportsMonitoring: boolean;
  };
}

export interface VariableChange {
  key: string;
  value: string;
}

/** The variable keys the controller's code reads (so a typo is a compile error, not a silent default). */
export const VAR = {
  heartbeatInterval: variableKey('OCPPCommCtrlr', 'HeartbeatInterval'),
  retryWaitMinimum: variableKey('OCPPCommCtrlr', 'RetryBackOffWaitMinimum'),
  retryRandomRange: variableKey('OCPPCommCtrlr', 'RetryBackOffRandomRange'),
  retryRepeatTimes: variableKey('OCPPCommCtrlr', 'RetryBackOffRepeatTimes'),
  messageTimeout: variableKey('OCPPCommCtrlr', 'MessageTimeout', 'Default'),
  webSocketPingInterval: variableKey('OCPPCommCtrlr', 'WebSocketPingInterval'),
  basicAuthPassword: variableKey('SecurityCtrlr', 'BasicAuthPassword'),
  smartChargingAvailable: variableKey('SmartChargingCtrlr', 'Available'),
  smartChargingEnabled: variableKey('SmartChargingCtrlr', 'Enabled'),
  rateUnit: variableKey('SmartChargingCtrlr', 'RateUnit'),
  limitChangeSignificance: variableKey('SmartChargingCtrlr', 'LimitChangeSignificance'),
  notifyWithSchedules: variableKey('SmartChargingCtrlr', 'NotifyChargingLimitWithSchedules'),
  periodsPerSchedule: variableKey('SmartChargingCtrlr', 'PeriodsPerSchedule'),
  profileStackLevel: variableKey('SmartChargingCtrlr', 'ProfileStackLevel'),
  profileEntries: variableKey('SmartChargingCtrlr', 'Entries', 'ChargingProfiles'),
  itemsGetReport: variableKey('DeviceDataCtrlr', 'ItemsPerMessage', 'GetReport'),
  itemsGetVariables: variableKey('DeviceDataCtrlr', 'ItemsPerMessage', 'GetVariables'),
  itemsSetVariables: variableKey('DeviceDataCtrlr', 'ItemsPerMessage', 'SetVariables'),
  bytesGetReport: variableKey('DeviceDataCtrlr', 'BytesPerMessage', 'GetReport'),
  bytesGetVariables: variableKey('DeviceDataCtrlr', 'BytesPerMessage', 'GetVariables'),
  bytesSetVariables: variableKey('DeviceDataCtrlr', 'BytesPerMessage', 'SetVariables'),
  configurationValueSize: variableKey('DeviceDataCtrlr', 'ConfigurationValueSize'),
  reportingValueSize: variableKey('DeviceDataCtrlr', 'ReportingValueSize'),
} as const;

function echoComponent(c: ComponentRef): ComponentRef {
  return { name: c.name, ...(c.instance !== undefined ? { instance: c.instance } : {}), ...(c.evse ? { evse: c.evse } : {}) };
}
function echoVariable(v: VariableRef): VariableRef {
  return { name: v.name, ...(v.instance !== undefined ? { instance: v.instance } : {}) };
}

export class DeviceModel {
  private readonly defs = new Map<string, VariableDefinition>();
  private readonly components = new Set<string>();
  private readonly values: Map<string, string>;
  private readonly live = new Map<string, () => string>();
  private readonly changes = new Subject<VariableChange>();
  /** Every value change, whether set by the CSMS or by the controller. */
  readonly changes$: Observable<VariableChange> = this.changes.asObservable();

  constructor(
    private readonly definitions: readonly VariableDefinition[],
    private readonly store: DeviceModelStore,
    private readonly now: () => number,
  ) {
    for (const d of definitions) {
      this.defs.set(variableKey(d.component, d.variable, d.instance), d);
      this.components.add(d.component);
    }
    this.values = store.load();
  }

  definition(key: string): VariableDefinition | undefined {
    return this.defs.get(key);
  }

  /** The Actual value: live provider, else stored, else default ('' when the variable has none). */
  get(key: string): string | undefined {
    const def = this.defs.get(key);
    if (!def) return undefined;
    const provider = this.live.get(key);
    if (provider) return provider();
    return this.values.get(key) ?? def.defaultValue ?? (def.mutability === 'WriteOnly' ? undefined : '');
  }

  getNumber(key: string, fallback: number): number {
    const v = this.get(key);
    const n = v === undefined || v === '' ? NaN : Number(v);
    return Number.isFinite(n) ? n : fallback;
  }

  getBoolean(key: string, fallback: boolean): boolean {
    const v = this.get(key);
    return v === 'true' ? true : v === 'false' ? false : fallback;
  }

  /** A read-only value owned by running code (e.g. the number of installed profiles). */
  provide(key: string, provider: () => string): void {
    if (!this.defs.has(key)) throw new Error(`device model has no variable ${key}`);
    this.live.set(key, provider);
  }

  /** Sets a value on the controller's own behalf (no mutability check), persisted. */
  setInternal(key: string, value: string): void {
    if (!this.defs.has(key)) throw new Error(`device model has no variable ${key}`);
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    this.store.save(key, value, this.now());
    this.changes.next({ key, value });
  }

  private lookup(component: ComponentRef, variable: VariableRef): { status: 'UnknownComponent' | 'UnknownVariable' } | { def: VariableDefinition; key: string } {
    // The controller has no EVSEs and its components have no instances.
    if (!this.components.has(component.name) || component.instance !== undefined || component.evse !== undefined) return { status: 'UnknownComponent' };
    const key = variableKey(component.name, variable.name, variable.instance);
    const def = this.defs.get(key);
    return def ? { def, key } : { status: 'UnknownVariable' };
  }

  private limitMessage(items: number, itemsKey: string, payload: unknown, bytesKey: string, what: string): void {
    const maxItems = this.getNumber(itemsKey, 50);
    if (items > maxItems) throw new OcppCallError('OccurrenceConstraintViolation', `${what}: ${items} items, at most ${maxItems} per message (${itemsKey})`);
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    const maxBytes = this.getNumber(bytesKey, 65536);
    if (bytes > maxBytes) throw new OcppCallError('FormatViolation', `${what}: ${bytes} bytes, at most ${maxBytes} per message (${bytesKey})`);
  }

  /** B06: answers a GetVariablesRequest. Throws OcppCallError when the request exceeds the per-message limits. */
  getVariables(request: { getVariableData: GetVariableData[] }): { getVariableResult: GetVariableResult[] } {
    this.limitMessage(request.getVariableData.length, VAR.itemsGetVariables, request, VAR.bytesGetVariables, 'GetVariables');
    const reportingSize = this.getNumber(VAR.reportingValueSize, 2500);
    return {
      getVariableResult: request.getVariableData.map((d): GetVariableResult => {
        const base = { component: echoComponent(d.component), variable: echoVariable(d.variable), ...(d.attributeType ? { attributeType: d.attributeType } : {}) };
        const found = this.lookup(d.component, d.variable);
        if ('status' in found) return { ...base, attributeStatus: found.status };
        if ((d.attributeType ?? 'Actual') !== 'Actual') return { ...base, attributeStatus: 'NotSupportedAttributeType' };
        if (found.def.mutability === 'WriteOnly') return { ...base, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: 'WriteOnly' } };
        return { ...base, attributeStatus: 'Accepted', attributeValue: (this.get(found.key) ?? '').slice(0, reportingSize) };
      }),
    };
  }

  /** B05: answers a SetVariablesRequest, persisting what is accepted. Throws OcppCallError on per-message limits. */
  setVariables(request: { setVariableData: SetVariableData[] }): { setVariableResult: SetVariableResult[] } {
    this.limitMessage(request.setVariableData.length, VAR.itemsSetVariables, request, VAR.bytesSetVariables, 'SetVariables');
    const maxValue = this.getNumber(VAR.configurationValueSize, 1000);
    return {
      setVariableResult: request.setVariableData.map((d): SetVariableResult => {
        const base = { component: echoComponent(d.component), variable: echoVariable(d.variable), ...(d.attributeType ? { attributeType: d.attributeType } : {}) };
        const found = this.lookup(d.component, d.variable);
        if ('status' in found) return { ...base, attributeStatus: found.status };
        if ((d.attributeType ?? 'Actual') !== 'Actual') return { ...base, attributeStatus: 'NotSupportedAttributeType' };
        if (found.def.mutability === 'ReadOnly') return { ...base, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: 'ReadOnly' } };
        if (d.attributeValue.length > maxValue) {
          return { ...base, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: 'TooLargeElement', additionalInfo: `at most ${maxValue} characters` } };
        }
        const check = checkValue(found.def, d.attributeValue);
        if (!check.ok) return { ...base, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: check.reasonCode, additionalInfo: check.info.slice(0, 512) } };
        this.setInternal(found.key, check.value);
        return { ...base, attributeStatus: found.def.rebootRequired ? 'RebootRequired' : 'Accepted' };
      }),
    };
  }

  /** B08: the data of a custom report (GetReport): components/variables asked for, restricted to components for
   * which one of the criteria variables (Active, Available, Enabled, Problem) is true. */
  customReport(request: { componentVariable?: Array<{ component: ComponentRef; variable?: VariableRef }>; componentCriteria?: string[] }): ReportData[] {
    this.limitMessage(request.componentVariable?.length ?? 0, VAR.itemsGetReport, request, VAR.bytesGetReport, 'GetReport');
    let items = this.report('FullInventory');
    const wanted = request.componentVariable;
    if (wanted) {
      items = items.filter((item) =>
        wanted.some(
          (cv) =>
            cv.component.name === item.component.name &&
            cv.component.instance === undefined &&
            cv.component.evse === undefined &&
            (!cv.variable || (cv.variable.name === item.variable.name && cv.variable.instance === item.variable.instance)),
        ),
      );
    }
    const criteria = request.componentCriteria;
    if (criteria) {
      const components = new Set([...this.components].filter((c) => criteria.some((k) => this.get(variableKey(c, k)) === 'true')));
      items = items.filter((item) => components.has(item.component.name));
    }
    return items;
  }

  /** B07: the report data of a base report, in definition order; undefined for an unknown report base. */
  report(base: ReportBase): ReportData[] {
    const reportingSize = this.getNumber(VAR.reportingValueSize, 2500);
    const selected = this.definitions.filter((d) =>
      base === 'FullInventory' ? true : base === 'ConfigurationInventory' ? d.mutability !== 'ReadOnly' : d.summary === true,
    );
    return selected.map((d) => {
      const key = variableKey(d.component, d.variable, d.instance);
      const value = d.mutability === 'WriteOnly' ? undefined : (this.get(key) ?? '').slice(0, reportingSize);
      const item: ReportData = {
        component: { name: d.component },
        variable: echoVariable({ name: d.variable, instance: d.instance }),
        variableAttribute: [{ type: 'Actual', ...(value !== undefined ? { value } : {}), mutability: d.mutability, persistent: true, constant: false }],
      };
      if (base !== 'SummaryInventory') {
        item.variableCharacteristics = {
          ...(d.unit ? { unit: d.unit } : {}),
          dataType: d.dataType,
          ...(d.minLimit !== undefined ? { minLimit: d.minLimit } : {}),
          ...(d.maxLimit !== undefined ? { maxLimit: d.maxLimit } : {}),
          ...(d.valuesList ? { valuesList: d.valuesList } : {}),
          supportsMonitoring: d.supportsMonitoring,
        };
      }
      return item;
    });
  }
}
