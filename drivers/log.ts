// The smallest logger the drivers need. pino's Logger satisfies it, so the lead can pass the app logger; tests pass
// nothing and get silence. Kept here so drivers/ never imports src/.
export interface DriverLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

const noop = (): void => undefined;
export const silentDriverLogger: DriverLogger = { debug: noop, info: noop, warn: noop, error: noop };
