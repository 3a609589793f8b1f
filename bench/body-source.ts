import { createHash, randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Object bodies without per-request allocation: one buffer of random bytes (random so that
 * compression or deduplication in the endpoint cannot flatter it), and every body is a view of
 * its first `size` bytes. Bodies larger than the buffer are streams that repeat it. Because the
 * body depends only on the size, so does its MD5, which is computed once per size and cached
 * (for `--verify` and for PUT ETags).
 */
export class BodySource {
  /** Bodies up to this size are plain slices; larger ones are streamed. */
  static readonly MAX_BUFFER = 64 * 1024 * 1024;
  private readonly buffer: Buffer;
  private readonly md5s = new Map<number, string>();

  constructor(maxSize: number) {
    this.buffer = randomFillSync(Buffer.allocUnsafe(Math.max(1, Math.min(maxSize, BodySource.MAX_BUFFER))));
  }

  /** The body of an object of `size` bytes: a view of the shared buffer, or a stream of it. */
  body(size: number): Buffer | Readable {
    if (size <= this.buffer.length) return this.buffer.subarray(0, size);
    return Readable.from(this.chunks(size), { objectMode: false });
  }

  private *chunks(size: number): Generator<Buffer> {
    for (let left = size; left > 0; left -= this.buffer.length) yield this.buffer.subarray(0, Math.min(left, this.buffer.length));
  }

  /** The hex MD5 of the body of `size` bytes (what Swift returns as its ETag). */
  md5(size: number): string {
    let digest = this.md5s.get(size);
    if (digest === undefined) {
      const hash = createHash('md5');
      for (const chunk of this.chunks(size)) hash.update(chunk);
      digest = hash.digest('hex');
      // Distributions with ranges draw many sizes; keep the cache bounded.
      if (this.md5s.size >= 4096) this.md5s.clear();
      this.md5s.set(size, digest);
    }
    return digest;
  }
}
