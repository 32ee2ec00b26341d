// Writing a storage inverter's discharge limit (SunSpec model 124, BatteryDischargeRegisters): the limit as a
// percentage of WChaMax in OutWRte, a revert time so that the inverter drops the limit by itself if the controller
// stops renewing it (a dead controller leaves the battery as it would run on its own), then bit 1 of StorCtl_Mod. A
// release clears the bit and puts the rate back to 100 %. A negative limit (OutWRte below 0, an int16) tells it to
// charge at least that much; where it charges from is the inverter's own setting (ChaGriSet), not written here.
import type { BatteryDischargeRegisters } from './map.js';

/** How long the inverter keeps a limit that is not written again (s); renewed every third of it. */
export const DISCHARGE_LIMIT_REVERT_S = 60;

export type ReadHolding = (address: number, count: number) => Promise<number[]>;
export type WriteHolding = (address: number, values: number[]) => Promise<void>;

const int16 = (w: number): number => (w << 16) >> 16;
const DISCHARGE_BIT = 0b10;

/** Writes the limit (W; negative: charge at least that much), or releases it (undefined); returns the percentage
 * written (100 when released). */
export async function writeDischargeLimit(regs: BatteryDischargeRegisters, limitW: number | undefined, read: ReadHolding, write: WriteHolding): Promise<number> {
  const [mode] = await read(regs.mode, 1);
  const [rateSf] = await read(regs.rateScale, 1);
  const scale = 10 ** int16(rateSf);
  let pct = 100;
  if (limitW !== undefined) {
    const [maxRaw] = await read(regs.maxW, 1);
    const [maxSf] = await read(regs.maxWScale, 1);
    const maxW = maxRaw * 10 ** int16(maxSf);
    if (!(maxW > 0) || maxRaw === 0xffff) throw new Error('the battery gives no WChaMax to set a discharge rate against');
    pct = Math.max(-100, Math.min(100, (100 * limitW) / maxW));
  }
  // Rounded toward 0: a limit the controller is unsure of is a lower one (the battery gives a little less, or charges a
  // little less: less load on the fuse).
  const raw = Math.max(-0x8000, Math.min(0x7fff, Math.trunc(pct / scale)));
  await write(regs.rate, [raw & 0xffff]);
  if (regs.revert !== undefined) await write(regs.revert, [limitW === undefined ? 0 : DISCHARGE_LIMIT_REVERT_S]);
  await write(regs.mode, [limitW === undefined ? mode & ~DISCHARGE_BIT & 0xffff : (mode | DISCHARGE_BIT) & 0xffff]);
  return pct;
}
