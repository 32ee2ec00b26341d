// Structured logs (pino). JSON lines to stdout for journald or a log shipper; readable lines (pino-pretty) for a person
// at a terminal. `log.format`: `json`, `pretty`, or `auto` (the default): pretty only when stdout is a terminal and the
// command is not the production `run`, so a service's journal and any pipe always get JSON.
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

/** The format `auto` resolves to: pretty for a person at a terminal (not in production), JSON otherwise. */
export function resolveLogFormat(format: LogFormat, o: { isTTY: boolean; production: boolean }): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return o.isTTY && !o.production ? 'pretty' : 'json';
}

export function createLogger(level: string = 'info', destination?: NodeJS.WritableStream, format: 'json' | 'pretty' = 'json'): Logger {
  const options = { level, base: { app: 'site-controller' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') {
    const out = destination ?? process.stdout;
    const stream = PinoPretty({
      destination: out,
      sync: true,
      colorize: (out as { isTTY?: boolean }).isTTY === true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,app,stage,stationId,meter',
      // The stage and the station first, where a reader looks for them.
      messageFormat: (log, messageKey) => {
        const where = [log.stage, log.stationId ?? log.meter].filter((x) => typeof x === 'string').join(' ');
        return `${where ? `[${where}] ` : ''}${String(log[messageKey] ?? '')}`;
      },
      singleLine: true,
    });
    return pino(options, stream);
  }
  return pino(options, destination ?? process.stdout);
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = pino({ level: 'silent' });
