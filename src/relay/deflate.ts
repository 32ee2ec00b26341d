// permessage-deflate (RFC 7692) is required of a Local Controller (Part 4 §3.3). With context takeover every frame,
// however small, goes through zlib, which ws runs on a threadpool with limited concurrency: with 1000 stations that
// queue dominates latency. Negotiating no_context_takeover both ways lets frames under `threshold` go uncompressed
// (most OCPP frames are a few hundred bytes) while large ones (NotifyReport, certificates) are still compressed.
import type { PerMessageDeflateOptions } from 'ws';

export const PER_MESSAGE_DEFLATE: PerMessageDeflateOptions = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  threshold: 1024,
};
