import { promisify } from 'node:util';
import { deflate, inflate, zstdCompress, zstdDecompress } from 'node:zlib';
import { InvalidBackup } from '../errors.ts';

/**
 * Cinder's `backup_compression_algorithm` (cinder/backup/chunkeddriver.py): `zlib` (default;
 * `gzip` is the same, Python's zlib module, so the zlib format), `zstd`, or none (`none`,
 * `off`, `no`). `bz2`/`bzip2` are Cinder's too but Node has no bzip2: refused, as Cinder refuses
 * an algorithm whose module is missing. Work runs on libuv's pool, not the event loop.
 */
export type Codec = (data: Uint8Array) => Promise<Uint8Array>;

export interface Compressor {
  /** The name written into the backup's metadata (the configured name, lower-cased). */
  readonly name: string;
  readonly compress: Codec;
  readonly decompress: Codec;
}

const zlibCodec = { compress: promisify(deflate), decompress: promisify(inflate) };
const zstdCodec = { compress: promisify(zstdCompress), decompress: promisify(zstdDecompress) };

/** The compressor for `algorithm`, or `undefined` for none. @throws {InvalidBackup} unknown or unsupported. */
export function compressorFor(algorithm: string): Compressor | undefined {
  const name = algorithm.toLowerCase();
  if (name === 'none' || name === 'off' || name === 'no') return undefined;
  if (name === 'zlib' || name === 'gzip') return { name, ...zlibCodec };
  if (name === 'zstd') return { name, ...zstdCodec };
  throw new InvalidBackup(`unsupported compression algorithm: ${algorithm}`);
}
