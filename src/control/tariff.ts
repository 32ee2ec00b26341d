// control.tariff (daily "HH:MM" price windows in a time zone) → the optimizer's absolute TariffWindow list for the
// next 48 hours. Pure given `now`; the time zone arithmetic uses Intl, so daylight-saving changes are honoured.
import type { TariffWindow } from '../../algorithms/types.js';
import type { TariffWindowConfig } from '../config/types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** True when `timeZone` is an IANA zone this Node knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local wall-clock fields of instant `t` in `timeZone`. */
function wallClock(t: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year, mo: parts.month, d: parts.day, h: parts.hour % 24, mi: parts.minute };
}

/** Offset of `timeZone` from UTC at instant `t` (ms, local − UTC). */
function offsetMs(t: number, timeZone: string): number {
  const w = wallClock(t, timeZone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi) - Math.floor(t / 60_000) * 60_000;
}

/** The instant at which the local clock in `timeZone` shows day (y, mo, d) at `minutes` after midnight. */
function localInstant(y: number, mo: number, d: number, minutes: number, timeZone: string): number {
  const naive = Date.UTC(y, mo - 1, d) + minutes * 60_000;
  let t = naive - offsetMs(naive, timeZone);
  t = naive - offsetMs(t, timeZone);
  return t;
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/**
 * Absolute windows overlapping [now, now + 48 h), sorted by start. A window whose `to` is not after its `from` runs
 * past midnight. An unknown time zone counts as UTC (the loop logs it once).
 */
export function tariffWindows(now: number, windows: TariffWindowConfig[] | undefined, timeZone = 'UTC', horizonMs = 2 * DAY_MS): TariffWindow[] {
  if (!windows || windows.length === 0) return [];
  const zone = isValidTimeZone(timeZone) ? timeZone : 'UTC';
  const out: TariffWindow[] = [];
  const today = wallClock(now, zone);
  // From yesterday (a window past midnight may still run) to the day after the horizon.
  for (let k = -1; k <= Math.ceil(horizonMs / DAY_MS) + 1; k++) {
    const day = new Date(Date.UTC(today.y, today.mo - 1, today.d + k));
    const [y, mo, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    for (const w of windows) {
      if (!Number.isFinite(w.price)) continue;
      const fromMin = minutesOf(w.from);
      let toMin = minutesOf(w.to);
      if (toMin <= fromMin) toMin += 24 * 60;
      const from = localInstant(y, mo, d, fromMin, zone);
      const to = localInstant(y, mo, d, toMin, zone);
      if (to > now && from < now + horizonMs) out.push({ from, to, price: w.price });
    }
  }
  return out.sort((a, b) => a.from - b.from || a.price - b.price);
}
