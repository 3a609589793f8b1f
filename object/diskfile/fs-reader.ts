import { closeSync } from 'node:fs';
import type { Timestamp } from '../../common/timestamp.ts';
import { DiskFileQuarantined } from './errors.ts';
import { blockChecksum, blockCount, blockOffset, CHECKSUM_SIZE } from './format.ts';
import { type LoadedFile, readAt } from './fs-file.ts';
import type { Metadata, ObjectReader } from './types.ts';

/**
 * A reader dropped without `close()` would keep its descriptor forever (plain descriptors have
 * no garbage-collection safety net, unlike `FileHandle`): close it when the reader is collected.
 */
const leaks = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

/** Blocks read per disk read: 16 × 64 KiB ≈ 1 MiB. */
const BLOCKS_PER_READ = 16;

/**
 * Reads an open `.data` file, verifying every block's checksum before yielding a byte of it.
 * A bad block quarantines the object (through `quarantine`) and ends the read with
 * `DiskFileQuarantined`, so the proxy can resume from another replica.
 */
export class FsObjectReader implements ObjectReader {
  readonly metadata: Metadata;
  readonly dataTimestamp: Timestamp;
  readonly timestamp: Timestamp;
  readonly contentTypeTimestamp: Timestamp;
  readonly metaFileMetadata: Metadata | undefined;
  readonly dataFileMetadata: Metadata;
  readonly contentLength: number;
  private readonly file: LoadedFile;
  private readonly quarantine: (reason: string) => Promise<void>;
  private closed = false;

  constructor(file: LoadedFile, state: Omit<ObjectReader, 'read' | 'close'>, quarantine: (reason: string) => Promise<void>) {
    this.file = file;
    this.metadata = state.metadata;
    this.dataTimestamp = state.dataTimestamp;
    this.timestamp = state.timestamp;
    this.contentTypeTimestamp = state.contentTypeTimestamp;
    this.metaFileMetadata = state.metaFileMetadata;
    this.dataFileMetadata = state.dataFileMetadata;
    this.contentLength = state.contentLength;
    this.quarantine = quarantine;
    leaks.register(this, file.fd, this);
  }

  async *read(start = 0, end = this.contentLength): AsyncGenerator<Buffer> {
    const size = this.file.header.blockSize;
    const total = this.file.header.dataLength;
    const from = Math.max(0, start);
    const to = Math.min(end, total);
    if (from >= to) return;
    const blocks = blockCount(total, size);
    let block = Math.floor(from / size);
    const last = Math.floor((to - 1) / size);
    while (block <= last) {
      const batchEnd = Math.min(last, block + BLOCKS_PER_READ - 1);
      const offset = blockOffset(block, size);
      const lastLength = batchEnd === blocks - 1 ? total - batchEnd * size : size;
      const length = (batchEnd - block) * (size + CHECKSUM_SIZE) + lastLength + CHECKSUM_SIZE;
      const head = this.file.head;
      const buf = offset + length <= head.length ? head.subarray(offset, offset + length) : await readAt(this.file.fd, offset, length);
      for (let i = block; i <= batchEnd; i++) {
        const at = (i - block) * (size + CHECKSUM_SIZE);
        const dataLength = i === blocks - 1 ? total - i * size : size;
        const data = buf.subarray(at, at + dataLength);
        const sum = buf.subarray(at + dataLength, at + dataLength + CHECKSUM_SIZE);
        if (!blockChecksum(data, i).equals(sum)) {
          await this.close();
          await this.quarantine(`block ${i} checksum mismatch`);
          throw new DiskFileQuarantined(`block ${i} checksum mismatch`);
        }
        yield data.subarray(Math.max(0, from - i * size), Math.min(dataLength, to - i * size));
      }
      block = batchEnd + 1;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    leaks.unregister(this);
    closeSync(this.file.fd);
  }
}
