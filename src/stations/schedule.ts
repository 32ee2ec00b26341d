// Charging schedules in the model's terms: when a profile is in force and what limit it puts in force. The
// evaluation is OCPP's (src/ocpp/charging-schedule.ts, the same for every version once an adapter mapped the
// profile); re-exported here so the control loop reads stations through src/stations only.
export { periodAsCurrent, profileAt, type InstalledProfile } from '../ocpp/charging-schedule.js';
