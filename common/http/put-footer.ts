import { createHash, randomBytes } from 'node:crypto';
import { createXxh64, xxh64 } from '../hash-path.ts';
import { HttpError } from './http-error.ts';

/**
 * Metadata sent after an object's body (Swift's `X-Backend-Obj-Metadata-Footer`): the proxy
 * wraps the body in a MIME document whose second part is a JSON footer, checked by its own
 * `Content-MD5`, as Swift's proxy does for erasure-coded and encrypted PUTs
 * (proxy/controllers/obj.py `MIMEPutter`, obj/server.py `_read_metadata_footer`):
 *
 * ```
 * --B\r\nX-Document: object body\r\n\r\n<body>\r\n--B\r\nX-Document: object metadata\r\n
 * Content-MD5: <md5 of json>\r\n\r\n<json>\r\n--B--\r\n
 * ```
 *
 * Ours carries the body's MD5 (`Etag`), computed once by the proxy, and a cheap checksum
 * (`X-Backend-Obj-Checksum`, its kind announced up front by the header of that name): an object
 * server checks that instead of hashing MD5 again (docs/decisions.md). Two kinds: `xxh64`, the
 * body's xxHash64, and `xxh64-blocks-<B>`, the xxHash64 of the body's block checksums (B-byte
 * blocks, as the object file stores them), which a node writing blocks of that size has
 * computed anyway, so each byte is hashed once there.
 */
export const FOOTER_HEADER = 'x-backend-obj-metadata-footer';
export const BOUNDARY_HEADER = 'x-backend-obj-multipart-mime-boundary';
/** The body's size when the request's own length covers the MIME document. */
export const OBJ_LENGTH_HEADER = 'x-backend-obj-content-length';
/** `xxh64` or `xxh64-blocks-<B>`: the footer carries that checksum under the same name. */
export const CHECKSUM_HEADER = 'x-backend-obj-checksum';
/** The body's xxHash64 (what proxies before the block checksums sent). */
export const XXH64_CHECKSUM = 'xxh64';
/**
 * The block size a proxy hashes the body's blocks by: the object file format's
 * (`DEFAULT_BLOCK_SIZE`, object/diskfile/format.ts). A node that writes other blocks computes
 * the proxy's on the side, as it hashed the whole body before.
 */
export const FOOTER_BLOCK_BYTES = 64 * 1024;
const BLOCKS_PREFIX = 'xxh64-blocks-';

/** The `X-Backend-Obj-Checksum` for block checksums of `blockSize`-byte blocks. */
export function blockChecksumsKind(blockSize: number): string {
  return `${BLOCKS_PREFIX}${blockSize}`;
}

/** The block size an `X-Backend-Obj-Checksum` of block checksums names; undefined for any other kind. */
export function blockChecksumsSize(kind: string | undefined): number | undefined {
  if (kind === undefined || !kind.startsWith(BLOCKS_PREFIX)) return undefined;
  const size = Number(kind.slice(BLOCKS_PREFIX.length));
  return Number.isSafeInteger(size) && size > 0 && size <= 2 ** 30 ? size : undefined;
}

/**
 * The xxHash64 of a body's block checksums: block i's is xxHash64(block, seed i), 8 bytes
 * big-endian, as the object file stores it after each block (object/diskfile/format.ts); this
 * hashes those 8-byte sums in order, the last (short) block's included. Equal digests mean
 * equal block checksums, so equal bodies (as a 64-bit hash of the body would).
 */
export class BlockChecksumsHash {
  private readonly blockSize: number;
  private readonly sums = createXxh64();
  private readonly sum = Buffer.alloc(8);
  private block: ReturnType<typeof createXxh64> | undefined;
  private fill = 0;
  private index = 0;
  private done: string | undefined;

  constructor(blockSize: number) {
    this.blockSize = blockSize;
  }

  update(chunk: Uint8Array): void {
    if (this.done !== undefined) throw new Error('update after digest');
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(this.blockSize - this.fill, chunk.length - at);
      const piece = n === chunk.length ? chunk : chunk.subarray(at, at + n);
      at += n;
      if (this.fill === 0 && n === this.blockSize) {
        this.add(xxh64(piece, BigInt(this.index)));
        continue;
      }
      (this.block ??= createXxh64(BigInt(this.index))).update(piece);
      this.fill += n;
      if (this.fill === this.blockSize) this.endBlock();
    }
  }

  /** The digest, 16 hex digits (the body ends at the first call). */
  digestHex(): string {
    if (this.done === undefined) {
      if (this.fill > 0) this.endBlock();
      this.done = this.sums.digestHex();
    }
    return this.done;
  }

  private endBlock(): void {
    this.add((this.block as ReturnType<typeof createXxh64>).digest());
    this.block = undefined;
    this.fill = 0;
  }

  private add(sum: bigint): void {
    this.sum.writeBigUInt64BE(sum);
    this.sums.update(this.sum);
    this.index += 1;
  }
}

/** The longest footer document an object server reads. */
const MAX_FOOTER_BYTES = 64 * 1024;
/** The longest part headers before the body. */
const MAX_PREAMBLE_BYTES = 8 * 1024;

/** A new boundary: 64 hex digits, as Swift's proxy makes them. */
export function newBoundary(): string {
  return randomBytes(32).toString('hex');
}

/** What goes before the body. */
export function footerPreamble(boundary: string): Buffer {
  return Buffer.from(`--${boundary}\r\nX-Document: object body\r\n\r\n`, 'latin1');
}

/** What goes after the body: the footer document and the closing boundary. */
export function footerDocument(boundary: string, footer: Readonly<Record<string, string>>): Buffer {
  const json = Buffer.from(JSON.stringify(footer), 'utf8');
  const md5 = createHash('md5').update(json).digest('hex');
  return Buffer.concat([Buffer.from(`\r\n--${boundary}\r\nX-Document: object metadata\r\nContent-MD5: ${md5}\r\n\r\n`, 'latin1'), json, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
}

/** The body's MD5 and the xxHash64 of its block checksums (`blockChecksumsKind(FOOTER_BLOCK_BYTES)`), fed as it passes. */
export class BodyHashes {
  private readonly md5 = createHash('md5');
  private readonly xxh = new BlockChecksumsHash(FOOTER_BLOCK_BYTES);
  private done?: Record<string, string>;

  update(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.xxh.update(chunk);
  }

  /** The footer for the body seen (the body ends at the first call). */
  footer(): Record<string, string> {
    this.done ??= hashFooter(this.md5.digest('hex'), this.xxh.digestHex());
    return this.done;
  }
}

function hashFooter(md5: string, checksum: string): Record<string, string> {
  return { Etag: md5, [CHECKSUM_HEADER]: checksum };
}

/**
 * The length of a `BodyHashes` footer document (its digests have fixed lengths): with it, a
 * body of known length goes out with a `Content-Length`, whose pieces the object server's
 * HTTP parser hands over whole (a chunked body's arrive as slices that cannot be released).
 */
export function hashFooterLength(boundary: string): number {
  return footerDocument(boundary, hashFooter('0'.repeat(32), '0'.repeat(16))).length;
}

/**
 * A MIME-wrapped PUT body taken apart as it streams: `data` yields the object's bytes (the
 * chunks themselves where no boundary is near, else views of them), and once it is done,
 * `footer()` is the checked footer. A malformed document is Swift's 400, a footer whose
 * `Content-MD5` does not match its 422.
 *
 * With the body's `length` (`X-Backend-Obj-Content-Length`), the body is not searched for the
 * boundary: it ends after that many bytes, where the delimiter must stand. Searching random
 * bytes for it (a `\r` every 256 bytes or so) cost about a twentieth of a storage node's CPU
 * under large PUTs.
 */
export function readFooteredBody(body: AsyncIterable<Uint8Array>, boundary: string, length?: number): { data: AsyncIterable<Buffer>; footer(): Record<string, string> } {
  const parser = new FooteredBody(boundary, length);
  let footer: Record<string, string> | undefined;
  async function* data(): AsyncGenerator<Buffer> {
    const out: Buffer[] = [];
    const emit = (piece: Buffer): void => void out.push(piece);
    for await (const raw of body) {
      parser.take(Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), emit);
      for (const piece of out) yield piece;
      out.length = 0;
    }
    footer = parser.end();
  }
  return {
    data: { [Symbol.asyncIterator]: data },
    footer: () => {
      if (!footer) throw new Error('footer read before the body');
      return footer;
    },
  };
}

/**
 * `readFooteredBody`'s parser, fed chunk by chunk without a promise (for a reader that takes
 * chunks as they arrive, `pumpBody`): `take` passes the object's bytes in each chunk to
 * `emit` (at most one piece per chunk when the length is known; the chunk itself where it is
 * all body), `end` checks and returns the footer once the document is all in.
 */
export class FooteredBody {
  private readonly opening: Buffer;
  private readonly delimiter: Buffer;
  /** Before the object's bytes: what came of the part headers. */
  private head: Buffer | undefined = Buffer.alloc(0);
  /** The end of the last chunk, when it may be the start of the delimiter. */
  private carry: Buffer | undefined;
  /** From the delimiter on: the footer document. */
  private tail: Buffer[] | undefined;
  private tailBytes = 0;
  /** Body bytes still to come, when the length is known. */
  private remaining: number | undefined;

  constructor(boundary: string, length?: number) {
    this.opening = Buffer.from(`--${boundary}\r\n`, 'latin1');
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.remaining = length;
  }

  take(raw: Buffer, emit: (piece: Buffer) => void): void {
    let chunk = raw;
    if (this.tail) {
      this.tail.push(chunk);
      this.tailBytes += chunk.length;
      if (this.tailBytes > MAX_FOOTER_BYTES) throw new HttpError(400, 'footer MIME doc too large');
      return;
    }
    if (this.head !== undefined) {
      const head: Buffer = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_PREAMBLE_BYTES) throw new HttpError(400, 'no object body MIME doc');
        this.head = head;
        return;
      }
      if (!head.subarray(0, this.opening.length).equals(this.opening)) throw new HttpError(400, 'body does not start with the MIME boundary');
      chunk = head.subarray(end + 4);
      this.head = undefined;
    }
    const remaining = this.remaining;
    if (remaining !== undefined) {
      if (chunk.length <= remaining) {
        this.remaining = remaining - chunk.length;
        if (chunk.length > 0) emit(chunk);
        return;
      }
      if (remaining > 0) emit(chunk.subarray(0, remaining));
      this.startTail(chunk.subarray(remaining));
      this.remaining = 0;
      return;
    }
    if (this.carry) {
      // The last chunk ended with what may be the start of the delimiter (rare: it needs a
      // CR in its last bytes): look at it again with this one.
      chunk = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    const at = chunk.indexOf(this.delimiter);
    if (at >= 0) {
      if (at > 0) emit(chunk.subarray(0, at));
      this.startTail(chunk.subarray(at));
      return;
    }
    const partial = delimiterStart(chunk, this.delimiter);
    if (partial < chunk.length) {
      if (partial > 0) emit(chunk.subarray(0, partial));
      this.carry = chunk.subarray(partial);
    } else if (chunk.length > 0) {
      emit(chunk);
    }
  }

  /** The checked footer, once the whole document was taken. */
  end(): Record<string, string> {
    if (!this.tail) throw new HttpError(400, "couldn't find footer MIME doc");
    return parseFooterDocument(Buffer.concat(this.tail), this.delimiter);
  }

  private startTail(first: Buffer): void {
    this.tail = [first];
    this.tailBytes = first.length;
    if (this.tailBytes > MAX_FOOTER_BYTES) throw new HttpError(400, 'footer MIME doc too large');
  }
}

/** Where a prefix of `delimiter` begins at the very end of `chunk` (its length if nowhere). */
function delimiterStart(chunk: Buffer, delimiter: Buffer): number {
  let p = chunk.indexOf(13, Math.max(0, chunk.length - delimiter.length + 1));
  while (p >= 0) {
    const rest = chunk.length - p;
    if (chunk.compare(delimiter, 0, rest, p) === 0) return p;
    p = chunk.indexOf(13, p + 1);
  }
  return chunk.length;
}

/** `\r\n--B\r\n<headers>\r\n\r\n<json>\r\n--B--`: the checked footer. */
function parseFooterDocument(doc: Buffer, delimiter: Buffer): Record<string, string> {
  if (doc.length < delimiter.length || !doc.subarray(0, delimiter.length).equals(delimiter)) throw new HttpError(400, "couldn't find footer MIME doc");
  let at = delimiter.length;
  if (doc.subarray(at, at + 2).toString('latin1') !== '\r\n') throw new HttpError(400, "couldn't find footer MIME doc");
  at += 2;
  const headersEnd = doc.indexOf('\r\n\r\n', at);
  if (headersEnd < 0) throw new HttpError(400, 'footer MIME doc has no end of headers');
  const headers = new Map<string, string>();
  for (const line of doc.subarray(at, headersEnd).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const bodyStart = headersEnd + 4;
  const bodyEnd = doc.indexOf(delimiter, bodyStart);
  if (bodyEnd < 0) throw new HttpError(400, 'footer MIME doc is not closed');
  const json = doc.subarray(bodyStart, bodyEnd);
  const md5 = headers.get('content-md5');
  if (!md5) throw new HttpError(400, 'no Content-MD5 in footer');
  if (md5 !== createHash('md5').update(json).digest('hex')) throw new HttpError(422, 'footer MD5 mismatch');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid JSON for footer doc');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'invalid JSON for footer doc');
  const footer: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) footer[k.toLowerCase()] = String(v);
  return footer;
}
