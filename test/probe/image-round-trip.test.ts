import { test } from 'uvu';
import { imageRoundTrip } from '../helpers/image-round-trip.ts';

/**
 * Issue 17's round trip, small enough for every run (40 MiB, as one object and in 4 MiB
 * segments); the 1 GiB run is `node test/probe/image-round-trip-1gib.ts`, run by `npm run conformance`.
 */
test('an image (one object) uploaded with one storage node stopped and downloaded with another stopped comes back with the same bytes and SHA-512', async () => {
  await imageRoundTrip(40 * 1_048_576, { segmentSize: 4 * 1_048_576 });
});

test('an image (segments) uploaded with one storage node stopped and downloaded with another stopped comes back with the same bytes and SHA-512', async () => {
  await imageRoundTrip(40 * 1_048_576, { segmentSize: 4 * 1_048_576, largeObjectSize: 4 * 1_048_576 });
});

test.run();
