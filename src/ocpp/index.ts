export * from './frames.js';
export * from './validate.js';
export * from './peer.js';
export * from './messages.js';
