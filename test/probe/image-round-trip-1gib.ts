/**
 * Issue 17's acceptance: a 1 GiB image round-trips through the image API with identical bytes
 * and SHA-512, one storage node stopped during the upload and another during the download
 * (in-process cluster: as one object, then as 200 MiB segments). Not a `*.test.ts`: too slow
 * for every `npm test`; `npm run conformance` runs it. Prints the MB/s it saw (noisy: a test
 * cluster in one process, not a benchmark).
 */
import { imageRoundTrip } from '../helpers/image-round-trip.ts';

// As configured by default: 1 GiB is one object (under large_object_size, 5 GiB); then as
// 200 MiB segments, as a chunked upload or an image over 5 GiB is stored.
for (const [kind, largeObjectSize] of [
  ['one object', undefined],
  ['segments', 1],
] as const) {
  const { upMBs, downMBs } = await imageRoundTrip(1024 * 1_048_576, { segmentSize: 200 * 1_048_576, ...(largeObjectSize !== undefined ? { largeObjectSize } : {}) });
  console.log(`1 GiB image round trip (${kind}) with nodes stopped: ok (upload ${upMBs.toFixed(1)} MB/s, download ${downMBs.toFixed(1)} MB/s)`);
}
console.log('2 passed, 0 failed');
