import { deflateSync, inflateSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { InvalidBackup } from '../errors.ts';

/**
 * Cinder's `backup_compression_algorithm` (cinder/backup/chunkeddriver.py): `zlib` (default;
 * `gzip` is the same, Python's zlib module, so the zlib format), `zstd`, or none (`none`,
 * `off`, `no`). `bz2`/`bzip2` are Cinder's too but Node has no bzip2: refused, as Cinder refuses
 * an algorithm whose module is missing. The calls are synchronous: they run on the chunk
 * workers' threads (`chunk-workers.ts`), as Cinder runs them in native threads.
 */
export interface Compressor {
  /** The name written into the backup's metadata (the configured name, lower-cased). */
  readonly name: string;
  compress(data: Uint8Array): Uint8Array;
  /** @throws when `body` is not this format or holds more than `length` bytes. */
  decompress(body: Uint8Array, length: number): Uint8Array;
}

/**
 * zlib level 1, where Cinder's `zlib.compress(data)` uses Python's default, 6. The format is
 * the same (any level inflates with any zlib, Cinder's too); level 6 spent several times the
 * CPU of the whole rest of a backup for a few percent smaller chunks (docs/decisions.md).
 */
export const ZLIB_LEVEL = 1;
/** Output buffers of this size: a few per compressed chunk instead of thousands of 16 KiB ones. */
const OUT_CHUNK = 1024 * 1024;

const zlibCodec = {
  compress: (data: Uint8Array) => deflateSync(data, { level: ZLIB_LEVEL, chunkSize: OUT_CHUNK }),
  // One output buffer one byte larger than the chunk: no concatenation, and more output than
  // the metadata's length stops at once (a bad or hostile body cannot make us allocate more).
  decompress: (body: Uint8Array, length: number) => inflateSync(body, { chunkSize: Math.max(64, length + 1), maxOutputLength: Math.max(1, length) }),
};
const zstdCodec = {
  // The frame records its content size (pledgedSrcSize), as Cinder's one-shot zstd.compress writes it.
  compress: (data: Uint8Array) => zstdCompressSync(data, { pledgedSrcSize: data.length, chunkSize: OUT_CHUNK }),
  decompress: (body: Uint8Array, length: number) => zstdDecompressSync(body, { chunkSize: Math.max(64, length + 1), maxOutputLength: Math.max(1, length) }),
};

/** The compressor for `algorithm`, or `undefined` for none. @throws {InvalidBackup} unknown or unsupported. */
export function compressorFor(algorithm: string): Compressor | undefined {
  const name = algorithm.toLowerCase();
  if (name === 'none' || name === 'off' || name === 'no') return undefined;
  if (name === 'zlib' || name === 'gzip') return { name, ...zlibCodec };
  if (name === 'zstd') return { name, ...zstdCodec };
  throw new InvalidBackup(`unsupported compression algorithm: ${algorithm}`);
}
