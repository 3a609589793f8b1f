import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CorruptFileError, decodeHeader, decodeMetadata, expectedFileSize, type FileHeader, HEADER_SIZE, metadataOffset } from './format.ts';
import { readFully } from './fd-io.ts';

/** How much of a file the first read takes: a small object comes in whole. */
const FIRST_READ = 64 * 1024;

/** An object file opened and checked: its header, metadata, and the bytes read so far. */
export interface LoadedFile {
  readonly path: string;
  /**
   * An open file descriptor; whoever holds the `LoadedFile` closes it (`closeLoaded`).
   * Undefined for a file held whole in memory (one of `SmallFiles`): `head` is all of it.
   */
  readonly fd: number | undefined;
  /** `<st_dev>:<st_ino>` of an open file: which file this is, whatever path reaches it. */
  readonly id?: string;
  readonly header: FileHeader;
  readonly metadata: Record<string, string>;
  /** Bytes [0, head.length) of the file, already read. */
  readonly head: Buffer;
}

/**
 * Opens an object file and checks it before anything is trusted: magic, total size against
 * the header, and the header checksum over the metadata. The open and the first read (the
 * whole of a small object) are synchronous: they are served from the page cache far more
 * often than not, and a trip through the thread pool costs more than they do.
 * @throws {CorruptFileError} when any check fails (the file is closed);
 *   the open error (ENOENT) when the file is gone.
 */
export async function loadFile(path: string): Promise<LoadedFile> {
  const fd = openSync(path, 'r');
  try {
    const { size, dev, ino } = fstatSync(fd);
    const head = Buffer.allocUnsafe(Math.min(size, FIRST_READ));
    readExactSync(fd, head, 0);
    const header = checkedHeader(head, size);
    const offset = metadataOffset(header.dataLength, header.blockSize);
    const metaBytes = offset + header.metadataLength <= head.length
      ? head.subarray(offset, offset + header.metadataLength)
      : await readAt(fd, offset, header.metadataLength);
    const metadata = decodeMetadata(head.subarray(0, HEADER_SIZE), header, metaBytes);
    return { path, fd, id: `${dev}:${ino}`, header, metadata, head };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * A whole file held in memory, checked as `loadFile` checks one on disk; `path` only names it.
 * @throws {CorruptFileError} when any check fails.
 */
export function loadBytes(path: string, bytes: Uint8Array): LoadedFile {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = checkedHeader(head, head.length);
  const offset = metadataOffset(header.dataLength, header.blockSize);
  const metadata = decodeMetadata(head.subarray(0, HEADER_SIZE), header, head.subarray(offset, offset + header.metadataLength));
  return { path, fd: undefined, header, metadata, head };
}

/** Closes a loaded file's descriptor, if it has one. */
export function closeLoaded(file: LoadedFile): void {
  if (file.fd !== undefined) closeSync(file.fd);
}

function checkedHeader(head: Buffer, size: number): FileHeader {
  const header = decodeHeader(head);
  if (expectedFileSize(header) !== size) throw new CorruptFileError(`size ${size} does not match header (${expectedFileSize(header)})`);
  return header;
}

/** Reads exactly `length` bytes at `position`. @throws {CorruptFileError} on a short read. */
export async function readAt(fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const got = await readFully(fd, buf, length, position);
  if (got < length) throw new CorruptFileError(`file ended at ${position + got}, expected ${position + length}`);
  return buf;
}

function readExactSync(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new CorruptFileError(`file ended at ${position + done}, expected ${position + buf.length}`);
    done += n;
  }
}
