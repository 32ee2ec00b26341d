// The MeterValues parser is protocol-neutral now (../meter-values.ts, used by the 1.6 adapter too); kept here for
// older imports.
export { parseMeterValues, toMeasurement, measurementOf, energyRegisterWh, newestTime, type Sample } from '../meter-values.js';
