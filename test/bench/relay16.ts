// `npm run bench -- relay16 [--json] [stations=1000] [perStation=20] [seconds=20] [journal=0]`: the relay benchmark
// (relay.ts) with OCPP 1.6J stations sending MeterValues; same keys, plus "protocol": "ocpp1.6".
import { run as relay } from './relay.js';
import type { Bench } from './run.js';

export const run: Bench = (opts) => relay({ ...opts, args: [...opts.args.filter((a) => !a.startsWith('protocol=')), 'protocol=ocpp1.6'] });
