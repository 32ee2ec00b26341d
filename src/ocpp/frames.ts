// OCPP-J framing (OCPP 2.0.1 Part 4 §4): CALL [2,id,action,payload], CALLRESULT [3,id,payload],
// CALLERROR [4,id,code,description,details]. Parsing never throws: a frame that cannot be used becomes the
// CALLERROR the receiver should answer with (messageId "-1" when the id cannot be read, §4.2.3).

export type OcppErrorCode =
  | 'FormatViolation'
  | 'GenericError'
  | 'InternalError'
  | 'MessageTypeNotSupported'
  | 'NotImplemented'
  | 'NotSupported'
  | 'OccurrenceConstraintViolation'
  | 'PropertyConstraintViolation'
  | 'ProtocolError'
  | 'RpcFrameworkError'
  | 'SecurityError'
  | 'TypeConstraintViolation'
  // OCPP 1.6J spellings (OCPP-J 1.6 §4.2.3); only ever sent to 1.6 peers.
  | 'FormationViolation'
  | 'OccurenceConstraintViolation';

export const OCPP_ERROR_CODES: readonly OcppErrorCode[] = [
  'FormatViolation', 'GenericError', 'InternalError', 'MessageTypeNotSupported', 'NotImplemented', 'NotSupported',
  'OccurrenceConstraintViolation', 'PropertyConstraintViolation', 'ProtocolError', 'RpcFrameworkError', 'SecurityError',
  'TypeConstraintViolation',
];

export interface CallFrame { type: 2; messageId: string; action: string; payload: Record<string, unknown> }
export interface CallResultFrame { type: 3; messageId: string; payload: Record<string, unknown> }
export interface CallErrorFrame {
  type: 4;
  messageId: string;
  code: OcppErrorCode;
  description: string;
  details: Record<string, unknown>;
}
export type Frame = CallFrame | CallResultFrame | CallErrorFrame;
export type ParseResult = { ok: true; frame: Frame } | { ok: false; error: CallErrorFrame };

/** Message ids are at most 36 characters (Part 4 §4.1.4). */
export const MAX_MESSAGE_ID_LENGTH = 36;
/** CALLERROR descriptions are at most 255 characters (Part 4 §4.2.3). */
export const MAX_ERROR_DESCRIPTION_LENGTH = 255;

export function callError(messageId: string, code: OcppErrorCode, description: string, details: Record<string, unknown> = {}): CallErrorFrame {
  return { type: 4, messageId, code, description: description.slice(0, MAX_ERROR_DESCRIPTION_LENGTH), details };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readableId(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_MESSAGE_ID_LENGTH ? v : undefined;
}

const knownCodes = new Set<string>([...OCPP_ERROR_CODES, 'FormationViolation', 'OccurenceConstraintViolation']);

export function parseFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON at all: the payload is syntactically incorrect and no id can be read.
    return { ok: false, error: callError('-1', 'FormatViolation', 'message is not valid JSON') };
  }
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, error: callError('-1', 'RpcFrameworkError', 'message is not an OCPP-J array [type, id, ...]') };
  }
  const id = readableId(value[1]);
  const type = value[0];
  if (typeof type !== 'number' || !Number.isInteger(type)) {
    return { ok: false, error: callError(id ?? '-1', 'RpcFrameworkError', 'message type is not an integer') };
  }
  if (type !== 2 && type !== 3 && type !== 4) {
    return { ok: false, error: callError(id ?? '-1', 'MessageTypeNotSupported', `message type ${type} is not supported by OCPP 2.0.1`) };
  }
  if (id === undefined) {
    return { ok: false, error: callError('-1', 'RpcFrameworkError', `message id is missing, not a string or longer than ${MAX_MESSAGE_ID_LENGTH} characters`) };
  }
  if (type === 2) {
    if (value.length !== 4) return { ok: false, error: callError(id, 'RpcFrameworkError', `CALL must have 4 elements, got ${value.length}`) };
    if (typeof value[2] !== 'string' || value[2].length === 0) return { ok: false, error: callError(id, 'RpcFrameworkError', 'CALL action is not a string') };
    if (!isPlainObject(value[3])) return { ok: false, error: callError(id, 'FormatViolation', 'CALL payload is not a JSON object') };
    return { ok: true, frame: { type: 2, messageId: id, action: value[2], payload: value[3] } };
  }
  if (type === 3) {
    if (value.length !== 3) return { ok: false, error: callError(id, 'RpcFrameworkError', `CALLRESULT must have 3 elements, got ${value.length}`) };
    if (!isPlainObject(value[2])) return { ok: false, error: callError(id, 'FormatViolation', 'CALLRESULT payload is not a JSON object') };
    return { ok: true, frame: { type: 3, messageId: id, payload: value[2] } };
  }
  // CALLERROR: details may be absent in lenient peers; accept, but the code must be one of §4.3.
  if (value.length !== 5 && value.length !== 4) return { ok: false, error: callError(id, 'RpcFrameworkError', `CALLERROR must have 5 elements, got ${value.length}`) };
  if (typeof value[2] !== 'string') return { ok: false, error: callError(id, 'RpcFrameworkError', 'CALLERROR code is not a string') };
  const code = knownCodes.has(value[2]) ? (value[2] as OcppErrorCode) : 'GenericError';
  const description = typeof value[3] === 'string' ? value[3] : '';
  const details = isPlainObject(value[4]) ? value[4] : {};
  return { ok: true, frame: { type: 4, messageId: id, code, description, details } };
}

export function encodeFrame(frame: Frame): string {
  switch (frame.type) {
    case 2:
      return JSON.stringify([2, frame.messageId, frame.action, frame.payload]);
    case 3:
      return JSON.stringify([3, frame.messageId, frame.payload]);
    case 4:
      return JSON.stringify([4, frame.messageId, frame.code, frame.description.slice(0, MAX_ERROR_DESCRIPTION_LENGTH), frame.details]);
  }
}
