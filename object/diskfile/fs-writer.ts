import { type FileHandle, unlink } from 'node:fs/promises';
import { blockChecksum, encodeHeader, encodeMetadata, HEADER_SIZE } from './format.ts';
import { writevFully } from './fs-file.ts';
import type { Metadata, ObjectWriter } from './types.ts';

/** Bytes gathered before they are written out in one call. */
const FLUSH_BYTES = 1024 * 1024;

/**
 * Streams a new object file into a temp file: blocks with their checksums as the body
 * arrives, then the metadata and the header. `commit` makes it durable (fdatasync) and hands
 * it to `publish`, which renames it into the object's directory.
 */
export class FsObjectWriter implements ObjectWriter {
  private readonly handle: FileHandle;
  private readonly tmpPath: string;
  private readonly blockSize: number;
  private readonly publish: (tmpPath: string, metadata: Metadata) => Promise<void>;
  private readonly block: Buffer;
  private blockFill = 0;
  private blockIndex = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position = HEADER_SIZE;
  private finished = false;
  bytesWritten = 0;

  constructor(handle: FileHandle, tmpPath: string, blockSize: number, publish: (tmpPath: string, metadata: Metadata) => Promise<void>) {
    this.handle = handle;
    this.tmpPath = tmpPath;
    this.blockSize = blockSize;
    this.publish = publish;
    this.block = Buffer.allocUnsafe(blockSize);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.finished) throw new Error('write after commit or abort');
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.blockSize - this.blockFill, chunk.length - offset);
      this.block.set(chunk.subarray(offset, offset + n), this.blockFill);
      this.blockFill += n;
      offset += n;
      if (this.blockFill === this.blockSize) this.sealBlock();
    }
    this.bytesWritten += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  async commit(metadata: Metadata): Promise<void> {
    if (this.finished) throw new Error('commit after commit or abort');
    const length = Number(metadata['Content-Length']);
    if (length !== this.bytesWritten) throw new Error(`Content-Length ${metadata['Content-Length']} but ${this.bytesWritten} bytes written`);
    if (this.blockFill > 0) this.sealBlock();
    const metaBytes = encodeMetadata(metadata);
    const header = encodeHeader({ blockSize: this.blockSize, dataLength: this.bytesWritten, etag: metadata['ETag'] ?? '' }, metaBytes);
    this.pending.push(metaBytes);
    this.pendingBytes += metaBytes.length;
    try {
      if (this.position === HEADER_SIZE) {
        // Nothing written yet (small object): header and all in one write.
        await writevFully(this.handle, [header, ...this.pending], 0);
      } else {
        await this.flush();
        await this.handle.write(header, 0, HEADER_SIZE, 0);
      }
      await this.handle.datasync();
      await this.handle.close();
      this.finished = true;
    } catch (err) {
      await this.abort();
      throw err;
    }
    await this.publish(this.tmpPath, metadata);
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }

  private sealBlock(): void {
    const data = Buffer.from(this.block.subarray(0, this.blockFill));
    const sum = blockChecksum(data, this.blockIndex);
    this.pending.push(data, sum);
    this.pendingBytes += data.length + sum.length;
    this.blockIndex += 1;
    this.blockFill = 0;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    await writevFully(this.handle, buffers, this.position);
    this.position += bytes;
  }
}
