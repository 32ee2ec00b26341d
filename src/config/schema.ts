// JSON Schema of the configuration file, with the defaults ajv fills in. Cross-key rules live in load.ts.
import { STATION_ID_PATTERN } from '../common/ids.js';
import { QUIRKS } from '../stations/model.js';

const phaseVector = { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 3, maxItems: 3 } as const;
const rotation = { enum: ['L1L2L3', 'L2L3L1', 'L3L1L2', 'L1L3L2', 'L3L2L1', 'L2L1L3'] } as const;
const mode = { enum: ['fast', 'pv', 'minpv'] } as const;
// The one identity rule (src/common/ids.ts): also for the controller's own identity, which the station port reserves.
const identity = { type: 'string', minLength: 1, maxLength: 48, pattern: STATION_ID_PATTERN } as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['stations', 'upstream', 'site'],
  properties: {
    controller: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        identity,
        protocol: { enum: ['ocpp2.0.1', 'ocpp1.6'], default: 'ocpp2.0.1' },
        vendor: { type: 'string', maxLength: 50, default: 'site-controller' },
        model: { type: 'string', maxLength: 20, default: 'LocalController' },
        firmwareVersion: { type: 'string', maxLength: 50, default: '0.1.0' },
        serialNumber: { type: 'string', maxLength: 25 },
        password: { type: 'string', minLength: 16, maxLength: 40 },
        passwordEnv: { type: 'string', minLength: 1 },
      },
    },
    stations: {
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      properties: {
        listen: {
          type: 'object',
          additionalProperties: false,
          required: ['port'],
          properties: { host: { type: 'string', default: '0.0.0.0' }, port },
        },
        auth: { enum: ['none', 'basic'], default: 'none' },
        reservedIds: { type: 'array', items: identity, default: [] },
        handshakeLimits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            failuresPerAddress: { type: 'integer', minimum: 1, default: 20 },
            failuresPerIdentity: { type: 'integer', minimum: 1, default: 5 },
            windowS: { type: 'number', exclusiveMinimum: 0, default: 900 },
            firstBackoffS: { type: 'number', exclusiveMinimum: 0, default: 1 },
            maxBackoffS: { type: 'number', minimum: 1, default: 600 },
            concurrentChecks: { type: 'integer', minimum: 1, maximum: 64, default: 2 },
            inFlightPerAddress: { type: 'integer', minimum: 1, default: 4 },
          },
        },
        handshakeTimeoutS: { type: 'number', exclusiveMinimum: 0, default: 10 },
        rateLimit: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            framesPerS: { type: 'number', exclusiveMinimum: 0, default: 50 },
            burst: { type: 'integer', minimum: 1, default: 500 },
          },
        },
        goneSessionTimeoutS: { type: 'number', exclusiveMinimum: 0, default: 600 },
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['cert', 'key'],
          properties: {
            cert: { type: 'string' },
            key: { type: 'string' },
            ca: { type: 'string' },
            requireClientCert: { type: 'boolean', default: false },
          },
        },
        allowUnknown: { type: 'boolean', default: false },
        pingIntervalS: { type: 'number', minimum: 0, default: 30 },
        maxFrameBytes: { type: 'integer', minimum: 1024, default: 65536 },
        invalidFromStation: { enum: ['reject', 'forward'], default: 'reject' },
        invalidFromCsms: { enum: ['reject', 'forward'], default: 'forward' },
        list: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id'],
            properties: {
              id: identity,
              circuit: { type: 'string' },
              phases: { enum: [1, 3], default: 3 },
              rotation: { ...rotation, default: 'L1L2L3' },
              maxA: { type: 'number', exclusiveMinimum: 0, default: 32 },
              minA: { type: 'number', minimum: 0, default: 6 },
              passwordHash: { type: 'string', pattern: '^scrypt\\$' },
              upstreamPassword: { type: 'string' },
              upstreamPasswordEnv: { type: 'string' },
              priority: { type: 'integer', default: 0 },
              mode,
              evses: { type: 'integer', minimum: 1, maximum: 32, default: 1 },
              phaseSwitching: { type: 'boolean', default: false },
              protocol: { enum: ['ocpp2.0.1', 'ocpp1.6'] },
              quirks: { type: 'array', uniqueItems: true, items: { enum: [...QUIRKS] } },
            },
          },
        },
      },
    },
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^wss?://' },
        url16: { type: 'string', pattern: '^wss?://' },
        credentials: { enum: ['forward', 'configured'], default: 'forward' },
        ca: { type: 'string' },
        clientCert: { type: 'string' },
        clientKey: { type: 'string' },
        callTimeoutS: { type: 'number', exclusiveMinimum: 0, default: 30 },
        // Frames from the CSMS: certificate chains, local authorization lists and display messages can be megabytes.
        maxFrameBytes: { type: 'integer', minimum: 1024, default: 16777216 },
        retry: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            waitMinimumS: { type: 'number', minimum: 0, default: 3 },
            randomRangeS: { type: 'number', minimum: 0, default: 10 },
            repeatTimes: { type: 'integer', minimum: 0, default: 5 },
          },
        },
        offline: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            unknownTokenPolicy: { enum: ['accept', 'reject'], default: 'reject' },
            heartbeatIntervalS: { type: 'integer', minimum: 1, default: 300 },
            queueLimitPerStation: { type: 'integer', minimum: 1, default: 100000 },
            queueLimitTotal: { type: 'integer', minimum: 1, default: 1000000 },
            // MessageAttemptsTransactionEvent / MessageAttemptIntervalTransactionEvent (E13.FR.02/03) for replayed messages.
            messageAttempts: { type: 'integer', minimum: 1, default: 5 },
            messageAttemptIntervalS: { type: 'number', minimum: 0, default: 10 },
          },
        },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        path: { type: 'string', minLength: 1, default: 'data/site-controller.sqlite' },
        dataDir: { type: 'string', minLength: 1 },
        journal: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            retentionDays: { type: 'number', exclusiveMinimum: 0, default: 30 },
            maxRows: { type: 'integer', minimum: 1000, default: 5000000 },
            maxRowsPerStation: { type: 'integer', minimum: 100, default: 500000 },
          },
        },
      },
    },
    web: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        host: { type: 'string', default: '127.0.0.1' },
        port: { ...port, default: 8080 },
        trustProxy: { type: 'boolean', default: false },
        users: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['username'],
            properties: {
              username: { type: 'string', minLength: 1, maxLength: 64 },
              passwordHash: { type: 'string', pattern: '^scrypt\\$' },
              passwordEnv: { type: 'string', minLength: 1 },
            },
          },
        },
      },
    },
    site: {
      type: 'object',
      additionalProperties: false,
      required: ['limitA'],
      properties: {
        limitA: phaseVector,
        limitW: { type: 'number', exclusiveMinimum: 0 },
        voltage: { type: 'number', exclusiveMinimum: 0, default: 230 },
        circuits: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'limitA'],
            properties: {
              id: { type: 'string', minLength: 1 },
              limitA: phaseVector,
              parent: { type: 'string' },
              limitW: { type: 'number', exclusiveMinimum: 0 },
            },
          },
        },
      },
    },
    meters: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'role', 'driver'],
        properties: {
          id: { type: 'string', minLength: 1 },
          role: { enum: ['grid', 'pv', 'battery', 'sub'] },
          driver: { enum: ['modbus-tcp', 'modbus-rtu', 'opcua'] },
          circuit: { type: 'string' },
          pollMs: { type: 'integer', minimum: 50, default: 1000 },
          staleMs: { type: 'integer', minimum: 100, default: 5000 },
          timeoutMs: { type: 'integer', minimum: 50, default: 1000 },
          host: { type: 'string' },
          port,
          unitId: { type: 'integer', minimum: 0, maximum: 255, default: 1 },
          map: { type: 'string' },
          serialPort: { type: 'string' },
          baudRate: { type: 'integer', default: 9600 },
          parity: { enum: ['none', 'even', 'odd'], default: 'none' },
          dataBits: { enum: [7, 8], default: 8 },
          stopBits: { enum: [1, 2], default: 1 },
          endpoint: { type: 'string', pattern: '^opc\\.tcp://' },
          securityMode: { enum: ['None', 'Sign', 'SignAndEncrypt'], default: 'None' },
          securityPolicy: { type: 'string' },
          username: { type: 'string' },
          password: { type: 'string' },
          passwordEnv: { type: 'string' },
          nodes: {
            type: 'object',
            additionalProperties: {
              anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 }],
            },
          },
          samplingMs: { type: 'integer', minimum: 0 },
          publishingMs: { type: 'integer', minimum: 10 },
        },
      },
    },
    control: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        loopMs: { type: 'integer', minimum: 100, default: 1000 },
        mode: { ...mode, default: 'fast' },
        safeLimitA: { ...phaseVector, default: [6, 6, 6] },
        defaultTxLimitA: { type: 'number', minimum: 0, default: 6 },
        profileValidityS: { type: 'integer', minimum: 10, default: 120 },
        // A station whose clock is off by more than this is named in an alarm (its limits are sent on its clock).
        clockOffsetAlarmS: { type: 'number', exclusiveMinimum: 0, default: 60 },
        rampAPerS: { type: 'number', exclusiveMinimum: 0, default: 2 },
        hysteresisA: { type: 'number', minimum: 0, default: 1 },
        rotationPeriodS: { type: 'integer', minimum: 1, default: 900 },
        // The session planner (docs/control.md): plans sessions to their departures with HiGHS every periodS.
        planner: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { enabled: { type: 'boolean', default: true }, periodS: { type: 'integer', minimum: 10, maximum: 3600, default: 300 } },
        },
        meterStepA: { type: 'number', minimum: 0, default: 2 },
        importCeilingW: { type: 'number', exclusiveMinimum: 0 },
        battery: {
          type: 'object',
          additionalProperties: false,
          properties: { minSocPct: { type: 'number', minimum: 0, maximum: 100, default: 20 }, creditDischarge: { type: 'boolean', default: true }, reserveForEvs: { type: 'boolean', default: false }, refillFromPv: { type: 'boolean', default: true }, capacityWh: { type: 'number', exclusiveMinimum: 0 } },
        },
        exportCreditFraction: { type: 'number', minimum: 0, maximum: 1, default: 1 },
        marginA: { type: 'number', minimum: 0, maximum: 10, default: 0.15 },
        tariff: {
          type: 'array',
          maxItems: 48,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to', 'price'],
            properties: {
              from: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
              to: { type: 'string', pattern: '^([01][0-9]|2[0-4]):[0-5][0-9]$' },
              price: { type: 'number' },
            },
          },
        },
        tariffTimeZone: { type: 'string', minLength: 1, default: 'UTC' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
        // auto: readable lines on a terminal (not for `run`), JSON lines otherwise.
        format: { enum: ['auto', 'json', 'pretty'], default: 'auto' },
      },
    },
    sim: {
      type: 'object',
      additionalProperties: false,
      properties: {
        speed: { type: 'number', exclusiveMinimum: 0, default: 1 },
        seed: { type: 'integer', default: 1 },
        scenario: { type: 'string' },
      },
    },
  },
} as const;
