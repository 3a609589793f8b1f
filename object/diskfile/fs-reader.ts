import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Timestamp } from '../../common/timestamp.ts';
import type { AlignedSlabs } from './aligned-slabs.ts';
import { DiskFileQuarantined } from './errors.ts';
import { readFully } from './fd-io.ts';
import { blockChecksum, blockCount, blockOffset, CHECKSUM_SIZE } from './format.ts';
import { closeLoaded, type LoadedFile, readAt } from './fs-file.ts';
import type { LocalObjectFile, Metadata, ObjectReader, ReadOptions } from './types.ts';

/**
 * A reader dropped without `close()` would keep its descriptors forever (plain descriptors
 * have no garbage-collection safety net, unlike `FileHandle`) and its slabs out of their pool:
 * close them and give the slabs back when it is collected (a body let go unread).
 */
const leaks = new FinalizationRegistry<{ fds: number[]; slabs?: AlignedSlabs; taken: Buffer[] }>(({ fds, slabs, taken }) => {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
  for (const slab of taken) slabs?.give(slab);
});

/**
 * Objects at least this large are read with `O_DIRECT`; smaller ones go through the page
 * cache, where repeated reads find them (Swift's `keep_cache_size` is 5 MiB).
 */
export const DIRECT_READ_MIN_BYTES = 4 * 1024 * 1024;

/** Blocks read per disk read through the page cache: 16 × 64 KiB ≈ 1 MiB. */
const BLOCKS_PER_READ = 16;

/** `O_DIRECT` offsets and lengths come in whole sectors. */
const SECTOR = 4096;

/**
 * A second descriptor on the same file opened with `O_DIRECT`, and aligned slabs to read
 * into: large objects are read around the page cache (filling fresh cache pages cost this
 * machine more CPU than the rest of a large GET). Read chunks are copied out of `slab`, or,
 * when the caller lends (see `ReadOptions`) and a `spare` slab came too, handed out in place
 * from the two slabs in turn: no allocation per read, so no garbage for V8 to chase (a fresh
 * 1 MiB copy per read cost a major GC every ~60 MB served).
 */
export interface DirectRead {
  readonly fd: number;
  readonly slabs: AlignedSlabs;
  readonly slab: Buffer;
  readonly spare?: Buffer;
}

/**
 * Reads an open `.data` file, verifying every block's checksum before yielding a byte of it,
 * with the next batch of blocks already being read while one is yielded. A bad block
 * quarantines the object (through `quarantine`) and ends the read with `DiskFileQuarantined`,
 * so the proxy can resume from another replica.
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
  private readonly direct: DirectRead | undefined;
  private readonly quarantine: (reason: string) => Promise<void>;
  /** The read in flight, if any: close waits for it (it may be filling the slab). */
  private inflight: Promise<unknown> | undefined;
  private closed = false;

  constructor(file: LoadedFile, state: Omit<ObjectReader, 'read' | 'close' | 'lends'>, quarantine: (reason: string) => Promise<void>, direct?: DirectRead) {
    this.file = file;
    this.direct = direct;
    this.metadata = state.metadata;
    this.dataTimestamp = state.dataTimestamp;
    this.timestamp = state.timestamp;
    this.contentTypeTimestamp = state.contentTypeTimestamp;
    this.metaFileMetadata = state.metaFileMetadata;
    this.dataFileMetadata = state.dataFileMetadata;
    this.contentLength = state.contentLength;
    this.quarantine = quarantine;
    leaks.register(this, { fds: [file.fd, direct?.fd].filter((fd) => fd !== undefined), ...(direct ? { slabs: direct.slabs } : {}), taken: direct ? [direct.slab, ...(direct.spare ? [direct.spare] : [])] : [] }, this);
  }

  get localFile(): LocalObjectFile | undefined {
    const { fd, id, path } = this.file;
    return fd !== undefined && id !== undefined ? { path: resolve(path), id } : undefined;
  }

  get lends(): boolean {
    return this.direct?.spare !== undefined;
  }

  async *read(start = 0, end = this.contentLength, options: ReadOptions = {}): AsyncGenerator<Buffer> {
    const size = this.file.header.blockSize;
    const total = this.file.header.dataLength;
    const from = Math.max(0, start);
    const to = Math.min(end, total);
    if (from >= to) return;
    const blocks = blockCount(total, size);
    const perRead = this.direct ? Math.floor((this.direct.slab.length - 2 * SECTOR) / (size + CHECKSUM_SIZE)) : BLOCKS_PER_READ;
    const last = Math.floor((to - 1) / size);
    const batch = (first: number): { first: number; end: number; offset: number; length: number } => {
      const end = Math.min(last, first + perRead - 1);
      const lastLength = end === blocks - 1 ? total - end * size : size;
      return { first, end, offset: blockOffset(first, size), length: (end - first) * (size + CHECKSUM_SIZE) + lastLength + CHECKSUM_SIZE };
    };
    // Lent chunks come from the two slabs in turn: a slab is read into again only after the
    // caller asked for the chunk after its last one, so it is done with all of them.
    const slabs = options.lend && this.direct?.spare ? [this.direct.slab, this.direct.spare] : undefined;
    let turn = 0;
    const fetch = (offset: number, length: number): Promise<Fetched> => this.fetch(offset, length, slabs?.[turn++ % 2]);
    let current = batch(Math.floor(from / size));
    let next: Promise<Fetched> | undefined = fetch(current.offset, current.length);
    try {
      while (next) {
        const { buf, own } = await next;
        const following = current.end + 1 <= last ? batch(current.end + 1) : undefined;
        next = following ? fetch(following.offset, following.length) : undefined;
        // A buffer of this read's own is verified whole, then its blocks are moved together
        // over their checksums and go out as one chunk: one socket write per ~1 MiB instead of
        // one per 64 KiB block. The file's head buffer is shared by later reads: block by block.
        let fill = 0;
        for (let i = current.first; i <= current.end; i++) {
          const at = (i - current.first) * (size + CHECKSUM_SIZE);
          const dataLength = i === blocks - 1 ? total - i * size : size;
          const data = buf.subarray(at, at + dataLength);
          const sum = buf.subarray(at + dataLength, at + dataLength + CHECKSUM_SIZE);
          if (!blockChecksum(data, i).equals(sum)) {
            await this.close();
            await this.quarantine(`block ${i} checksum mismatch`);
            throw new DiskFileQuarantined(`block ${i} checksum mismatch`);
          }
          if (!own) yield data.subarray(Math.max(0, from - i * size), Math.min(dataLength, to - i * size));
          else if (at !== fill) buf.copy(buf, fill, at, at + dataLength);
          fill += dataLength;
        }
        const base = current.first * size;
        if (own) yield buf.subarray(Math.max(0, from - base), Math.min(fill, to - base));
        if (following) current = following;
      }
    } finally {
      // Stopped early: the read ahead must land before the descriptor or slab goes.
      await next?.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inflight?.catch(() => undefined);
    leaks.unregister(this);
    closeLoaded(this.file);
    if (this.direct) {
      closeSync(this.direct.fd);
      this.direct.slabs.give(this.direct.slab);
      if (this.direct.spare) this.direct.slabs.give(this.direct.spare);
    }
  }

  /** Bytes [offset, offset + length) of the file: in a buffer of their own, or in `lent` when given. */
  private fetch(offset: number, length: number, lent?: Buffer): Promise<Fetched> {
    const { head, fd } = this.file;
    // A file held in memory is all head (its size was checked against its header).
    if (offset + length <= head.length || fd === undefined) return Promise.resolve({ buf: head.subarray(offset, offset + length), own: false });
    const read = this.direct ? this.fetchDirect(this.direct, fd, offset, length, lent) : readAt(fd, offset, length);
    this.inflight = read;
    return read.then((buf) => ({ buf, own: true }));
  }

  private async fetchDirect(direct: DirectRead, fd: number, offset: number, length: number, lent: Buffer | undefined): Promise<Buffer> {
    const start = offset - (offset % SECTOR);
    const span = Math.ceil((offset + length - start) / SECTOR) * SECTOR;
    const slab = lent ?? direct.slab;
    const got = await readFully(direct.fd, slab, span, start);
    if (got < offset + length - start) return readAt(fd, offset, length); // file shorter than its header says: let the checked path report it
    if (lent) return lent.subarray(offset - start, offset - start + length);
    const out = Buffer.allocUnsafe(length);
    slab.copy(out, 0, offset - start, offset - start + length);
    return out;
  }
}

/** A batch of blocks with their checksums; `own` when the buffer is this read's to rearrange. */
interface Fetched {
  readonly buf: Buffer;
  readonly own: boolean;
}
