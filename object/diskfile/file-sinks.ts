import { closeSync, ftruncate, write, writevSync } from 'node:fs';
import type { AlignedSlabs } from './aligned-slabs.ts';
import { fdatasyncAsync, skipBytes, writevFully } from './fd-io.ts';
import { HEADER_SIZE } from './format.ts';

/**
 * Where an object file's bytes go while it is written: everything after the header in order,
 * then the header (known last) at offset 0, then durability.
 */
export interface FileSink {
  /** Copies what `append` gets (the caller may reuse or release the buffers once it resolves). */
  readonly copies: boolean;
  /**
   * Bytes worth gathering before `append`: a sink that copies at once wants them early, so
   * the request's chunks die young (held longer, they outlive the young generation and wait
   * for a full collection, which made a large upload's memory balloon).
   */
  readonly gatherBytes: number;
  /**
   * Appends bytes after everything appended so far (the file starts after `HEADER_SIZE`).
   * Undefined when done at once (a copy into memory), else a promise to wait for before the
   * next call.
   */
  append(buffers: readonly Buffer[], bytes: number): Promise<void> | undefined;
  /** Appends `tail`, writes `header` at offset 0, fdatasyncs and closes. */
  finish(header: Buffer, tail: readonly Buffer[]): Promise<void>;
  /** Closes without finishing (the caller removes the file). */
  close(): void;
}

/**
 * Writes through the page cache. A small object never appended before `finish` goes out in one
 * synchronous `writev` with its header: a memory copy, cheaper than a trip to the thread pool.
 */
export class BufferedSink implements FileSink {
  readonly copies = false;
  readonly gatherBytes = 1024 * 1024;
  private readonly fd: number;
  private position = HEADER_SIZE;
  private closed = false;

  constructor(fd: number) {
    this.fd = fd;
  }

  async append(buffers: readonly Buffer[], bytes: number): Promise<void> {
    await writevFully(this.fd, buffers, this.position);
    this.position += bytes;
  }

  async finish(header: Buffer, tail: readonly Buffer[]): Promise<void> {
    if (this.position === HEADER_SIZE) writevFullySync(this.fd, [header, ...tail], 0);
    else {
      await writevFully(this.fd, tail, this.position);
      writevFullySync(this.fd, [header], 0);
    }
    await fdatasyncAsync(this.fd);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Disk sectors as `O_DIRECT` wants them: offsets and lengths in whole units of this. */
const SECTOR = 4096;

/**
 * Writes around the page cache (`O_DIRECT`), for large objects: bytes are gathered in an
 * aligned slab and written a slab at a time. Through the page cache, this machine spent more
 * CPU filling fresh cache pages than on everything else of a large upload, and the data was
 * flushed again at fsync anyway. The first sector is kept in memory so the header can be
 * written over it at the end; the last write is padded to a sector and the file then cut to
 * its real size.
 */
export class DirectSink implements FileSink {
  readonly copies = true;
  readonly gatherBytes = 0;
  private readonly fd: number;
  private readonly slabs: AlignedSlabs;
  private slab: Buffer | undefined;
  /** File offset of the slab's first byte. */
  private slabStart = 0;
  private fill = HEADER_SIZE;
  /** A copy of the file's first sector once the first slab went out. */
  private firstSector: Buffer | undefined;
  private closed = false;

  constructor(fd: number, slabs: AlignedSlabs, slab: Buffer) {
    this.fd = fd;
    this.slabs = slabs;
    this.slab = slab;
    slab.fill(0, 0, HEADER_SIZE);
  }

  append(buffers: readonly Buffer[]): Promise<void> | undefined {
    return this.copyFrom(buffers, 0, 0);
  }

  /** Copies `buffers` from `buffers[i]`'s byte `offset` on; only a full slab waits (for its write). */
  private copyFrom(buffers: readonly Buffer[], i: number, offset: number): Promise<void> | undefined {
    const slab = this.slab as Buffer;
    for (; i < buffers.length; i++, offset = 0) {
      const buf = buffers[i] as Buffer;
      while (offset < buf.length) {
        const n = Math.min(slab.length - this.fill, buf.length - offset);
        buf.copy(slab, this.fill, offset, offset + n);
        this.fill += n;
        offset += n;
        if (this.fill === slab.length) {
          const from = offset;
          return this.writeSlab(slab.length).then(() => this.copyFrom(buffers, i, from));
        }
      }
    }
    return undefined;
  }

  async finish(header: Buffer, tail: readonly Buffer[]): Promise<void> {
    await this.append(tail);
    const slab = this.slab as Buffer;
    const size = this.slabStart + this.fill;
    const headerInSlab = this.slabStart === 0;
    if (headerInSlab) header.copy(slab, 0);
    if (this.fill > 0) {
      const padded = Math.ceil(this.fill / SECTOR) * SECTOR;
      slab.fill(0, this.fill, padded);
      await this.writeSlab(padded);
    }
    if (!headerInSlab && this.firstSector) {
      header.copy(this.firstSector, 0);
      this.firstSector.copy(slab, 0);
      await writeAt(this.fd, slab, SECTOR, 0);
    }
    await new Promise<void>((resolve, reject) => ftruncate(this.fd, size, (err) => (err ? reject(err) : resolve())));
    await fdatasyncAsync(this.fd);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.slab) this.slabs.give(this.slab);
    this.slab = undefined;
    closeSync(this.fd);
  }

  /** Writes the slab's first `length` bytes at its place in the file; the slab is free again after. */
  private async writeSlab(length: number): Promise<void> {
    const slab = this.slab as Buffer;
    if (this.slabStart === 0 && !this.firstSector) this.firstSector = Buffer.from(slab.subarray(0, SECTOR));
    await writeAt(this.fd, slab, length, this.slabStart);
    this.slabStart += slab.length;
    this.fill = 0;
  }
}

function writeAt(fd: number, buffer: Buffer, length: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    write(fd, buffer, 0, length, position, (err, written) => {
      if (err) reject(err);
      // O_DIRECT writes of whole sectors are not cut short short of an error (ENOSPC comes as one).
      else if (written !== length) reject(new Error(`short direct write: ${written} of ${length}`));
      else resolve();
    });
  });
}

/** Writes every byte of `buffers` at `position`, synchronously (small writes only). */
function writevFullySync(fd: number, buffers: Buffer[], position: number): void {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const written = writevSync(fd, remaining, at);
    at += written;
    remaining = skipBytes(remaining, written);
  }
}

/**
 * Keeps a small object's file in memory, whole, for `SmallFiles` to store: the same bytes a file
 * would hold, without one. Pieces are kept as they came (no copy) until `bytes()` joins them.
 */
export class MemorySink implements FileSink {
  readonly copies = false;
  readonly gatherBytes = Number.POSITIVE_INFINITY;
  private readonly parts: Buffer[] = [];
  private header: Buffer | undefined;

  append(buffers: readonly Buffer[]): undefined {
    this.parts.push(...buffers);
    return undefined;
  }

  async finish(header: Buffer, tail: readonly Buffer[]): Promise<void> {
    this.parts.push(...tail);
    this.header = header;
  }

  close(): void {
    this.parts.length = 0;
  }

  /** The whole file; only after `finish`. */
  bytes(): Buffer {
    if (!this.header) throw new Error('bytes() before finish()');
    return Buffer.concat([this.header, ...this.parts]);
  }
}
