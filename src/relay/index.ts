export * from './events.js';
export { createRelay, type Relay, type RelayOptions, type RelayMetricsSnapshot } from './relay.js';
export { TRANSACTION_RELATED, answerLocally } from './offline.js';
export { backoffMs } from './upstream.js';
