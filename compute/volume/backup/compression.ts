import type { Transform } from 'node:stream';
import { createInflate, createZstdDecompress, zstdCompressSync } from 'node:zlib';
import { releaseBuffer } from '../../../common/release-buffer.ts';
import { InvalidBackup } from '../errors.ts';
import { segmentedDeflate, segmentRuns } from './segmented-deflate.ts';

/**
 * Cinder's `backup_compression_algorithm` (cinder/backup/chunkeddriver.py): `zlib` (default;
 * `gzip` is the same, Python's zlib module, so the zlib format), `zstd`, or none (`none`,
 * `off`, `no`). `bz2`/`bzip2` are Cinder's too but Node has no bzip2: refused, as Cinder refuses
 * an algorithm whose module is missing. They run on the chunk workers' threads
 * (`chunk-workers.ts`), as Cinder runs them in native threads.
 */
export interface Compressor {
  /** The name written into the backup's metadata (the configured name, lower-cased). */
  readonly name: string;
  /**
   * `data` compressed, into `into` when the compressor can and it fits (else new memory);
   * undefined when the compressor knows before doing the work that it would not shrink.
   */
  compress(data: Uint8Array, into?: Uint8Array): Uint8Array | undefined;
  /**
   * Opens `body` into `out`; the number of bytes. Through a stream of 1 MiB pieces, so the
   * only chunk-sized memory touched is `out`, which the caller reuses (a fresh 50 MiB output
   * per chunk cost more CPU than the inflate), and a body that opens to more than `out` takes
   * (bad or hostile) stops there. @throws when `body` is not this format or too big.
   */
  decompressInto(body: Uint8Array, out: Uint8Array): Promise<number>;
}

/**
 * zlib level 1, where Cinder's `zlib.compress(data)` uses Python's default, 6: on text level 6
 * cost ~1.5x level 1's CPU and both shrank it under 1%; either spends ~25 CPU-s per GiB
 * failing on random bytes, which `segmentedDeflate` stores instead. Any zlib inflates any
 * level and the segments (Python's, so Cinder's too).
 */
export const ZLIB_LEVEL = 1;
/** Output buffers of this size: a few per compressed chunk instead of thousands of 16 KiB ones. */
const OUT_CHUNK = 1024 * 1024;

/** Pieces a streamed decompression hands over: small enough for malloc to reuse their memory. */
const PIECE = 1024 * 1024;

function decompressInto(stream: Transform, body: Uint8Array, out: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    let at = 0;
    stream.on('data', (piece: Buffer) => {
      if (at + piece.length > out.length) {
        stream.destroy(new Error(`more than the ${out.length} bytes expected`));
        return;
      }
      out.set(piece, at);
      at += piece.length;
      // Copied: its memory goes back now. Left to the collector, the pieces (outside V8's heap)
      // set off full GCs on the chunk workers; zlib writes no more into a piece that fills its
      // buffer (it takes a new one), and only such a whole piece is released.
      releaseBuffer(piece);
    });
    stream.on('end', () => resolve(at));
    stream.on('error', reject);
    stream.end(body);
  });
}

const zlibCodec = {
  compress: (data: Uint8Array, into?: Uint8Array) => {
    // Random bytes all through (an encrypted volume, a changed run of one): stored blocks only,
    // longer than the data, which Cinder's rule then keeps uncompressed; so neither their
    // Adler-32 nor the copy into a stream is worth making.
    const runs = segmentRuns(data);
    return runs.every((r) => r.kind === 'random') ? undefined : segmentedDeflate(data, ZLIB_LEVEL, into, runs);
  },
  decompressInto: (body: Uint8Array, out: Uint8Array) => decompressInto(createInflate({ chunkSize: PIECE }), body, out),
};
const zstdCodec = {
  // The frame records its content size (pledgedSrcSize), as Cinder's one-shot zstd.compress writes it.
  compress: (data: Uint8Array) => zstdCompressSync(data, { pledgedSrcSize: data.length, chunkSize: OUT_CHUNK }),
  decompressInto: (body: Uint8Array, out: Uint8Array) => decompressInto(createZstdDecompress({ chunkSize: PIECE }), body, out),
};

/** The compressor for `algorithm`, or `undefined` for none. @throws {InvalidBackup} unknown or unsupported. */
export function compressorFor(algorithm: string): Compressor | undefined {
  const name = algorithm.toLowerCase();
  if (name === 'none' || name === 'off' || name === 'no') return undefined;
  if (name === 'zlib' || name === 'gzip') return { name, ...zlibCodec };
  if (name === 'zstd') return { name, ...zstdCodec };
  throw new InvalidBackup(`unsupported compression algorithm: ${algorithm}`);
}
