import { checkVolumeWrite } from './check-volume-write.ts';
import { readVia } from './read-via.ts';
import { randomBytes } from 'node:crypto';
import { constants, link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, fsyncFile, writeFileAtomic } from '../../../common/atomic-write.ts';
import { InvalidVolume, SnapshotIsBusy, SnapshotNotFound, VolumeExists, VolumeNotFound } from '../errors.ts';
import { isAllZero } from '../all-zero.ts';
import { DirtySync } from './dirty-sync.ts';
import { addMark, listMarks, removeMark } from './qcow2-bitmaps.ts';
import { openQcow2File } from './qcow2-file.ts';
import { parseQcow2Header } from './qcow2-header.ts';
import { qemuImg } from './qemu-img.ts';
import { sweepVolumeDir } from './sweep-volume-dir.ts';
import type { LeftoverSweep, SnapshotInfo, VolumeDriver, VolumeFile, VolumeFormat, VolumeInfo } from './types.ts';
import { checkSize } from './volume-size.ts';

export interface FileVolumeDriverOptions {
  /** The volume directory (Cinder's `nfs_mount_point_base`/`volumes_dir` for one host). */
  readonly dir: string;
  /** `qemu-img`, for qcow2 volumes (default: found on PATH). */
  readonly qemuImg?: string;
  /** `qemu-nbd`, for reading and writing qcow2 volumes (default: found on PATH). */
  readonly qemuNbd?: string;
  /** The format of a volume created without one (Cinder's `nfs_qcow2_volumes`): raw unless set. */
  readonly defaultFormat?: VolumeFormat;
}

/** Sparse copies and zero checks go this many bytes at a time (Cinder's _write_nonzero uses 1 MiB too). */
const COPY_BLOCK = 1024 * 1024;

/**
 * Volumes as files in one directory, as Cinder's remotefs (NFS) driver keeps them:
 * `volume-<id>` is a sparse raw file or a qcow2 image, `snapshot-<id>` a point-in-time copy of
 * one (a sparse copy of a raw volume; `qemu-img convert` of a qcow2 one), with
 * `snapshot-<id>.info` naming its volume. A qcow2 volume made from a snapshot is an overlay
 * whose backing file is the snapshot (so that snapshot is busy until the volume goes); a raw
 * one is a sparse copy. Every file is written under a temporary name, synced, and linked into
 * its name (which fails if the name is taken), so a crash leaves a whole volume or none.
 *
 * Byte access to a qcow2 volume goes through QEMU (`qcow2-file.ts`: qemu-nbd and an NBD
 * client), so its writes are seen by the image's dirty bitmaps: a qcow2 volume tracks its
 * changed blocks (`markChanges`) for incremental backups; a raw one cannot (nothing records
 * which blocks a guest wrote to a plain file).
 */
export class FileVolumeDriver implements VolumeDriver {
  readonly formats: readonly VolumeFormat[] = ['raw', 'qcow2'];
  private readonly dir: string;
  private readonly qemuImg: string;
  private readonly qemuNbd: string;
  private readonly defaultFormat: VolumeFormat;

  constructor(options: FileVolumeDriverOptions) {
    this.dir = options.dir;
    this.qemuImg = options.qemuImg ?? 'qemu-img';
    this.qemuNbd = options.qemuNbd ?? 'qemu-nbd';
    this.defaultFormat = options.defaultFormat ?? 'raw';
  }

  async createVolume(id: string, sizeBytes: number, options: { format?: VolumeFormat } = {}): Promise<VolumeInfo> {
    checkSize(sizeBytes);
    const format = options.format ?? this.defaultFormat;
    if (!this.formats.includes(format)) throw new InvalidVolume(`format ${format} is not supported`);
    await this.ensureFree(id);
    await this.publish(this.volumePath(id), async (tmp) => {
      if (format === 'raw') await sizeRaw(tmp, sizeBytes);
      else await qemuImg(this.qemuImg, ['create', '-q', '-f', 'qcow2', tmp, String(sizeBytes)]);
    });
    return this.volumeInfo(id);
  }

  async createVolumeFromSnapshot(id: string, snapshotId: string, sizeBytes: number): Promise<VolumeInfo> {
    const snap = await this.snapshotInfo(snapshotId);
    checkSize(sizeBytes);
    if (sizeBytes < snap.sizeBytes) throw new InvalidVolume(`size ${sizeBytes} is smaller than the snapshot's ${snap.sizeBytes}`);
    await this.ensureFree(id);
    const source = this.snapshotPath(snapshotId);
    await this.publish(this.volumePath(id), async (tmp) => {
      if (snap.format === 'raw') {
        await sparseCopy(source, tmp);
        await sizeRaw(tmp, sizeBytes);
      } else {
        await qemuImg(this.qemuImg, ['create', '-q', '-f', 'qcow2', '-b', source, '-F', 'qcow2', tmp, String(sizeBytes)]);
      }
    });
    return this.volumeInfo(id);
  }

  async extendVolume(id: string, sizeBytes: number): Promise<VolumeInfo> {
    const vol = await this.volumeInfo(id);
    checkSize(sizeBytes);
    if (sizeBytes <= vol.sizeBytes) throw new InvalidVolume(`new size ${sizeBytes} must be greater than the current ${vol.sizeBytes}`);
    const path = this.volumePath(id);
    if (vol.format === 'raw') await sizeRaw(path, sizeBytes);
    else {
      await qemuImg(this.qemuImg, ['resize', '-q', '-f', 'qcow2', path, String(sizeBytes)]);
      await fsyncFile(path);
    }
    return this.volumeInfo(id);
  }

  async deleteVolume(id: string): Promise<void> {
    await this.volumeInfo(id);
    await unlink(this.volumePath(id));
    await fsyncDir(this.dir);
  }

  async getVolume(id: string): Promise<VolumeInfo | undefined> {
    try {
      return await this.volumeInfo(id);
    } catch (err) {
      if (err instanceof VolumeNotFound) return undefined;
      throw err;
    }
  }

  async createSnapshot(snapshotId: string, volumeId: string): Promise<SnapshotInfo> {
    const vol = await this.volumeInfo(volumeId);
    await this.ensureFree(snapshotId);
    // The sidecar first: the snapshot exists once its data file is linked, and needs it then.
    await writeFileAtomic(`${this.snapshotPath(snapshotId)}.info`, JSON.stringify({ volume_id: volumeId }));
    const source = this.volumePath(volumeId);
    await this.publish(this.snapshotPath(snapshotId), async (tmp) => {
      if (vol.format === 'raw') await sparseCopy(source, tmp);
      else await qemuImg(this.qemuImg, ['convert', '-U', '-f', 'qcow2', '-O', 'qcow2', source, tmp]);
    });
    return this.snapshotInfo(snapshotId);
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await this.snapshotInfo(snapshotId);
    const path = this.snapshotPath(snapshotId);
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith('volume-')) continue;
      const info = await this.volumeInfo(name.slice('volume-'.length)).catch(() => undefined);
      if (info?.backingSnapshot === snapshotId) throw new SnapshotIsBusy(snapshotId);
    }
    await unlink(path);
    await unlink(`${path}.info`).catch(() => undefined);
    await fsyncDir(this.dir);
  }

  async getSnapshot(snapshotId: string): Promise<SnapshotInfo | undefined> {
    try {
      return await this.snapshotInfo(snapshotId);
    } catch (err) {
      if (err instanceof SnapshotNotFound) return undefined;
      throw err;
    }
  }

  async listSnapshots(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // `snapshot-<id>` data files (a `.info` sidecar alone is a snapshot being made or deleted).
    return names
      .filter((n) => n.startsWith('snapshot-') && !n.endsWith('.info'))
      .map((n) => n.slice('snapshot-'.length))
      .sort();
  }

  async openVolume(id: string, mode: 'r' | 'rw'): Promise<VolumeFile> {
    const vol = await this.volumeInfo(id);
    const path = this.volumePath(id);
    if (vol.format === 'raw') return rawFile(await open(path, mode === 'rw' ? 'r+' : 'r'), vol.sizeBytes, mode, path);
    return this.qcow2File(path, vol, mode);
  }

  async openSnapshot(snapshotId: string): Promise<VolumeFile> {
    const snap = await this.snapshotInfo(snapshotId);
    const path = this.snapshotPath(snapshotId);
    if (snap.format === 'raw') return rawFile(await open(path, 'r'), snap.sizeBytes, 'r');
    return this.qcow2File(path, { id: snapshotId, format: 'qcow2', sizeBytes: snap.sizeBytes }, 'r');
  }

  /** The volume directory's leftovers (sweep-volume-dir.ts: what they are, and why no one else can hold them). */
  sweepLeftovers(): Promise<LeftoverSweep> {
    return sweepVolumeDir(this.dir, { qemuNbd: this.qemuNbd });
  }

  localPath(id: string): string {
    return this.volumePath(id);
  }

  private volumePath(id: string): string {
    return join(this.dir, `volume-${checkId(id)}`);
  }

  private snapshotPath(id: string): string {
    return join(this.dir, `snapshot-${checkId(id)}`);
  }

  private async ensureFree(id: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if ((await describeFile(this.volumePath(id))) || (await describeFile(this.snapshotPath(id)))) throw new VolumeExists(id);
  }

  private async volumeInfo(id: string): Promise<VolumeInfo> {
    const file = await describeFile(this.volumePath(id));
    if (!file) throw new VolumeNotFound(id);
    const backing = file.backingFile?.startsWith(join(this.dir, 'snapshot-')) ? file.backingFile.slice(join(this.dir, 'snapshot-').length) : undefined;
    return { id, format: file.format, sizeBytes: file.sizeBytes, ...(backing !== undefined ? { backingSnapshot: backing } : {}) };
  }

  private async snapshotInfo(id: string): Promise<SnapshotInfo> {
    const path = this.snapshotPath(id);
    const file = await describeFile(path);
    if (!file) throw new SnapshotNotFound(id);
    const sidecar = JSON.parse(await readFile(`${path}.info`, 'utf8')) as { volume_id: string };
    return { id, volumeId: sidecar.volume_id, format: file.format, sizeBytes: file.sizeBytes };
  }

  /** Makes the file under a temporary name, syncs it, and links it into `path` (EEXIST: someone else made it). */
  private async publish(path: string, make: (tmp: string) => Promise<void>): Promise<void> {
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await make(tmp);
      await fsyncFile(tmp);
      try {
        await link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new VolumeExists(path.slice(this.dir.length + 1));
        throw err;
      }
      await fsyncDir(this.dir);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  private qcow2File(path: string, info: VolumeInfo, mode: 'r' | 'rw'): Promise<VolumeFile> {
    return openQcow2File({ path, dir: this.dir, sizeBytes: info.sizeBytes, mode, qemuNbd: this.qemuNbd });
  }

  async markChanges(volumeId: string, mark: string): Promise<boolean> {
    const vol = await this.volumeInfo(volumeId);
    if (vol.format !== 'qcow2') return false;
    await addMark(this.qemuImg, this.volumePath(volumeId), mark);
    return true;
  }

  async dropChangeMarks(volumeId: string, which: { readonly mark: string } | { readonly allBut: string }): Promise<void> {
    const vol = await this.volumeInfo(volumeId);
    if (vol.format !== 'qcow2') return;
    const path = this.volumePath(volumeId);
    for (const { mark } of await listMarks(path)) {
      if ('mark' in which ? mark === which.mark : mark !== which.allBut) await removeMark(this.qemuImg, path, mark);
    }
  }
}

/** Ids become file names: Cinder's are UUIDs; refuse anything that could leave the directory. */
function checkId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(id)) throw new InvalidVolume(`id ${JSON.stringify(id)} is not a valid name`);
  return id;
}

interface FileDescription {
  readonly format: VolumeFormat;
  readonly sizeBytes: number;
  readonly backingFile?: string;
}

async function describeFile(path: string): Promise<FileDescription | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const head = new Uint8Array(65536);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const qcow2 = parseQcow2Header(head.subarray(0, bytesRead));
    if (qcow2) return { format: 'qcow2', sizeBytes: qcow2.sizeBytes, ...(qcow2.backingFile !== undefined ? { backingFile: qcow2.backingFile } : {}) };
    return { format: 'raw', sizeBytes: (await handle.stat()).size };
  } finally {
    await handle.close();
  }
}

async function sizeRaw(path: string, sizeBytes: number): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.truncate(sizeBytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Copies `from` into a new `to`, leaving holes where `from` reads zeros. */
async function sparseCopy(from: string, to: string): Promise<void> {
  const src = await open(from, 'r');
  const dst = await open(to, 'wx');
  try {
    const size = (await src.stat()).size;
    const buf = new Uint8Array(COPY_BLOCK);
    for (let at = 0; at < size; at += COPY_BLOCK) {
      const { bytesRead } = await src.read(buf, 0, COPY_BLOCK, at);
      const block = buf.subarray(0, bytesRead);
      if (!isAllZero(block)) await dst.write(block, 0, block.length, at);
    }
    await dst.truncate(size);
    await dst.sync();
  } finally {
    await src.close();
    await dst.close();
  }
}

/** Writes at least this big, at a multiple of `DIRECT_ALIGN` in the file and in memory, may skip the page cache. */
const DIRECT_MIN = 1024 * 1024;
/** O_DIRECT's alignment of offset, length and memory (the page size covers every block size here). */
const DIRECT_ALIGN = 4096;

/**
 * A raw volume file. `path` (a volume opened for writing): `writeDirect` may open it a second
 * time with O_DIRECT. Why: a restore writes the whole volume once, and its copy into the page
 * cache was its largest CPU cost (a fifth of the restore's process on these guests, where
 * page-cache pages are slow to touch); with O_DIRECT the disk reads the caller's memory
 * instead. Only memory aligned to a page can be written so: a write from any other memory
 * (the kernel answers EINVAL) goes through the page cache, as do small and unaligned ones.
 */
function rawFile(handle: FileHandle, sizeBytes: number, mode: 'r' | 'rw', path?: string): VolumeFile & Required<Pick<VolumeFile, 'readInto'>> {
  let closed = false;
  const written = new DirtySync(() => handle.sync());
  let direct: Promise<FileHandle | undefined> | undefined;
  /** Memory the kernel refused for O_DIRECT (not page-aligned), written through the page cache from then on. */
  const unaligned = new WeakSet<ArrayBufferLike>();
  const check = (): void => {
    if (closed) throw new InvalidVolume('the volume file is closed');
  };
  const checkWrite = (position: number, data: Uint8Array): void => {
    check();
    checkVolumeWrite(mode, position, data.length, sizeBytes);
  };
  const writeAll = async (to: FileHandle, position: number, data: Uint8Array, from: number): Promise<void> => {
    let done = from;
    while (done < data.length) done += (await to.write(data, done, data.length - done, position + done)).bytesWritten;
  };
  /** Writes what O_DIRECT can of `data`; the bytes written (0: none, write the rest through the page cache). */
  const writeUncached = async (position: number, data: Uint8Array): Promise<number> => {
    if (path === undefined || data.length < DIRECT_MIN || position % DIRECT_ALIGN !== 0 || data.length % DIRECT_ALIGN !== 0 || data.byteOffset % DIRECT_ALIGN !== 0 || unaligned.has(data.buffer)) return 0;
    // A file system without O_DIRECT (tmpfs on older kernels) refuses the open: page cache then.
    direct ??= open(path, constants.O_RDWR | constants.O_DIRECT).catch(() => undefined);
    const fd = await direct;
    if (!fd) return 0;
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await fd.write(data, done, data.length - done, position + done);
        done += bytesWritten;
        written.mark();
        if (bytesWritten % DIRECT_ALIGN !== 0 || bytesWritten === 0) break; // the rest is not aligned now
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      unaligned.add(data.buffer);
    }
    return done;
  };
  const readInto = async (buffer: Uint8Array, position: number): Promise<number> => {
    check();
    const n = Math.max(0, Math.min(buffer.length, sizeBytes - position));
    let got = 0;
    while (got < n) {
      const { bytesRead } = await handle.read(buffer, got, n - got, position + got);
      if (bytesRead === 0) break; // a file shorter than its size reads as zeros past its end
      got += bytesRead;
    }
    buffer.fill(0, got, n);
    return n;
  };
  return {
    sizeBytes,
    read: readVia(sizeBytes, readInto),
    readInto,
    async write(position, data) {
      checkWrite(position, data);
      await writeAll(handle, position, data, 0);
      written.mark();
    },
    async writeDirect(position, data) {
      checkWrite(position, data);
      const done = await writeUncached(position, data);
      if (done < data.length) await writeAll(handle, position, data, done);
      written.mark();
    },
    async sync() {
      check();
      await written.sync();
    },
    async close() {
      if (closed) return;
      try {
        await written.sync();
      } finally {
        closed = true;
        await (await direct)?.close();
        await handle.close();
      }
    },
  };
}
