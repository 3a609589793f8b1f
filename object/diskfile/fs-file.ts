import { type FileHandle, open } from 'node:fs/promises';
import { CorruptFileError, decodeHeader, decodeMetadata, expectedFileSize, type FileHeader, HEADER_SIZE, metadataOffset } from './format.ts';

/** How much of a file the first read takes: a small object comes in whole. */
const FIRST_READ = 64 * 1024;

/** An object file opened and checked: its header, metadata, and the bytes read so far. */
export interface LoadedFile {
  readonly handle: FileHandle;
  readonly header: FileHeader;
  readonly metadata: Record<string, string>;
  /** Bytes [0, head.length) of the file, already read. */
  readonly head: Buffer;
}

/**
 * Opens an object file and checks it before anything is trusted: magic, total size against
 * the header, and the header checksum over the metadata.
 * @throws {CorruptFileError} when any check fails (the handle is closed);
 *   the open error (ENOENT) when the file is gone.
 */
export async function loadFile(path: string): Promise<LoadedFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = await readAt(handle, 0, Math.min(size, FIRST_READ));
    const header = decodeHeader(head);
    if (expectedFileSize(header) !== size) throw new CorruptFileError(`size ${size} does not match header (${expectedFileSize(header)})`);
    const offset = metadataOffset(header.dataLength, header.blockSize);
    const metaBytes = offset + header.metadataLength <= head.length
      ? head.subarray(offset, offset + header.metadataLength)
      : await readAt(handle, offset, header.metadataLength);
    const metadata = decodeMetadata(head.subarray(0, HEADER_SIZE), header, metaBytes);
    return { handle, header, metadata, head };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads exactly `length` bytes at `position`. @throws {CorruptFileError} on a short read. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new CorruptFileError(`file ended at ${position + done}, expected ${position + length}`);
    done += bytesRead;
  }
  return buf;
}

/** Writes every byte of `buffers` at `position` (writev may write less than asked). */
export async function writevFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const { bytesWritten } = await handle.writev(remaining, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const buf of remaining) {
      if (skip >= buf.length) {
        skip -= buf.length;
        continue;
      }
      next.push(skip > 0 ? buf.subarray(skip) : buf);
      skip = 0;
    }
    remaining = next;
  }
}
