import { pack, unpack } from 'msgpackr';
import { SwiftError } from '../common/errors.ts';

/**
 * SSYNC: how a replicator brings a remote object server's partition up to date. Two requests
 * on the remote's object port (`SSYNC /<device>/<partition>`, verb sent as POST with
 * `X-Backend-Verb: SSYNC`), told apart by `X-Backend-Ssync-Phase`:
 *
 * 1. `missing-check`: the body is the sender's offers, one per object of the suffixes being
 *    synced: `[hash, timestamp, deleted, metaTimestamp?]` (msgpack). The remote answers with
 *    what it wants: `[hash, wantsData, wantsMeta]` for each offer newer than what it has.
 * 2. `updates`: the body is a stream of frames, one per wanted change. A frame is a u32 (big
 *    endian) header length, a msgpack header `{op, hash, timestamp, metadata, length}`, then
 *    `length` bytes of object data (PUT only). PUT writes the data file with its metadata, POST a
 *    `.meta`, DELETE a tombstone, each fsynced. The remote answers `{applied, failed}` where
 *    `failed` lists `[hash, reason]`.
 *
 * Swift runs both phases in one full-duplex request; two plain requests keep to what HTTP/1.1
 * clients do reliably, at the cost of one extra round trip per partition job.
 */
export const SSYNC_PHASE_HEADER = 'x-backend-ssync-phase';

/** What the sender has of one object. */
export interface Offer {
  readonly hash: string;
  /** Internal timestamp of the current data file or tombstone. */
  readonly timestamp: string;
  readonly deleted: boolean;
  /** Internal timestamp of a `.meta` newer than the data. */
  readonly metaTimestamp?: string;
}

/** What the receiver wants of one offer. */
export interface Want {
  readonly hash: string;
  readonly data: boolean;
  readonly meta: boolean;
}

export interface UpdateHeader {
  readonly op: 'PUT' | 'POST' | 'DELETE';
  readonly hash: string;
  readonly timestamp: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Bytes of data after the header (PUT only). */
  readonly length: number;
}

export interface UpdatesResult {
  readonly applied: number;
  readonly failed: readonly (readonly [hash: string, reason: string])[];
}

/** The updates stream is malformed. */
export class SsyncProtocolError extends SwiftError {
  constructor(message: string) {
    super('SSYNC_PROTOCOL', message);
  }
}

export function encodeOffers(offers: readonly Offer[]): Buffer {
  return pack(offers.map((o) => (o.metaTimestamp ? [o.hash, o.timestamp, o.deleted, o.metaTimestamp] : [o.hash, o.timestamp, o.deleted])));
}

export function decodeOffers(bytes: Buffer): Offer[] {
  const raw = unpackArray(bytes, 'offers');
  return raw.map((item) => {
    const [hash, timestamp, deleted, metaTimestamp] = item as [unknown, unknown, unknown, unknown];
    if (typeof hash !== 'string' || typeof timestamp !== 'string' || typeof deleted !== 'boolean') throw new SsyncProtocolError('malformed offer');
    return { hash, timestamp, deleted, ...(typeof metaTimestamp === 'string' ? { metaTimestamp } : {}) };
  });
}

export function encodeWants(wants: readonly Want[]): Buffer {
  return pack(wants.map((w) => [w.hash, w.data, w.meta]));
}

export function decodeWants(bytes: Buffer): Want[] {
  return unpackArray(bytes, 'wants').map((item) => {
    const [hash, data, meta] = item as [unknown, unknown, unknown];
    if (typeof hash !== 'string' || typeof data !== 'boolean' || typeof meta !== 'boolean') throw new SsyncProtocolError('malformed want');
    return { hash, data, meta };
  });
}

/** One frame's header bytes (the data, if any, follows it). */
export function encodeFrameHeader(header: UpdateHeader): Buffer {
  const body = pack(header);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function unpackArray(bytes: Buffer, what: string): unknown[] {
  let value: unknown;
  try {
    value = unpack(bytes);
  } catch {
    throw new SsyncProtocolError(`${what} are not msgpack`);
  }
  if (!Array.isArray(value)) throw new SsyncProtocolError(`${what} must be an array`);
  return value;
}

/**
 * Reads frames from an updates body: each header, then exactly its data, which the caller must
 * consume (or skip with `drain`) before asking for the next frame.
 */
export async function* readFrames(body: AsyncIterable<Uint8Array>): AsyncGenerator<{ header: UpdateHeader; data: AsyncIterable<Buffer> }> {
  const reader = new ByteReader(body);
  for (;;) {
    const lengthBytes = await reader.read(4, true);
    if (!lengthBytes) return;
    const header = decodeHeader(await reader.readRequired(lengthBytes.readUInt32BE(0)));
    let remaining = header.length;
    const data: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0) {
          const chunk = await reader.readSome(remaining);
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    yield { header, data };
    // Whatever the consumer left of this frame's data is skipped.
    while (remaining > 0) remaining -= (await reader.readSome(remaining)).length;
  }
}

function decodeHeader(bytes: Buffer): UpdateHeader {
  let h: unknown;
  try {
    h = unpack(bytes);
  } catch {
    throw new SsyncProtocolError('frame header is not msgpack');
  }
  const header = h as Partial<UpdateHeader>;
  if (!header || !['PUT', 'POST', 'DELETE'].includes(String(header.op)) || typeof header.hash !== 'string' || typeof header.timestamp !== 'string' || typeof header.metadata !== 'object' || !Number.isSafeInteger(header.length) || (header.length as number) < 0) {
    throw new SsyncProtocolError('malformed frame header');
  }
  return header as UpdateHeader;
}

/** Reads exact byte counts from a chunked stream. */
class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private buffer = Buffer.alloc(0);

  constructor(body: AsyncIterable<Uint8Array>) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes; undefined at a clean end of stream when `endOk`. */
  async read(n: number, endOk = false): Promise<Buffer | undefined> {
    while (this.buffer.length < n) {
      const step = await this.iterator.next();
      if (step.done) {
        if (endOk && this.buffer.length === 0) return undefined;
        throw new SsyncProtocolError('updates stream ended inside a frame');
      }
      this.buffer = this.buffer.length === 0 ? Buffer.from(step.value) : Buffer.concat([this.buffer, step.value]);
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  async readRequired(n: number): Promise<Buffer> {
    return (await this.read(n)) as Buffer;
  }

  /** Between 1 and `max` bytes. */
  async readSome(max: number): Promise<Buffer> {
    if (this.buffer.length === 0) {
      const step = await this.iterator.next();
      if (step.done) throw new SsyncProtocolError('updates stream ended inside object data');
      this.buffer = Buffer.from(step.value);
    }
    const n = Math.min(max, this.buffer.length);
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}
