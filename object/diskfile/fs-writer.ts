import { createXxh64 } from '../../common/hash-path.ts';
import { releaseBuffer } from '../../common/release-buffer.ts';
import { removeFile } from './fd-io.ts';
import type { FileSink } from './file-sinks.ts';
import { blockChecksum, blockChecksumOf, encodeHeader, encodeMetadata, runningBlockChecksum } from './format.ts';
import type { Metadata, ObjectWriter } from './types.ts';

/** Pieces gathered before they are written out (a `writev` takes at most 1024). */
const FLUSH_PIECES = 512;

/**
 * Streams a new object file into a temp file: blocks with their checksums as the body
 * arrives, then the metadata and the header. For a sink that writes from the pieces
 * themselves (the page cache), blocks are kept as the pieces they arrived in (no copy) until
 * written. A sink that copies (`O_DIRECT`) gets each piece at once while the block's checksum
 * runs alongside, so a chunk is done with when `write` returns and its memory is released.
 * `commit` makes the file durable and calls `publish`, which renames it into the object's
 * directory (and removes it when it cannot), or stores the bytes a memory sink kept. Where the bytes go (page cache or around it) is the sink's business.
 */
export class FsObjectWriter implements ObjectWriter {
  private readonly sink: FileSink;
  /** The temp file; undefined when the sink keeps the bytes in memory (nothing to remove). */
  private readonly tmpPath: string | undefined;
  private readonly blockSize: number;
  private readonly publish: (metadata: Metadata) => Promise<void>;
  /** Turns a file system error into the DiskFile's own (a full device into `DiskFileNoSpace`). */
  private readonly translate: (err: unknown) => unknown;
  /** The current block, as pieces of the chunks it came in. */
  private parts: Buffer[] = [];
  private blockFill = 0;
  private blockIndex = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The running checksum of the current block (copying sinks only). */
  private blockSum: ReturnType<typeof runningBlockChecksum> | undefined;
  private finished = false;
  /** The xxHash64 of the block checksums so far, when asked for (`digestBlockChecksums`). */
  private sums: ReturnType<typeof createXxh64> | undefined;
  /** The last (short) block's checksum, once made for the digest (commit stores the same). */
  private lastSum: Buffer | undefined;
  bytesWritten = 0;

  constructor(sink: FileSink, tmpPath: string | undefined, blockSize: number, publish: (metadata: Metadata) => Promise<void>, translate: (err: unknown) => unknown = (err) => err) {
    this.sink = sink;
    this.tmpPath = tmpPath;
    this.blockSize = blockSize;
    this.publish = publish;
    this.translate = translate;
  }

  async write(chunk: Uint8Array): Promise<void> {
    await this.writeNow(chunk);
  }

  writeNow(chunk: Uint8Array): Promise<void> | undefined {
    if (this.finished) throw new Error('write after commit or abort');
    if (this.lastSum) throw new Error('write after the block checksums\' digest');
    try {
      return this.append(chunk)?.catch((err: unknown) => {
        throw this.translate(err);
      });
    } catch (err) {
      throw this.translate(err);
    }
  }

  private append(chunk: Uint8Array): Promise<void> | undefined {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.sink.copies) return this.writeThrough(buf, 0);
    return this.gather(buf, chunk.length);
  }

  /** Keeps the pieces (a sink that writes from them); writes out only once enough gathered. */
  private gather(buf: Buffer, length: number): Promise<void> | undefined {
    let offset = 0;
    while (offset < buf.length) {
      const n = Math.min(this.blockSize - this.blockFill, buf.length - offset);
      this.parts.push(n === buf.length ? buf : buf.subarray(offset, offset + n));
      this.blockFill += n;
      offset += n;
      if (this.blockFill === this.blockSize) this.sealBlock();
    }
    this.bytesWritten += length;
    // Many small chunks would make a long vector: write those out sooner.
    if (this.pendingBytes >= this.sink.gatherBytes || this.pending.length >= FLUSH_PIECES) return this.flush();
    return undefined;
  }

  digestBlockChecksums(blockSize: number): (() => string) | undefined {
    if (blockSize !== this.blockSize || this.bytesWritten > 0) return undefined;
    const sums = createXxh64();
    this.sums = sums;
    return () => {
      if (this.blockFill > 0 && !this.lastSum) {
        this.lastSum = this.sink.copies ? this.runningSum() : blockChecksumOf(this.parts, this.blockIndex);
        sums.update(this.lastSum);
      }
      return sums.digestHex();
    };
  }

  async commit(metadata: Metadata): Promise<void> {
    if (this.finished) throw new Error('commit after commit or abort');
    const length = Number(metadata['Content-Length']);
    if (length !== this.bytesWritten) throw new Error(`Content-Length ${metadata['Content-Length']} but ${this.bytesWritten} bytes written`);
    if (this.blockFill > 0) {
      if (this.sink.copies) this.pending.push(this.lastSum ?? this.runningSum());
      else this.sealBlock();
    }
    const metaBytes = encodeMetadata(metadata);
    const header = encodeHeader({ blockSize: this.blockSize, dataLength: this.bytesWritten, etag: metadata['ETag'] ?? '' }, metaBytes);
    this.pending.push(metaBytes);
    try {
      await this.sink.finish(header, this.pending);
      this.pending = [];
      this.finished = true;
    } catch (err) {
      await this.abort();
      throw this.translate(err);
    }
    try {
      await this.publish(metadata);
    } catch (err) {
      throw this.translate(err);
    }
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      this.sink.close();
    } catch {
      // already closed
    }
    if (this.tmpPath !== undefined) removeFile(this.tmpPath);
  }

  /**
   * Hands each piece to the copying sink as it comes, from byte `offset` on; the chunk is
   * released after. Synchronous until the sink has to write (a full slab): only then is there
   * a promise, which goes on with the rest of the chunk.
   */
  private writeThrough(buf: Buffer, offset: number): Promise<void> | undefined {
    while (offset < buf.length) {
      const n = Math.min(this.blockSize - this.blockFill, buf.length - offset);
      const piece = n === buf.length ? buf : buf.subarray(offset, offset + n);
      const whole = this.blockFill === 0 && n === this.blockSize;
      if (!whole) (this.blockSum ??= runningBlockChecksum(this.blockIndex)).update(piece);
      this.blockFill += n;
      this.bytesWritten += n;
      offset += n;
      let sum: Buffer | undefined;
      if (this.blockFill === this.blockSize) {
        sum = whole ? blockChecksum(piece, this.blockIndex) : this.runningSum();
        this.sums?.update(sum);
        this.nextBlock();
      }
      const written = this.sink.append(sum ? [piece, sum] : [piece], n + (sum ? sum.length : 0));
      if (written) {
        const from = offset;
        return written.then(() => this.writeThrough(buf, from));
      }
    }
    releaseBuffer(buf);
    return undefined;
  }

  /** The checksum of the current block, from what the running hash has seen. */
  private runningSum(): Buffer {
    return (this.blockSum ?? runningBlockChecksum(this.blockIndex)).digest();
  }

  private nextBlock(): void {
    this.blockSum = undefined;
    this.blockIndex += 1;
    this.blockFill = 0;
  }

  private sealBlock(): void {
    const sum = this.lastSum ?? blockChecksumOf(this.parts, this.blockIndex);
    if (!this.lastSum) this.sums?.update(sum);
    this.pending.push(...this.parts, sum);
    this.pendingBytes += this.blockFill + sum.length;
    this.parts = [];
    this.nextBlock();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    await this.sink.append(buffers, bytes);
  }
}
