import { pack, unpack } from 'msgpackr';
import { createXxh64, xxh64Hex } from '../../common/hash-path.ts';

/**
 * The object file format (`.data`, `.ts`, `.meta`): one file holds an object and its
 * metadata, so one fsync makes it durable.
 *
 * ```
 * 0   "SWLTOBJ1"            magic
 * 8   u32 blockSize B       0 for files without data (.ts, .meta)
 * 12  u32 metadataLength M
 * 16  u64 dataLength L
 * 24  32 bytes ETag         MD5 hex of the data; zeros when there is none
 * 56  u64 checksum          xxHash64 of bytes 0..56 followed by the metadata bytes
 * 64  blocks                per block i: its data (B bytes, the last may be shorter),
 *                           then xxHash64(data, seed i) — 8 bytes
 * ..  metadata              msgpack of the metadata dict (without ETag, Content-Length)
 * ```
 *
 * The fixed header is written last (the writer streams blocks first), so nothing needs to be
 * known up front and chunked uploads need no buffering. A read verifies the header checksum and
 * the file size before trusting anything, and each block before sending a byte of it; the
 * block index in the seed catches blocks that moved.
 */
export const MAGIC = Buffer.from('SWLTOBJ1', 'latin1');
export const HEADER_SIZE = 64;
export const CHECKSUM_SIZE = 8;
export const DEFAULT_BLOCK_SIZE = 64 * 1024;
const ZERO_ETAG = Buffer.alloc(32);

export interface FileHeader {
  readonly blockSize: number;
  readonly metadataLength: number;
  readonly dataLength: number;
  /** MD5 hex, or '' when the file has no data. */
  readonly etag: string;
  readonly checksum: string;
}

/** The file is not what its header says: the caller quarantines it. */
export class CorruptFileError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CorruptFileError';
  }
}

export function blockCount(dataLength: number, blockSize: number): number {
  return blockSize === 0 ? 0 : Math.ceil(dataLength / blockSize);
}

/** Where the metadata starts: after the header and every block with its checksum. */
export function metadataOffset(dataLength: number, blockSize: number): number {
  return HEADER_SIZE + dataLength + blockCount(dataLength, blockSize) * CHECKSUM_SIZE;
}

export function expectedFileSize(header: Pick<FileHeader, 'blockSize' | 'dataLength' | 'metadataLength'>): number {
  return metadataOffset(header.dataLength, header.blockSize) + header.metadataLength;
}

/** File offset of block `i`. */
export function blockOffset(i: number, blockSize: number): number {
  return HEADER_SIZE + i * (blockSize + CHECKSUM_SIZE);
}

export function blockChecksum(data: Uint8Array, index: number): Buffer {
  return Buffer.from(xxh64Hex(data, BigInt(index)), 'hex');
}

/** `blockChecksum` of a block held in pieces (as it arrived), without joining them. */
export function blockChecksumOf(parts: readonly Uint8Array[], index: number): Buffer {
  if (parts.length === 1) return blockChecksum(parts[0] as Uint8Array, index);
  const sum = runningBlockChecksum(index);
  for (const part of parts) sum.update(part);
  return sum.digest();
}

/** `blockChecksum` of block `index`, fed piece by piece as the block arrives. */
export function runningBlockChecksum(index: number): { update(part: Uint8Array): void; digest(): Buffer } {
  const hash = createXxh64(BigInt(index));
  return {
    update: (part) => void hash.update(part),
    digest: () => Buffer.from(hash.digestHex(), 'hex'),
  };
}

/** Metadata bytes as stored (ETag and Content-Length live in the header instead). */
export function encodeMetadata(metadata: Readonly<Record<string, string>>): Buffer {
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (k !== 'ETag' && k !== 'Content-Length') rest[k] = v;
  return pack(rest);
}

/** The fixed header for a file whose metadata bytes are `metadata`. */
export function encodeHeader(fields: { blockSize: number; dataLength: number; etag: string }, metadata: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(fields.blockSize, 8);
  header.writeUInt32BE(metadata.length, 12);
  header.writeBigUInt64BE(BigInt(fields.dataLength), 16);
  if (fields.etag !== '') {
    if (!/^[0-9a-f]{32}$/.test(fields.etag)) throw new TypeError(`ETag must be 32 lower-case hex digits, got ${JSON.stringify(fields.etag)}`);
    header.write(fields.etag, 24, 'latin1');
  }
  Buffer.from(headerChecksum(header, metadata), 'hex').copy(header, 56);
  return header;
}

function headerChecksum(header: Buffer, metadata: Uint8Array): string {
  return xxh64Hex(Buffer.concat([header.subarray(0, 56), metadata]));
}

/** Parses the fixed header. @throws {CorruptFileError} on a bad magic. */
export function decodeHeader(buf: Buffer): FileHeader {
  if (buf.length < HEADER_SIZE) throw new CorruptFileError(`file shorter than its header (${buf.length} bytes)`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new CorruptFileError('bad magic');
  const etagBytes = buf.subarray(24, 56);
  return {
    blockSize: buf.readUInt32BE(8),
    metadataLength: buf.readUInt32BE(12),
    dataLength: Number(buf.readBigUInt64BE(16)),
    etag: etagBytes.equals(ZERO_ETAG) ? '' : etagBytes.toString('latin1'),
    checksum: buf.subarray(56, 64).toString('hex'),
  };
}

/**
 * Checks the header against the metadata bytes and decodes them; ETag and Content-Length
 * come back from the header. @throws {CorruptFileError}
 */
export function decodeMetadata(headerBuf: Buffer, header: FileHeader, metadataBytes: Buffer): Record<string, string> {
  if (headerChecksum(headerBuf, metadataBytes) !== header.checksum) throw new CorruptFileError('header checksum mismatch');
  let decoded: unknown;
  try {
    decoded = unpack(metadataBytes);
  } catch (err) {
    throw new CorruptFileError(`metadata is not msgpack (${(err as Error).message})`);
  }
  if (typeof decoded !== 'object' || decoded === null) throw new CorruptFileError('metadata is not a dict');
  const metadata = { ...(decoded as Record<string, string>) };
  if (header.blockSize > 0) {
    metadata['Content-Length'] = String(header.dataLength);
    metadata['ETag'] = header.etag;
  }
  return metadata;
}
