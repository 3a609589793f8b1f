import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { SwiftError } from '../../common/errors.ts';
import { Timestamp } from '../../common/timestamp.ts';
import type { AlignedSlabs } from './aligned-slabs.ts';
import { closeLoaded, type LoadedFile, loadFile } from './fs-file.ts';
import { FsObjectReader } from './fs-reader.ts';
import type { LocalObjectFile, ObjectReader } from './types.ts';

/** The file at the path is not the one the object server named (replaced, or another machine's path). */
export class LocalFileMismatch extends SwiftError {
  constructor(message: string) {
    super('LOCAL_FILE_MISMATCH', message);
  }
}

/**
 * A data file an object server on this machine named (`common/http/local-file-read.ts`),
 * opened by another process to read its body: the same checks as the object server's open
 * (magic, size, header checksum), then that it is the very file named (`st_dev:st_ino`) and
 * holds the data of the ETag the answer gave. Blocks are verified as they are read; a bad one
 * ends the read with `DiskFileQuarantined` without moving anything (the caller reads over
 * HTTP, and the object server quarantines). Bodies of at least `directMinBytes` are read with
 * `O_DIRECT` into two of `slabs`, when two are free.
 * @throws {LocalFileMismatch}, `CorruptFileError`, or the open's error (ENOENT: gone since).
 */
export async function openLocalDataFile(named: LocalObjectFile, etag: string, slabs: AlignedSlabs | undefined, directMinBytes: number): Promise<ObjectReader> {
  const file = await loadFile(named.path);
  try {
    if (file.id !== named.id) throw new LocalFileMismatch(`${named.path} is ${file.id}, not ${named.id}`);
    if (file.header.blockSize === 0 || file.header.etag !== etag) throw new LocalFileMismatch(`${named.path} holds ETag ${file.header.etag || 'none'}, not ${etag}`);
  } catch (err) {
    closeLoaded(file);
    throw err;
  }
  const state = stateOf(file);
  const unmoved = (): Promise<void> => Promise.resolve();
  const slab = file.header.dataLength >= directMinBytes ? slabs?.take() : undefined;
  const spare = slab ? slabs?.take() : undefined;
  if (slabs && slab && spare) {
    let fd: number | undefined;
    try {
      fd = openSync(named.path, constants.O_RDONLY | constants.O_DIRECT);
      const { dev, ino } = fstatSync(fd);
      if (`${dev}:${ino}` === named.id) return new FsObjectReader(file, state, unmoved, { fd, slabs, slab, spare });
      closeSync(fd);
    } catch {
      // No O_DIRECT here (tmpfs): read through the page cache.
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (slab) slabs?.give(slab);
  if (spare) slabs?.give(spare);
  return new FsObjectReader(file, state, unmoved);
}

/** The reader's state from the data file alone (the caller has the answer's headers for the rest). */
function stateOf(file: LoadedFile): Omit<ObjectReader, 'read' | 'close' | 'lends'> {
  const timestamp = Timestamp.parse(file.metadata['X-Timestamp'] ?? '0');
  return { metadata: file.metadata, dataFileMetadata: file.metadata, metaFileMetadata: undefined, dataTimestamp: timestamp, timestamp, contentTypeTimestamp: timestamp, contentLength: file.header.dataLength };
}
