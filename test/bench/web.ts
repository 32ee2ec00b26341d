// npm run bench -- web: page API and live-update latency (see docs/web.md).
export { run } from '../web/measure.js';
