/**
 * Issue 17's acceptance: a 1 GiB image round-trips through the image API with identical bytes
 * and SHA-512, one storage node stopped during the upload and another during the download
 * (in-process cluster, 200 MiB segments as configured by default). Not a `*.test.ts`: too slow
 * for every `npm test`; `npm run conformance` runs it. Prints the MB/s it saw (noisy: a test
 * cluster in one process, not a benchmark).
 */
import { imageRoundTrip } from '../helpers/image-round-trip.ts';

const { upMBs, downMBs } = await imageRoundTrip(1024 * 1_048_576, 200 * 1_048_576);
console.log(`1 GiB image round trip with nodes stopped: ok (upload ${upMBs.toFixed(1)} MB/s, download ${downMBs.toFixed(1)} MB/s)`);
console.log('1 passed, 0 failed');
