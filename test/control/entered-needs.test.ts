// Needs entered on the page for a session: they count for that transaction only, in place of what the EV said, and
// the energy counts from the session's start.
import { describe, expect, it } from 'vitest';
import { EnteredNeedsBook } from '../../src/control/entered-needs.js';
import type { EvseSession } from '../../src/control/sessions.js';

const at = Date.UTC(2026, 11, 6, 9);
const entry = { stationId: 'CP06', evseId: 1, transactionId: '100', energyWh: 15_000, departureAt: at + 6 * 3_600_000, enteredBy: 'demo', enteredAt: at };
const session = (over: Partial<EvseSession> = {}): EvseSession =>
  ({ stationId: 'CP06', evseId: 1, transactionId: '100', energyAtStartWh: 1_000, energyRegisterWh: 5_000, ...over });

describe('entered needs', () => {
  it("a 1.6 session is planned with what was entered: energy from the session's start, to the departure", () => {
    const book = new EnteredNeedsBook();
    expect(book.set([entry])).toBe(true);
    expect(book.set([{ ...entry }])).toBe(false);
    const s = book.overlay(session());
    expect(s).toMatchObject({ departureAt: entry.departureAt, energyAmountWh: 15_000, energyAtNeedsWh: 1_000 });
    // 4 kWh delivered since the start: 11 kWh to go.
    expect(book.needsOf(session())).toEqual({ source: 'page', departureAt: entry.departureAt, remainingWh: 11_000, energyWh: 15_000, enteredBy: 'demo' });
  });

  it("the next car on the same EVSE does not inherit them; an EV's own needs show as its own", () => {
    const book = new EnteredNeedsBook();
    book.set([entry]);
    const next = session({ transactionId: '101', departureAt: at + 3_600_000, energyAmountWh: 8_000, energyAtNeedsWh: 5_000 });
    expect(book.overlay(next)).toBe(next);
    expect(book.needsOf(next)).toEqual({ source: 'ev', departureAt: at + 3_600_000, remainingWh: 8_000 });
    expect(book.needsOf(session({ transactionId: '101' }))).toBeUndefined();
  });

  it("what was entered takes the place of what the EV said", () => {
    const book = new EnteredNeedsBook();
    book.set([entry]);
    const s = book.overlay(session({ departureAt: at + 3_600_000, energyAmountWh: 40_000, energyAtNeedsWh: 2_000 }));
    expect(s).toMatchObject({ departureAt: entry.departureAt, energyAmountWh: 15_000, energyAtNeedsWh: 1_000 });
  });
});
