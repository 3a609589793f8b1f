import { randomBytes } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compressorFor } from '../../../../../compute/volume/backup/compression.ts';
import { adler32, segmentedDeflate, segmentRuns } from '../../../../../compute/volume/backup/segmented-deflate.ts';

const KiB = 1024;

/** Zeros, text and random bytes in runs that do not line up with the 64 KiB segments. */
function mixed(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0, i = 0; at < size; at += 40 * KiB, i++) {
    const end = Math.min(size, at + 40 * KiB);
    if (i % 3 === 1) out.write(`text ${i} `.repeat(8 * KiB).slice(0, end - at), at, 'latin1');
    if (i % 3 === 2) randomBytes(end - at).copy(out, at);
  }
  return out;
}

test('any inflate opens it, at every size around the segment and stored-block limits', () => {
  for (const size of [1, 100, 65_535, 65_536, 65_537, 131_072, 1_000_000]) {
    for (const data of [Buffer.alloc(size), randomBytes(size), mixed(size)]) {
      assert.ok(inflateSync(segmentedDeflate(data, 1)).equals(data), `size ${size}`);
    }
  }
});

test("its Adler-32 is zlib's, zeros included", () => {
  const data = mixed(700 * KiB);
  const z = segmentedDeflate(data, 1);
  const trailer = Buffer.from(z.subarray(z.length - 4)).readUInt32BE(0);
  assert.is(trailer, deflateSync(data).readUInt32BE(deflateSync(data).length - 4));
  assert.is(adler32(1, data), trailer);
});

test("adler32 (four bytes a step) is zlib's at every memory alignment and length, continued from any value, on all-0xff bytes too", () => {
  const zlibAdler = (bytes: Uint8Array): number => {
    const z = deflateSync(bytes, { level: 0 });
    return z.readUInt32BE(z.length - 4);
  };
  const random = randomBytes(20_000);
  const ones = Buffer.alloc(20_000, 0xff); // the largest sums between reductions
  for (const source of [random, ones]) {
    for (const offset of [0, 1, 2, 3, 5]) {
      for (const length of [0, 1, 3, 4, 7, 2047, 2048, 2049, 8195, 19_990]) {
        const bytes = source.subarray(offset, offset + length);
        assert.is(adler32(1, bytes), zlibAdler(bytes), `offset ${offset} length ${length}`);
        // Continued: the Adler-32 of the two halves in turn is the whole's.
        const half = length >>> 1;
        assert.is(adler32(adler32(1, bytes.subarray(0, half)), bytes.subarray(half)), zlibAdler(bytes));
      }
    }
  }
  const shared = new Uint8Array(new SharedArrayBuffer(10_000));
  shared.set(random.subarray(0, 10_000));
  assert.is(adler32(1, shared.subarray(3)), zlibAdler(random.subarray(3, 10_000)), 'shared memory');
});

test('random bytes cost their size plus a few bytes per 64 KiB; zeros and text shrink', () => {
  const random = randomBytes(512 * KiB);
  assert.ok(segmentedDeflate(random, 1).length <= random.length + Math.ceil(random.length / 65_535) * 5 + 11);
  assert.ok(segmentedDeflate(Buffer.alloc(512 * KiB), 1).length < 4 * KiB);
  const data = mixed(1200 * KiB);
  assert.ok(segmentedDeflate(data, 1).length < data.length * 0.4);
});

test('it is written into the given memory when it fits, and into new memory when not', () => {
  const data = mixed(300 * KiB);
  const into = new Uint8Array(300 * KiB);
  const z = segmentedDeflate(data, 1, into);
  assert.is(z.buffer, into.buffer);
  assert.ok(inflateSync(z).equals(data));
  const random = randomBytes(300 * KiB);
  const big = segmentedDeflate(random, 1, new Uint8Array(300 * KiB));
  assert.ok(big.length > 300 * KiB && inflateSync(big).equals(random));
});

test('random bytes all through are not compressed at all (they would only grow); one segment of text among them is', () => {
  const zlib = compressorFor('zlib');
  const random = randomBytes(320 * KiB);
  assert.equal(
    segmentRuns(random).map((r) => r.kind),
    ['random'],
  );
  assert.is(zlib?.compress(random), undefined);
  const withText = Buffer.concat([random, Buffer.from('text '.repeat(20 * KiB), 'latin1')]);
  assert.equal(
    segmentRuns(withText).map((r) => [r.kind, r.start]),
    [
      ['random', 0],
      ['other', 320 * KiB],
    ],
  );
  const z = zlib?.compress(withText);
  assert.ok(z !== undefined && z.length < withText.length && inflateSync(z).equals(withText));
});

test.run();
