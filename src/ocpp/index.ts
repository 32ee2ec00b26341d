export * from './frames.js';
export * from './validate.js';
export * from './peer.js';
export * from './messages.js';
export * from './messages16.js';
export * from './protocol.js';
export * from './errors.js';
