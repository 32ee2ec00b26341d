// Checking a value against its variable's data type and limits (B05: SetVariables). Pure.
import type { VariableDefinition } from './device-model-data.js';

export type ValueCheck = { ok: true; value: string } | { ok: false; reasonCode: string; info: string };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function list(values: string | undefined): string[] {
  return (values ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function range(def: VariableDefinition, n: number, what: string): ValueCheck | undefined {
  if (def.minLimit !== undefined && n < def.minLimit) return { ok: false, reasonCode: 'ValueTooLow', info: `${what} below the minimum ${def.minLimit}` };
  if (def.maxLimit !== undefined && n > def.maxLimit) return { ok: false, reasonCode: 'ValueTooHigh', info: `${what} above the maximum ${def.maxLimit}` };
  return undefined;
}

/** Validates and normalises a value as the CSMS would set it; the normalised form is what gets stored. */
export function checkValue(def: VariableDefinition, raw: string): ValueCheck {
  const value = raw.trim();
  switch (def.dataType) {
    case 'integer': {
      if (!INTEGER.test(value)) return { ok: false, reasonCode: 'InvalidValue', info: `"${raw}" is not an integer` };
      const n = Number(value);
      if (!Number.isSafeInteger(n)) return { ok: false, reasonCode: 'ValueOutOfRange', info: `"${raw}" is out of range` };
      return range(def, n, String(n)) ?? { ok: true, value: String(n) };
    }
    case 'decimal': {
      if (!DECIMAL.test(value) || !Number.isFinite(Number(value))) return { ok: false, reasonCode: 'InvalidValue', info: `"${raw}" is not a decimal` };
      const n = Number(value);
      return range(def, n, String(n)) ?? { ok: true, value: String(n) };
    }
    case 'boolean': {
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false') return { ok: false, reasonCode: 'InvalidValue', info: `"${raw}" is not true or false` };
      return { ok: true, value: v };
    }
    case 'dateTime': {
      if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return { ok: false, reasonCode: 'InvalidValue', info: `"${raw}" is not an RFC 3339 date-time` };
      return { ok: true, value: new Date(value).toISOString() };
    }
    case 'OptionList': {
      const allowed = list(def.valuesList);
      if (!allowed.includes(value)) return { ok: false, reasonCode: 'InvalidValue', info: `"${raw}" is not one of ${allowed.join(', ')}` };
      return { ok: true, value };
    }
    case 'MemberList':
    case 'SequenceList': {
      const allowed = list(def.valuesList);
      const items = list(value);
      const bad = items.find((i) => !allowed.includes(i));
      if (bad !== undefined) return { ok: false, reasonCode: 'InvalidValue', info: `"${bad}" is not one of ${allowed.join(', ')}` };
      if (new Set(items).size !== items.length) return { ok: false, reasonCode: 'InvalidValue', info: 'a member is listed twice' };
      if (def.dataType === 'SequenceList' && items.length === 0) return { ok: false, reasonCode: 'InvalidValue', info: 'the list is empty' };
      return { ok: true, value: items.join(',') };
    }
    case 'string': {
      // For strings the limits are lengths.
      return range(def, raw.length, `length ${raw.length}`) ?? { ok: true, value: raw };
    }
  }
}
