// The station stage's public surface: the neutral model (types), the adapter contract, and createStations.
export * from './model.js';
export type { ProtocolAdapter } from './adapter.js';
export { createStations, adapterFor, type StationsInputs } from './stations.js';
