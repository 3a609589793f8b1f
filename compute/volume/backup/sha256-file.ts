import { pythonJsonDumps } from './python-json.ts';

/** Bytes of one SHA-256 digest. */
export const DIGEST_BYTES = 32;

/** A backup's `_sha256file`, as the engine uses it: the block size, and every block's digest, 32 bytes each. */
export interface Sha256File {
  /** `chunk_size`: whatever the file says (the engine checks it is a number and its own). */
  readonly chunkSize: unknown;
  /** Block `i`'s SHA-256 at `[32 i, 32 i + 32)`. */
  readonly digests: Uint8Array;
}

/*
 * Why not JSON.parse and JSON.stringify: the file lists a 64-character hex string per 32 KiB
 * block, 72 bytes a block as Cinder writes it, so past ~227 GiB of volume its text is longer
 * than V8's longest string (2^29 - 24 characters) and neither could read or write it at all;
 * well before that, as JavaScript strings the digests cost ~90 bytes each of collected heap
 * (2.9 GB per TiB, against V8's heap limit) where their bytes are 32. Here the text is written
 * into one buffer and read from one, and the digests stay bytes.
 */

/**
 * The sha256 file's bytes, exactly as Cinder writes it (`json.dumps(sha256file, sort_keys=True,
 * indent=2)`): `fields` (one-line values: strings, numbers, null) with `sha256s`, the digests
 * in lower-case hex, in key order.
 */
export function encodeSha256File(fields: Readonly<Record<string, string | number | null>>, digests: Uint8Array | readonly Uint8Array[]): Uint8Array {
  // Pieces (a backup's, one per chunk) are written in order, never joined: a join would be a
  // second copy of every digest.
  const pieces = digests instanceof Uint8Array ? [digests] : digests;
  let bytes = 0;
  for (const piece of pieces) {
    if (piece.length % DIGEST_BYTES !== 0) throw new RangeError(`digests of ${piece.length} bytes are not whole SHA-256s`);
    bytes += piece.length;
  }
  // The other fields through the general writer with an empty list, split where the list goes:
  // no string value can hold the split (a JSON string holds no raw line break).
  const MARK = '\n  "sha256s": []';
  const [head, tail, more] = pythonJsonDumps({ ...fields, sha256s: [] }).split(MARK);
  if (head === undefined || tail === undefined || more !== undefined) throw new Error('sha256s is not where a one-line field list puts it');
  const count = bytes / DIGEST_BYTES;
  if (count === 0) return Buffer.from(head + MARK + tail, 'latin1');
  const open = '\n  "sha256s": [\n';
  const close = '\n  ]';
  // Each entry: 4 spaces, the quoted 64 hex characters, then ",\n" but for the last one.
  const size = head.length + open.length + count * (4 + 2 + 2 * DIGEST_BYTES) + (count - 1) * 2 + close.length + tail.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0, 'latin1');
  at += out.write(open, at, 'latin1');
  let first = true;
  for (const piece of pieces) {
    for (let d = 0; d < piece.length; d += DIGEST_BYTES) {
      if (!first) {
        out[at++] = 0x2c; // ,
        out[at++] = 0x0a;
      }
      first = false;
      out[at++] = 0x20;
      out[at++] = 0x20;
      out[at++] = 0x20;
      out[at++] = 0x20;
      out[at++] = 0x22; // "
      for (let b = d, end = d + DIGEST_BYTES; b < end; b++) {
        const v = piece[b] as number;
        out[at++] = HEX_DIGITS[v >> 4] as number;
        out[at++] = HEX_DIGITS[v & 15] as number;
      }
      out[at++] = 0x22;
    }
  }
  at += out.write(close, at, 'latin1');
  at += out.write(tail, at, 'latin1');
  return out;
}

/**
 * Reads a sha256 file written by us or by Cinder (any JSON layout and key order: the
 * `sha256s` list is read straight into bytes, every other field by `JSON.parse` of its own
 * text). @throws {SyntaxError} not JSON, not an object, no `sha256s` list of 64-digit hex strings
 */
export function decodeSha256File(bytes: Uint8Array): Sha256File {
  const n = bytes.length;
  let p = 0;
  const fail = (why: string): never => {
    throw new SyntaxError(`${why} at byte ${p}`);
  };
  const space = (): void => {
    while (p < n && WHITESPACE[bytes[p] as number] === 1) p++;
  };
  const expect = (c: number): void => {
    if (bytes[p] !== c) fail(`expected '${String.fromCharCode(c)}'`);
    p++;
  };
  /** Past a string at `p` (its opening quote). */
  const skipString = (): void => {
    p++;
    for (;;) {
      if (p >= n) fail('unterminated string');
      const c = bytes[p] as number;
      if (c === QUOTE) break;
      p += c === BACKSLASH ? 2 : 1;
    }
    p++;
  };
  /** Past any JSON value at `p` (its text is then checked by `JSON.parse`). */
  const skipValue = (): void => {
    const c = bytes[p];
    if (c === QUOTE) {
      skipString();
      return;
    }
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      do {
        const d = bytes[p] as number;
        if (d === QUOTE) {
          skipString();
          continue;
        }
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) depth--;
        p++;
      } while (depth > 0 && p < n);
      if (depth > 0) fail('unterminated value');
      return;
    }
    while (p < n && VALUE_END[bytes[p] as number] !== 1) p++;
  };
  const text = (start: number): unknown => JSON.parse(DECODER.decode(bytes.subarray(start, p)));

  let chunkSize: unknown;
  let digests: Uint8Array | undefined;
  space();
  expect(0x7b);
  space();
  if (bytes[p] === 0x7d) p++;
  else {
    for (;;) {
      space();
      const keyStart = p;
      if (bytes[p] !== QUOTE) fail('expected a key');
      skipString();
      const key = text(keyStart);
      space();
      expect(0x3a);
      space();
      if (key === 'sha256s') digests = readDigests();
      else {
        const start = p;
        skipValue();
        const value = text(start);
        if (key === 'chunk_size') chunkSize = value;
      }
      space();
      if (bytes[p] === 0x2c) {
        p++;
        continue;
      }
      expect(0x7d);
      break;
    }
  }
  space();
  if (p !== n) fail('text after the object');
  if (!digests) throw new SyntaxError('no sha256s list');
  return { chunkSize, digests };

  function readDigests(): Uint8Array {
    expect(0x5b);
    // Each entry takes at least 67 bytes (quotes, digits, a comma or the closing bracket).
    const out = new Uint8Array(Math.ceil((n - p) / 67) * DIGEST_BYTES);
    let count = 0;
    space();
    if (bytes[p] === 0x5d) {
      p++;
      return out.subarray(0, 0);
    }
    for (;;) {
      space();
      expect(QUOTE);
      if (p + 2 * DIGEST_BYTES >= n) fail('a digest cut short');
      const base = count * DIGEST_BYTES;
      for (let b = 0; b < DIGEST_BYTES; b++, p += 2) {
        const hi = HEX_VALUES[bytes[p] as number] as number;
        const lo = HEX_VALUES[bytes[p + 1] as number] as number;
        if ((hi | lo) < 0) fail('not a 64-digit hex SHA-256');
        out[base + b] = (hi << 4) | lo;
      }
      expect(QUOTE);
      count++;
      space();
      if (bytes[p] === 0x2c) {
        p++;
        continue;
      }
      expect(0x5d);
      return out.subarray(0, count * DIGEST_BYTES);
    }
  }
}

/** Whether digest `i` of `a` and digest `j` of `b` are the same (false when either is past its end). */
export function sameDigest(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  const x = i * DIGEST_BYTES;
  const y = j * DIGEST_BYTES;
  if (x + DIGEST_BYTES > a.length || y + DIGEST_BYTES > b.length) return false;
  for (let k = 0; k < DIGEST_BYTES; k++) if (a[x + k] !== b[y + k]) return false;
  return true;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DECODER = new TextDecoder('utf-8', { fatal: true });
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const HEX_VALUES = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX_VALUES['0123456789abcdef'.charCodeAt(d)] = d;
  HEX_VALUES['0123456789ABCDEF'.charCodeAt(d)] = d;
}
const WHITESPACE = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[c] = 1;
/** What ends a number or literal. */
const VALUE_END = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d, 0x2c, 0x7d, 0x5d]) VALUE_END[c] = 1;
