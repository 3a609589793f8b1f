import type { PiecedBody } from './object-store.ts';
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
 * (2.9 GB per TiB, against V8's heap limit) where their bytes are 32. And the text is never
 * whole in memory either (1.2 GB at 500 GiB of volume): it is written in pieces as it is sent,
 * and read from the pieces as they arrive. Only the digests are held, as bytes.
 */

/** The pieces a sha256 file is written in (one buffer, refilled). */
export const SHA256_FILE_PIECE_BYTES = 1024 * 1024;

/** One list entry at most: `,\n`, 4 spaces, the quoted 64 hex digits. */
const ENTRY_BYTES = 2 + 4 + 2 + 2 * DIGEST_BYTES;

/**
 * The sha256 file, exactly as Cinder writes it (`json.dumps(sha256file, sort_keys=True,
 * indent=2)`): `fields` (one-line values: strings, numbers, null) with `sha256s`, the digests
 * in lower-case hex, in key order; as a body of pieces of at most `pieceBytes` (lent: one
 * buffer, filled again when the next is asked for), its length known before any is made.
 */
export function sha256FileBody(fields: Readonly<Record<string, string | number | null>>, digests: Uint8Array | readonly Uint8Array[], pieceBytes = SHA256_FILE_PIECE_BYTES): PiecedBody {
  // Pieces (a backup's, one per chunk) are written in order, never joined: a join would be a
  // second copy of every digest.
  const lists = digests instanceof Uint8Array ? [digests] : digests;
  let bytes = 0;
  for (const list of lists) {
    if (list.length % DIGEST_BYTES !== 0) throw new RangeError(`digests of ${list.length} bytes are not whole SHA-256s`);
    bytes += list.length;
  }
  // The other fields through the general writer with an empty list, split where the list goes:
  // no string value can hold the split (a JSON string holds no raw line break).
  const MARK = '\n  "sha256s": []';
  const [head, tail, more] = pythonJsonDumps({ ...fields, sha256s: [] }).split(MARK);
  if (head === undefined || tail === undefined || more !== undefined) throw new Error('sha256s is not where a one-line field list puts it');
  const count = bytes / DIGEST_BYTES;
  // ASCII only (Python's ensure_ascii), so one byte a character.
  const before = Buffer.from(count === 0 ? head + MARK : `${head}\n  "sha256s": [\n`, 'latin1');
  const after = Buffer.from(count === 0 ? tail : `\n  ]${tail}`, 'latin1');
  // Each entry: 4 spaces, the quoted 64 hex characters, then ",\n" but for the last one.
  const length = before.length + count * (ENTRY_BYTES - 2) + Math.max(0, count - 1) * 2 + after.length;
  const size = Math.max(ENTRY_BYTES, Math.min(pieceBytes, length));
  return {
    length,
    *pieces(): Generator<Uint8Array> {
      const out = Buffer.allocUnsafe(size);
      let at = 0;
      function* text(bytes: Uint8Array): Generator<Uint8Array> {
        for (let i = 0; i < bytes.length; ) {
          const n = Math.min(out.length - at, bytes.length - i);
          out.set(bytes.subarray(i, i + n), at);
          at += n;
          i += n;
          if (at === out.length) {
            yield out;
            at = 0;
          }
        }
      }
      yield* text(before);
      let first = true;
      for (const list of lists) {
        for (let d = 0; d < list.length; d += DIGEST_BYTES) {
          if (at + ENTRY_BYTES > out.length) {
            yield out.subarray(0, at);
            at = 0;
          }
          if (!first) {
            out[at++] = 0x2c; // ,
            out[at++] = 0x0a;
          }
          first = false;
          out[at++] = 0x20;
          out[at++] = 0x20;
          out[at++] = 0x20;
          out[at++] = 0x20;
          out[at++] = QUOTE;
          for (let b = d, end = d + DIGEST_BYTES; b < end; b++) {
            const v = list[b] as number;
            out[at++] = HEX_DIGITS[v >> 4] as number;
            out[at++] = HEX_DIGITS[v & 15] as number;
          }
          out[at++] = QUOTE;
        }
      }
      yield* text(after);
      if (at > 0) yield out.subarray(0, at);
    },
  };
}

/** The sha256 file's bytes whole (`sha256FileBody` joined): for small ones, and tests. */
export function encodeSha256File(fields: Readonly<Record<string, string | number | null>>, digests: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const body = sha256FileBody(fields, digests);
  const out = Buffer.allocUnsafe(body.length);
  let at = 0;
  for (const piece of body.pieces()) {
    out.set(piece, at);
    at += piece.length;
  }
  if (at !== out.length) throw new Error(`the sha256 file came to ${at} bytes, not the ${out.length} reckoned`);
  return out;
}

/**
 * Reads a sha256 file written by us or by Cinder (any JSON layout and key order: the
 * `sha256s` list is read straight into bytes, every other field by `JSON.parse` of its own
 * text). @throws {SyntaxError} not JSON, not an object, no `sha256s` list of 64-digit hex strings
 */
export function decodeSha256File(bytes: Uint8Array): Sha256File {
  const decoder = new Sha256FileDecoder(bytes.length);
  decoder.write(bytes);
  return decoder.end();
}

// Where the decoder is in the document: before the object, before its first key, before a key,
// before a key's colon, before a value (not the list), before the list, before its first entry,
// before an entry, after one, after a value, after the object.
const OPEN = 0;
const FIRST_KEY = 1;
const KEY = 2;
const COLON = 3;
const VALUE = 4;
const LIST = 5;
const FIRST_DIGEST = 6;
const DIGEST = 7;
const AFTER_DIGEST = 8;
const AFTER_VALUE = 9;
const TAIL = 10;

/** Bytes of the next piece a token cut short is finished in (doubled while it is longer). */
const STITCH_BYTES = 256;

/**
 * `decodeSha256File` over pieces as they arrive (a GET's body): `write` each, then `end`. Holds
 * the digests read so far and, between pieces, a copy of the one token a piece cut short (a
 * digest: 66 bytes) and nothing of the pieces themselves, which the caller may then release.
 * A token is read only once it is whole, so every piece is read as the whole text would be.
 * @throws {SyntaxError} from `write` or `end`, as `decodeSha256File`
 */
export class Sha256FileDecoder {
  /** The whole text's length when known (a Content-Length): the digests' memory is sized from it. */
  private readonly expectedBytes: number | undefined;
  /** What is being read: `buf[p, n)`, `buf[0]` being byte `base` of the text. */
  private buf: Uint8Array = new Uint8Array(0);
  private p = 0;
  private n = 0;
  private base = 0;
  private ended = false;
  private state = OPEN;
  private key: unknown;
  private chunkSize: unknown;
  private digests: Uint8Array | undefined;
  private count = 0;

  constructor(expectedBytes?: number) {
    this.expectedBytes = expectedBytes;
  }

  write(piece: Uint8Array): void {
    if (this.ended) throw new Error('the sha256 file was ended');
    if (piece.length === 0) return;
    const pieceBase = this.base + this.n;
    let from = 0;
    // A token the last piece cut short: finished in a small join with this piece's start, then
    // on in the piece itself (a join of the whole piece would copy the whole text).
    while (this.p < this.n && from < piece.length) {
      const carry = this.n - this.p;
      const take = Math.min(piece.length - from, Math.max(STITCH_BYTES, carry));
      const joined = new Uint8Array(carry + take);
      joined.set(this.buf.subarray(this.p, this.n));
      joined.set(piece.subarray(from, from + take), carry);
      this.window(joined, 0, this.base + this.p);
      const start = from;
      from += take;
      this.run();
      if (this.p >= carry) {
        // Past the carried bytes: the rest is the piece's own, read where it is.
        this.window(piece, start + this.p - carry, pieceBase);
        break;
      }
    }
    if (from === 0) this.window(piece, 0, pieceBase);
    this.run();
    // Nothing of the caller's piece is kept: the token it cut short, if any, is copied (a new
    // Uint8Array of it: a Buffer's slice would be a view).
    this.window(new Uint8Array(this.buf.subarray(this.p, this.n)), 0, this.base + this.p);
  }

  /** The file read. @throws {SyntaxError} cut short, or not a sha256 file */
  end(): Sha256File {
    if (!this.ended) {
      this.ended = true;
      this.run();
    }
    if (!this.digests) throw new SyntaxError('no sha256s list');
    return { chunkSize: this.chunkSize, digests: this.digests.subarray(0, this.count * DIGEST_BYTES) };
  }

  /** Reads `buf` from `p`, `buf[0]` being byte `base` of the text. */
  private window(buf: Uint8Array, p: number, base: number): void {
    this.buf = buf;
    this.p = p;
    this.n = buf.length;
    this.base = base;
  }

  /**
   * Reads every whole token from `p`, leaving `p` at the first one the window does not hold
   * whole (past its end: the text's, when ended).
   */
  private run(): void {
    const b = this.buf;
    const n = this.n;
    const more = !this.ended;
    let p = this.p;
    const fail = (at: number, why: string): never => {
      throw new SyntaxError(`${why} at byte ${this.base + at}`);
    };
    // A token the window does not hold whole (`break read`) is read when more has come.
    read: for (;;) {
      // Whitespace is read whatever comes next; each state then needs at least one byte.
      while (p < n && WHITESPACE[b[p] as number] === 1) p++;
      if (p >= n && (more || this.state === TAIL)) break;
      const c = b[p];
      switch (this.state) {
        case OPEN:
          if (c !== 0x7b) fail(p, "expected '{'");
          p++;
          this.state = FIRST_KEY;
          break;
        case FIRST_KEY:
          if (c === 0x7d) {
            p++;
            this.state = TAIL;
          } else this.state = KEY;
          break;
        case KEY: {
          if (c !== QUOTE) fail(p, 'expected a key');
          const end = stringEnd(b, p, n);
          if (end < 0) {
            if (more) break read;
            fail(n, 'unterminated string');
          }
          this.key = JSON.parse(DECODER.decode(b.subarray(p, end)));
          p = end;
          this.state = COLON;
          break;
        }
        case COLON:
          if (c !== 0x3a) fail(p, "expected ':'");
          p++;
          this.state = this.key === 'sha256s' ? LIST : VALUE;
          break;
        case VALUE: {
          let end = valueEnd(b, p, n);
          if (end < 0) {
            if (more) break read;
            // A number or literal ends with the text; a string, object or array may not.
            if (c === QUOTE || c === 0x7b || c === 0x5b) fail(n, c === QUOTE ? 'unterminated string' : 'unterminated value');
            end = n;
          }
          const value: unknown = JSON.parse(DECODER.decode(b.subarray(p, end)));
          if (this.key === 'chunk_size') this.chunkSize = value;
          p = end;
          this.state = AFTER_VALUE;
          break;
        }
        case LIST:
          if (c !== 0x5b) fail(p, "expected '['");
          p++;
          this.startList(this.base + p);
          this.state = FIRST_DIGEST;
          break;
        case FIRST_DIGEST:
          if (c === 0x5d) {
            p++;
            this.state = AFTER_VALUE;
          } else this.state = DIGEST;
          break;
        case DIGEST: {
          if (c !== QUOTE) fail(p, "expected '\"'");
          // The quotes and 64 digits whole in the window, or wait for them.
          if (p + 2 * DIGEST_BYTES + 1 >= n) {
            if (more) break read;
            fail(n, 'a digest cut short');
          }
          const out = this.room();
          const at = this.count * DIGEST_BYTES;
          for (let i = 0, h = p + 1; i < DIGEST_BYTES; i++, h += 2) {
            const hi = HEX_VALUES[b[h] as number] as number;
            const lo = HEX_VALUES[b[h + 1] as number] as number;
            if ((hi | lo) < 0) fail(h, 'not a 64-digit hex SHA-256');
            out[at + i] = (hi << 4) | lo;
          }
          p += 2 * DIGEST_BYTES + 1;
          if (b[p] !== QUOTE) fail(p, "expected '\"'");
          p++;
          this.count++;
          this.state = AFTER_DIGEST;
          break;
        }
        case AFTER_DIGEST:
          if (c === 0x2c) this.state = DIGEST;
          else if (c === 0x5d) this.state = AFTER_VALUE;
          else fail(p, "expected ']'");
          p++;
          break;
        case AFTER_VALUE:
          if (c === 0x2c) this.state = KEY;
          else if (c === 0x7d) this.state = TAIL;
          else fail(p, "expected '}'");
          p++;
          break;
        default:
          fail(p, 'text after the object');
      }
    }
    this.p = p;
  }

  /** A list starts at byte `at` of the text: the digests' memory, sized for the rest of the text when its length is known. */
  private startList(at: number): void {
    // Each entry takes at least 67 bytes (quotes, digits, a comma or the closing bracket).
    const rest = this.expectedBytes === undefined ? 0 : Math.max(0, this.expectedBytes - at);
    this.digests = new Uint8Array(Math.max(DIGEST_BYTES, Math.ceil(rest / 67) * DIGEST_BYTES));
    this.count = 0;
  }

  /** The digests' memory, with room for one more (doubled when full: the length was not known, or wrong). */
  private room(): Uint8Array {
    let out = this.digests as Uint8Array;
    if ((this.count + 1) * DIGEST_BYTES > out.length) {
      const grown = new Uint8Array(Math.max(out.length * 2, 64 * 1024));
      grown.set(out.subarray(0, this.count * DIGEST_BYTES));
      this.digests = out = grown;
    }
    return out;
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

/** Past the string whose opening quote is at `p`; -1 when it runs past `n`. */
function stringEnd(b: Uint8Array, p: number, n: number): number {
  for (let i = p + 1; i < n; ) {
    const c = b[i] as number;
    if (c === QUOTE) return i + 1;
    i += c === BACKSLASH ? 2 : 1;
  }
  return -1;
}

/**
 * Past the JSON value that starts at `p` (its text is then checked by `JSON.parse`); -1 when
 * it runs past `n` (a number or literal may end there: the caller knows whether more comes).
 */
function valueEnd(b: Uint8Array, p: number, n: number): number {
  const c = b[p];
  if (c === QUOTE) return stringEnd(b, p, n);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let i = p; i < n; ) {
      const d = b[i] as number;
      if (d === QUOTE) {
        i = stringEnd(b, i, n);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) depth--;
      i++;
      if (depth === 0) return i;
    }
    return -1;
  }
  for (let i = p; i < n; i++) if (VALUE_END[b[i] as number] === 1) return i;
  return -1;
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
