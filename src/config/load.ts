// Loads one YAML config file, fills defaults, and names every problem by its key path (e.g. "stations.list[2].id").
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { FileProblemsError, readYamlFile } from '../common/yaml-file.js';
import { configSchema } from './schema.js';
import type { Config } from './types.js';
import { STATION_ID_PATTERN } from '../common/ids.js';

export class ConfigError extends FileProblemsError {
  override name = 'ConfigError';
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(configSchema);

/** "/stations/list/2/id" -> "stations.list[2].id" */
export function keyPath(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out ? `.${key}` : key;
  }
  return out || '(top level)';
}

function describe(e: ErrorObject): string {
  const at = keyPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return `${at === '(top level)' ? '' : `${at}.`}${String(e.params.missingProperty)}: is required`;
    case 'additionalProperties':
      return `${at === '(top level)' ? '' : `${at}.`}${String(e.params.additionalProperty)}: unknown key`;
    case 'enum':
      return `${at}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      if (e.params.pattern === STATION_ID_PATTERN) return `${at}: a station identity is 1–48 of A-Z a-z 0-9 * - _ = + | @ . (no spaces, ':', '/', or other characters)`;
      return `${at}: ${e.message ?? 'is invalid'}`;
    default:
      return `${at}: ${e.message ?? 'is invalid'}`;
  }
}

/** Rules that span keys: references, duplicates, what a driver needs. */
function crossCheck(c: Config): string[] {
  const problems: string[] = [];
  const circuits = new Set(c.site.circuits.map((x) => x.id));
  const dup = (ids: string[], path: string) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) problems.push(`${path}[${i}].id: duplicate id "${id}"`);
      seen.add(id);
    });
  };
  dup(c.site.circuits.map((x) => x.id), 'site.circuits');
  dup(c.stations.list.map((x) => x.id), 'stations.list');
  dup(c.meters.map((x) => x.id), 'meters');
  c.site.circuits.forEach((x, i) => {
    if (x.parent !== undefined && !circuits.has(x.parent)) problems.push(`site.circuits[${i}].parent: no circuit "${x.parent}"`);
    if (x.parent === x.id) problems.push(`site.circuits[${i}].parent: a circuit cannot feed itself`);
  });
  // A parent chain must end at the grid connection (no cycles).
  const parentOf = new Map(c.site.circuits.map((x) => [x.id, x.parent]));
  c.site.circuits.forEach((x, i) => {
    const seen = new Set<string>();
    for (let p: string | undefined = x.id; p !== undefined; p = parentOf.get(p)) {
      if (seen.has(p)) {
        problems.push(`site.circuits[${i}].parent: circuits form a cycle through "${p}"`);
        break;
      }
      seen.add(p);
    }
  });
  c.stations.list.forEach((s, i) => {
    if (s.circuit !== undefined && !circuits.has(s.circuit)) problems.push(`stations.list[${i}].circuit: no circuit "${s.circuit}" in site.circuits`);
    if (s.minA > s.maxA) problems.push(`stations.list[${i}].minA: greater than maxA (${s.maxA})`);
    if (c.stations.auth === 'basic' && !s.passwordHash) problems.push(`stations.list[${i}].passwordHash: required when stations.auth is basic`);
  });
  if (c.stations.auth === 'basic' && c.stations.allowUnknown) problems.push('stations.allowUnknown: cannot be true when stations.auth is basic (unknown stations have no password)');
  if (c.upstream.credentials === 'configured') {
    c.stations.list.forEach((s, i) => {
      if (!s.upstreamPassword && !s.upstreamPasswordEnv) problems.push(`stations.list[${i}].upstreamPassword: required when upstream.credentials is configured`);
    });
  }
  if (c.controller.protocol === 'ocpp1.6') {
    // 1.6 BootNotification: chargePointVendor and chargePointModel are CiString20Type.
    if (c.controller.vendor.length > 20) problems.push('controller.vendor: at most 20 characters when controller.protocol is ocpp1.6');
    if (c.controller.model.length > 20) problems.push('controller.model: at most 20 characters when controller.protocol is ocpp1.6');
  }
  if (c.control.battery?.reserveForEvs) {
    // The controller sets the discharge limit through SunSpec model 124: a battery read otherwise cannot be told.
    const b = c.meters.filter((m) => m.role === 'battery');
    if (b.length !== 1) problems.push(`control.battery.reserveForEvs: needs exactly one meter with role battery (found ${b.length})`);
    else if (b[0].driver === 'opcua' || b[0].map !== 'sunspec') problems.push(`control.battery.reserveForEvs: meter ${b[0].id} must be a Modbus SunSpec device (map: sunspec) to take a discharge limit`);
  }
  if ((c.upstream.clientCert === undefined) !== (c.upstream.clientKey === undefined)) problems.push('upstream.clientKey: clientCert and clientKey go together');
  c.meters.forEach((m, i) => {
    const need = (key: keyof typeof m) => {
      if (m[key] === undefined) problems.push(`meters[${i}].${String(key)}: required for driver ${m.driver}`);
    };
    if (m.driver === 'modbus-tcp') (['host', 'port', 'map'] as const).forEach(need);
    if (m.driver === 'modbus-rtu') (['serialPort', 'map'] as const).forEach(need);
    if (m.driver === 'opcua') (['endpoint', 'nodes'] as const).forEach(need);
    if (m.role === 'sub') {
      if (m.circuit === undefined) problems.push(`meters[${i}].circuit: required for role sub`);
      else if (!circuits.has(m.circuit)) problems.push(`meters[${i}].circuit: no circuit "${m.circuit}" in site.circuits`);
    }
    if (m.staleMs < m.pollMs) problems.push(`meters[${i}].staleMs: must be at least pollMs (${m.pollMs})`);
  });
  if (c.meters.filter((m) => m.role === 'grid').length > 1) problems.push('meters: at most one meter with role grid');
  c.web.users.forEach((u, i) => {
    if (!u.passwordHash && !u.passwordEnv) problems.push(`web.users[${i}]: needs passwordHash or passwordEnv`);
  });
  dup(c.web.users.map((u) => u.username), 'web.users');
  for (let p = 0; p < 3; p++) {
    if (c.control.safeLimitA[p] > c.site.limitA[p]) problems.push(`control.safeLimitA[${p}]: above site.limitA[${p}] (${c.site.limitA[p]})`);
  }
  return problems;
}

/** Validates a parsed object; returns the config with defaults, or throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, baseDir = process.cwd(), file?: string): Config {
  const data = structuredClone(raw ?? {});
  if (!validate(data)) {
    const problems = [...new Set((validate.errors ?? []).map(describe))];
    throw new ConfigError(problems, file);
  }
  const config = data as unknown as Config;
  // A rotation the file sets wins over the one a station reports (1.6 ConnectorPhaseRotation); the default does not.
  const rawList = (raw as { stations?: { list?: unknown } } | undefined)?.stations?.list;
  config.stations.list.forEach((s, i) => {
    const r = Array.isArray(rawList) ? (rawList[i] as { rotation?: unknown } | undefined) : undefined;
    if (r?.rotation !== undefined) s.rotationSet = true;
  });
  const problems = crossCheck(config);
  if (problems.length) throw new ConfigError(problems, file);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.storage.path = abs(config.storage.path);
  config.storage.dataDir = abs(config.storage.dataDir ?? dirname(config.storage.path));
  if (config.stations.tls) {
    config.stations.tls.cert = abs(config.stations.tls.cert);
    config.stations.tls.key = abs(config.stations.tls.key);
    if (config.stations.tls.ca) config.stations.tls.ca = abs(config.stations.tls.ca);
  }
  for (const k of ['ca', 'clientCert', 'clientKey'] as const) {
    const v = config.upstream[k];
    if (v) config.upstream[k] = abs(v);
  }
  if (config.sim?.scenario) config.sim.scenario = abs(config.sim.scenario);
  return config;
}

/** Reads and validates a YAML file. Syntax errors are reported with line and column. */
export function loadConfig(file: string): Config {
  const read = readYamlFile(file);
  if (!read.ok) throw new ConfigError(read.problems, file);
  return parseConfig(read.data, dirname(resolve(file)), file);
}
