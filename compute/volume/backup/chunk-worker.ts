import { hash } from 'node:crypto';
import { isMarkedAsUntransferable } from 'node:worker_threads';
import { move, Piscina } from 'piscina';
import { isAllZero } from '../all-zero.ts';
import { blockSha256s } from './block-hashes.ts';
import { compressorFor } from './compression.ts';
import { DIGEST_BYTES, sameDigest } from './sha256-file.ts';

/**
 * The CPU work of a backup and a restore, one chunk at a time, run on the chunk workers'
 * threads (`chunk-workers.ts` starts them with this file): the SHA-256 of every block, the MD5s,
 * and compression. Everything is synchronous here; the threads are what keep it off the event
 * loop and spread it over the cores. Buffers are shared (`ChunkBuffers`) or come and go by
 * transfer, never by copy.
 */

/** A chunk of the volume to back up. */
export interface PrepareTask {
  /** The chunk's bytes (shared, or transferred to the worker). */
  readonly data: Uint8Array;
  readonly blockSize: number;
  /** An algorithm `compressorFor` accepts (the engine checked it). */
  readonly compression: string;
  /** The parent backup's SHA-256s of this chunk's blocks, 32 bytes each (an incremental); absent for a full backup. */
  readonly parentShas?: Uint8Array;
  /**
   * With `parentShas`: the `[first, end)` block ranges that may have changed since the parent
   * (the volume's changed-block tracking said so); only these were read into `data`, and every
   * other block is the parent's, neither hashed nor uploaded. Absent: every block was read.
   */
  readonly dirty?: ReadonlyArray<readonly [number, number]>;
  /** Memory for the compressed chunk (shared or transferred; handed back). */
  readonly out: Uint8Array;
}

/** What one chunk object holds: `length` volume bytes from `start` (within the chunk). */
export interface PreparedPiece {
  readonly start: number;
  readonly length: number;
  /** MD5 of the volume bytes (the metadata's `md5`). */
  readonly md5: string;
  /** `none` when compression did not make it smaller, as Cinder keeps it. */
  readonly compression: string;
  /** What is stored: the compressed bytes, or the volume bytes. */
  readonly body: Uint8Array;
  /** MD5 of `body`, the object's ETag. */
  readonly bodyMd5: string;
}

export interface PreparedChunk {
  /** The task's `data` and `out`, handed back (their memory is reused for a later chunk). */
  readonly data: Uint8Array;
  readonly out: Uint8Array;
  /** The SHA-256 of every block of the chunk, 32 bytes each. */
  readonly shas: Uint8Array;
  /** The whole chunk (full backup) or each run of blocks that differ from the parent's. */
  readonly pieces: PreparedPiece[];
}

/** A chunk object read back, to check and open. */
export interface OpenTask {
  /** The object's bytes (shared or transferred). */
  readonly body: Uint8Array;
  readonly compression: string;
  /** From the metadata. */
  readonly length: number;
  /** The volume offset the chunk belongs at, and the sha256 file's block size and digests of its blocks. */
  readonly offset: number;
  readonly blockSize: number;
  /** 32 bytes a block; fewer than the chunk's blocks is a mismatch. */
  readonly shas: Uint8Array;
  /** When set, also say which pieces of this size are not all zeros (Cinder's `_write_nonzero`). */
  readonly nonzeroPiece?: number;
  /** Memory of at least `length` bytes to open a compressed body into (shared or transferred; handed back as `data`). */
  readonly out: Uint8Array;
}

export type OpenedChunk =
  | {
      /** The chunk's bytes: in `out` when it was compressed, else the body. */
      readonly data: Uint8Array;
      /** `[start, end)` runs of the data that hold non-zero pieces, when asked for. */
      readonly nonzero?: Array<[number, number]>;
    }
  | { readonly corrupt: string };

/** Hashes a chunk, finds what an incremental must upload, and compresses it. */
export function prepareChunk(task: PrepareTask): PreparedChunk {
  const { data, blockSize, parentShas, dirty } = task;
  const shas = parentShas && dirty ? trackedShas(data, blockSize, parentShas, dirty) : blockSha256s(data, blockSize);
  const runs: Array<[number, number]> = [];
  if (!parentShas) runs.push([0, data.length]);
  else {
    // Runs of blocks whose SHA-256 differs from the parent's become objects of their own.
    let runStart = -1;
    const blocks = shas.length / DIGEST_BYTES;
    for (let i = 0; i < blocks; i++) {
      if (!sameDigest(shas, i, parentShas, i)) {
        if (runStart === -1) runStart = i * blockSize;
      } else if (runStart !== -1) {
        runs.push([runStart, i * blockSize]);
        runStart = -1;
      }
    }
    if (runStart !== -1) runs.push([runStart, data.length]);
  }
  const compressor = compressorFor(task.compression);
  const pieces = runs.map(([start, end]): PreparedPiece => {
    const bytes = data.subarray(start, end);
    const md5 = hash('md5', bytes, 'hex');
    const compressed = compressor?.compress(bytes, runs.length === 1 ? task.out : undefined);
    // Cinder keeps a chunk that compression does not shrink as it is.
    if (!compressor || !compressed || compressed.length >= bytes.length) {
      // A run of an incremental is copied out, so its upload does not hold the whole chunk's memory.
      const body = bytes.length === data.length ? bytes : bytes.slice();
      return { start, length: bytes.length, md5, compression: 'none', body, bodyMd5: md5 };
    }
    return { start, length: bytes.length, md5, compression: compressor.name, body: compressed, bodyMd5: hash('md5', compressed, 'hex') };
  });
  return transferring({ data, out: task.out, shas, pieces }, [data, task.out, shas, ...pieces.map((p) => p.body)]);
}

/** The parent's SHA-256s, with those of the `dirty` block ranges computed from `data`. */
function trackedShas(data: Uint8Array, blockSize: number, parentShas: Uint8Array, dirty: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const shas = new Uint8Array(Math.ceil(data.length / blockSize) * DIGEST_BYTES);
  shas.set(parentShas.subarray(0, shas.length));
  for (const [first, end] of dirty) blockSha256s(data.subarray(first * blockSize, Math.min(data.length, end * blockSize)), blockSize, shas, first);
  return shas;
}

/**
 * Decompresses a chunk object and checks it as a restore must before writing it: its length
 * against the metadata, every block against the sha256 file. Answers `corrupt` (why) instead
 * of throwing, so the engine names the object in its own error. The metadata's MD5 of the
 * chunk is not computed again: the blocks tile the chunk, so when its length and every
 * block's SHA-256 match, every byte is the one backed up, and the MD5 (twice SHA-256's CPU
 * here) could catch nothing more. Cinder's restore checks neither.
 */
export async function openChunk(task: OpenTask): Promise<OpenedChunk> {
  const { length, blockSize, shas, offset } = task;
  let data = task.body;
  const compressor = compressorFor(task.compression);
  if (compressor) {
    try {
      data = task.out.subarray(0, await compressor.decompressInto(task.body, task.out.subarray(0, length)));
    } catch (err) {
      return { corrupt: `does not decompress as ${task.compression}: ${(err as Error).message}` };
    }
  }
  if (data.length !== length) return { corrupt: `holds ${data.length} bytes, the metadata says ${length}` };
  const got = blockSha256s(data, blockSize);
  for (let b = 0; b < got.length / DIGEST_BYTES; b++) {
    if (!sameDigest(got, b, shas, b)) return { corrupt: `block ${offset / blockSize + b} (offset ${offset + b * blockSize}) does not match its SHA-256` };
  }
  const piece = task.nonzeroPiece;
  if (piece === undefined) return transferring({ data }, [data, task.out]);
  const nonzero: Array<[number, number]> = [];
  for (let at = 0; at < data.length; at += piece) {
    const end = Math.min(data.length, at + piece);
    if (isAllZero(data.subarray(at, end))) continue;
    const last = nonzero.at(-1);
    if (last && last[1] === at) last[1] = end;
    else nonzero.push([at, end]);
  }
  return transferring({ data, nonzero }, [data, task.out]);
}

/**
 * `value`, marked so Piscina transfers the memory of `views` back instead of copying it. Views
 * into Node's buffer pool (small buffers; it cannot be transferred) are copied, cheaply; shared
 * memory is not copied either (the engine's own view of it stays valid).
 */
function transferring<T extends object>(value: T, views: readonly Uint8Array[]): T {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) if (view.buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(view.buffer)) buffers.add(view.buffer);
  return move({ [Piscina.transferableSymbol]: [...buffers], [Piscina.valueSymbol]: value } as unknown as ArrayBuffer) as unknown as T;
}
