import { endianness } from 'node:os';
import { constants, deflateRawSync } from 'node:zlib';
import { isAllZero } from '../all-zero.ts';

/**
 * `data` as one zlib stream (RFC 1950) that any inflate reads (Python's `zlib.decompress`,
 * Cinder's, as well as ours), made so that bytes that do not compress cost a copy instead of a
 * deflate: zlib spends as long failing to compress random bytes (encrypted or already
 * compressed data) as all the other work of a backup together, and then stores them anyway.
 *
 * Each 64 KiB segment is classed: all zeros; high entropy (the byte histogram of every 16th
 * byte says 7.5 bits a byte or more: random, compressed, encrypted); or other. Runs of a class
 * are written as: the deflate of 64 KiB of zeros, made once, repeated; stored blocks (RFC 1951
 * 3.2.4, a copy); one deflate of the run at `level`. Every piece ends byte-aligned with an
 * empty stored block (zlib's `Z_SYNC_FLUSH`) and none is final, so they join into one deflate
 * stream, closed by an empty final stored block and the Adler-32 of `data`. Written into
 * `into` when given and big enough, else into new memory. `runs`: the classes, when the caller
 * has them already (`segmentRuns`).
 */
export function segmentedDeflate(data: Uint8Array, level: number, into?: Uint8Array, runs: readonly SegmentRun[] = segmentRuns(data)): Uint8Array {
  const parts: Uint8Array[] = [ZLIB_HEADER];
  let adler = 1;
  for (const { start, end, kind } of runs) {
    const run = data.subarray(start, end);
    if (kind === 'zeros') {
      adler = adler32Zeros(adler, run.length);
      for (let at = 0; at < run.length; at += SEGMENT) parts.push(zerosDeflated(Math.min(SEGMENT, run.length - at), level));
      continue;
    }
    adler = adler32(adler, run);
    if (kind === 'random') pushStored(parts, run);
    else parts.push(deflateRawSync(run, { level, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: OUT_CHUNK }));
  }
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(adler);
  parts.push(FINAL_EMPTY_STORED, trailer);
  // Into the caller's memory when it fits (reused: fresh memory costs more to touch than this).
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  if (!into || total > into.length) return Buffer.concat(parts, total);
  let at = 0;
  for (const part of parts) {
    into.set(part, at);
    at += part.length;
  }
  return into.subarray(0, total);
}

/** A run of 64 KiB segments of one class: `[start, end)` of the data. */
export interface SegmentRun {
  readonly start: number;
  readonly end: number;
  readonly kind: SegmentClass;
}

/**
 * `data`'s segments classed (see `segmentedDeflate`), as runs of one class. When every run is
 * `random` the stream would be only stored blocks, a few bytes longer than `data`: a caller
 * that keeps what does not shrink as it is can skip it.
 */
export function segmentRuns(data: Uint8Array): SegmentRun[] {
  const runs: SegmentRun[] = [];
  let runStart = 0;
  let runClass: SegmentClass | undefined;
  for (let at = 0; at < data.length; at += SEGMENT) {
    const kind = classify(data.subarray(at, at + SEGMENT));
    if (kind === runClass) continue;
    if (runClass !== undefined) runs.push({ start: runStart, end: at, kind: runClass });
    runStart = at;
    runClass = kind;
  }
  if (runClass !== undefined) runs.push({ start: runStart, end: data.length, kind: runClass });
  return runs;
}

export type SegmentClass = 'zeros' | 'random' | 'other';

const SEGMENT = 64 * 1024;
const SAMPLE_STRIDE = 16;
/** Bits a byte from which a segment is taken not to compress (random bytes sample at ~7.95). */
const RANDOM_BITS = 7.5;
const OUT_CHUNK = 256 * 1024;
/** CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (fastest; no dictionary; check bits). */
const ZLIB_HEADER = Uint8Array.of(0x78, 0x01);
/** BFINAL=1, BTYPE=00, LEN=0, NLEN=0xffff. */
const FINAL_EMPTY_STORED = Uint8Array.of(0x01, 0x00, 0x00, 0xff, 0xff);
const STORED_MAX = 65_535;
const histogram = new Uint32Array(256);

function classify(segment: Uint8Array): SegmentClass {
  if (isAllZero(segment)) return 'zeros';
  histogram.fill(0);
  let n = 0;
  for (let i = 0; i < segment.length; i += SAMPLE_STRIDE, n++) histogram[segment[i] as number] = (histogram[segment[i] as number] as number) + 1;
  let bits = 0;
  for (const count of histogram) if (count > 0) bits -= (count / n) * Math.log2(count / n);
  return bits >= RANDOM_BITS ? 'random' : 'other';
}

/** Stored blocks of `bytes` (not final): a header byte (we are byte-aligned), LEN and NLEN, the bytes. */
function pushStored(parts: Uint8Array[], bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += STORED_MAX) {
    const n = Math.min(STORED_MAX, bytes.length - at);
    parts.push(Uint8Array.of(0x00, n & 0xff, n >>> 8, ~n & 0xff, (~n >>> 8) & 0xff), bytes.subarray(at, at + n));
  }
}

const zeroDeflates = new Map<string, Buffer>();

function zerosDeflated(length: number, level: number): Buffer {
  const key = `${length}/${level}`;
  let out = zeroDeflates.get(key);
  if (!out) {
    out = deflateRawSync(Buffer.alloc(length), { level, finishFlush: constants.Z_SYNC_FLUSH });
    zeroDeflates.set(key, out);
  }
  return out;
}

const ADLER_MOD = 65_521;
/** Bytes summed between reductions: small enough that `b` stays under 2^31 (V8 keeps small integers). */
const ADLER_RUN = 2048;
const LITTLE_ENDIAN = endianness() === 'LE';
const NO_WORDS = new Uint32Array(0);

/**
 * Adler-32 (RFC 1950 8.2) of `bytes`, continuing from `adler`. Four bytes a step, read as one
 * little-endian word (2.6x faster than a byte a step here: ~0.5 CPU-s per GiB, against 1.3-1.6;
 * a full backup sums the two thirds of the bench's volume that are not zeros).
 */
export function adler32(adler: number, bytes: Uint8Array): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  let i = 0;
  const n = bytes.length;
  // Bytes up to a word boundary of the memory, one at a time.
  while (i < n && (bytes.byteOffset + i) % 4 !== 0) {
    a += bytes[i++] as number;
    b += a;
  }
  const count = LITTLE_ENDIAN && (bytes.byteOffset + i) % 4 === 0 ? (n - i) >>> 2 : 0;
  const words = count > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + i, count) : NO_WORDS;
  for (let w = 0; w < count; ) {
    const end = Math.min(count, w + ADLER_RUN / 4);
    for (; w < end; w++) {
      const x = words[w] as number;
      const b0 = x & 0xff;
      const b1 = (x >>> 8) & 0xff;
      const b2 = (x >>> 16) & 0xff;
      const b3 = x >>> 24;
      // Four steps of `a += byte; b += a` at once.
      b += 4 * a + 4 * b0 + 3 * b1 + 2 * b2 + b3;
      a += b0 + b1 + b2 + b3;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  i += count * 4;
  for (; i < n; ) {
    const end = Math.min(n, i + ADLER_RUN);
    for (; i < end; i++) {
      a += bytes[i] as number;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/** Adler-32 continued over `length` zero bytes: `a` stays, `b` grows by `a` per byte. */
function adler32Zeros(adler: number, length: number): number {
  const a = adler & 0xffff;
  const b = ((adler >>> 16) + (length % ADLER_MOD) * a) % ADLER_MOD;
  return ((b << 16) | a) >>> 0;
}
