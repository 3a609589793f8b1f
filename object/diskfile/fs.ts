import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import { DeviceChecker } from '../../common/drive.ts';
import type { HashPath } from '../../common/hash-path.ts';
import type { Logger } from '../../common/logger.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { withoutStackTraces } from '../../common/without-stack-traces.ts';
import { asNoSpace, DiskFileCollision, DiskFileDeleted, DiskFileNotExist, DiskFileQuarantined } from './errors.ts';
import { CorruptFileError, DEFAULT_BLOCK_SIZE, encodeHeader, encodeMetadata } from './format.ts';
import { fdatasyncAsync, fsyncDirectory, makeDirs, removeFile } from './fd-io.ts';
import { type LoadedFile, loadFile } from './fs-file.ts';
import { FsObjectReader } from './fs-reader.ts';
import { FsObjectWriter } from './fs-writer.ts';
import { AlignedSlabs } from './aligned-slabs.ts';
import { BufferedSink, DirectSink } from './file-sinks.ts';
import { SuffixHashes } from './hashes.ts';
import { entryOf, type FileKind, fileName, objectState, sameEntry, type Selection, selectFiles } from './ondisk.ts';
import type { DiskFile, DiskFileManager, Metadata, ObjectEntry, ObjectLocation, ObjectReader, ObjectState, ObjectWriter, OpenOptions } from './types.ts';

export interface FsDiskFileOptions {
  /** The devices root (`[storage] devices`). */
  readonly devices: string;
  readonly mountCheck: boolean;
  readonly hashPath: HashPath;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long tombstones are kept (Swift's `reclaim_age`, 7 days). */
  readonly reclaimAgeSeconds?: number;
  readonly blockSize?: number;
  /**
   * Large objects are written and read around the page cache (`O_DIRECT`) through this many
   * 1 MiB aligned buffers, one per transfer in progress (0: never). Default 24.
   */
  readonly directIoBuffers?: number;
  /**
   * The aligned buffers to use instead of this manager's own (the nodes of one process share
   * one pool, so their memory is counted once). Overrides `directIoBuffers`.
   */
  readonly slabs?: AlignedSlabs;
}

/** Objects expected to be at least this large are written with `O_DIRECT`. */
const DIRECT_IO_MIN_BYTES = 1024 * 1024;
/**
 * Objects at least this large are read with `O_DIRECT`; smaller ones go through the page
 * cache, where repeated reads find them (Swift's `keep_cache_size` is 5 MiB).
 */
const DIRECT_READ_MIN_BYTES = 4 * 1024 * 1024;
const DIRECT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT;

/**
 * The on-disk DiskFile implementation. Layout, as Swift's:
 * `<devices>/<device>/objects/<partition>/<suffix>/<hash>/<timestamp>.data|.ts|.meta`, where
 * `<suffix>` is the last 3 hex digits of the object's hash; writes go through
 * `<device>/tmp`; corrupt objects move to `<device>/quarantined/objects/<hash>`.
 */
export class FsDiskFileManager implements DiskFileManager {
  readonly supports = { durable: true, blockChecksums: true } as const;
  readonly hashes: SuffixHashes;
  /** Objects moved aside since start (recon reports it). */
  quarantinedCount = 0;
  readonly options: Required<Omit<FsDiskFileOptions, 'slabs'>>;
  /** Aligned buffers for direct writes; undefined when they are off. */
  readonly slabs: AlignedSlabs | undefined;
  private readonly devices: DeviceChecker;

  constructor(options: FsDiskFileOptions) {
    this.options = { reclaimAgeSeconds: 7 * 24 * 3600, blockSize: DEFAULT_BLOCK_SIZE, directIoBuffers: 24, ...options };
    this.slabs = options.slabs ?? (this.options.directIoBuffers > 0 ? newSlabPool(this.options.directIoBuffers) : undefined);
    this.devices = new DeviceChecker(options);
    this.hashes = new SuffixHashes({ clock: options.clock, reclaimAgeSeconds: this.options.reclaimAgeSeconds });
  }

  async diskFile(location: ObjectLocation): Promise<DiskFile> {
    const dev = await this.devices.path(location.device);
    const hash = this.options.hashPath.hash(location.account, location.container, location.object);
    return new FsDiskFile(this, dev, location.device, location.partition, hash, `/${location.account}/${location.container}/${location.object}`);
  }

  async diskFileByHash(device: string, partition: number, hash: string): Promise<DiskFile> {
    const dev = await this.devices.path(device);
    return new FsDiskFile(this, dev, device, partition, hash, undefined);
  }

  async partitions(device: string): Promise<number[]> {
    const dev = await this.devices.path(device);
    const names = await readdir(join(dev, 'objects')).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number);
  }

  async *objects(device: string, partition: number, suffixes?: readonly string[]): AsyncGenerator<ObjectEntry> {
    const dev = await this.devices.path(device);
    const partitionDir = join(dev, 'objects', String(partition));
    const wanted = suffixes ? new Set(suffixes) : undefined;
    const all = await readdir(partitionDir).catch(() => [] as string[]);
    for (const suffix of all.filter((n) => /^[0-9a-f]{3}$/.test(n) && (!wanted || wanted.has(n))).sort()) {
      for (const hash of (await readdir(join(partitionDir, suffix)).catch(() => [] as string[])).sort()) {
        const entry = entryOf(await readdir(join(partitionDir, suffix, hash)).catch(() => [] as string[]));
        if (entry) yield { hash, suffix, ...entry };
      }
    }
  }

  async removePartition(device: string, partition: number): Promise<void> {
    const dev = await this.devices.path(device);
    const partitionDir = join(dev, 'objects', String(partition));
    await rm(partitionDir, { recursive: true, force: true });
    this.hashes.forget(partitionDir);
  }

  async removeIfUnchanged(device: string, partition: number, entry: ObjectEntry): Promise<boolean> {
    const dev = await this.devices.path(device);
    const partitionDir = join(dev, 'objects', String(partition));
    const hashDir = join(partitionDir, entry.suffix, entry.hash);
    if (!sameEntry(entryOf(await readdir(hashDir).catch(() => [] as string[])), entry)) return false;
    await rm(hashDir, { recursive: true, force: true });
    await this.hashes.invalidate(partitionDir, entry.suffix).catch(() => undefined);
    return true;
  }

  async quarantineByHash(device: string, partition: number, hash: string, reason: string): Promise<void> {
    const dev = await this.devices.path(device);
    await this.quarantine(dev, join(dev, 'objects', String(partition), hash.slice(-3), hash), reason);
  }

  async getHashes(device: string, partition: number, recalculate: readonly string[] = []): Promise<Record<string, string>> {
    const dev = await this.devices.path(device);
    return this.hashes.get(join(dev, 'objects', String(partition)), recalculate);
  }

  /** Moves a corrupt object's directory aside and marks its suffix for rehashing. */
  async quarantine(devPath: string, hashDir: string, reason: string): Promise<void> {
    const target = join(devPath, 'quarantined', 'objects', basename(hashDir));
    await mkdir(dirname(target), { recursive: true });
    await rename(hashDir, target).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return;
      await rename(hashDir, `${target}-${randomBytes(4).toString('hex')}`).catch(() => undefined);
    });
    const suffixDir = dirname(hashDir);
    await this.hashes.invalidate(dirname(suffixDir), basename(suffixDir)).catch(() => undefined);
    this.quarantinedCount += 1;
    this.options.logger.warn('object quarantined', { path: hashDir, reason });
  }

  /**
   * Removes temp files that no live process is writing: left by a crash. Called at start.
   * Temp names begin with the writer's pid, so files of a sibling process are kept.
   */
  async cleanupTempFiles(): Promise<number> {
    let removed = 0;
    const devices = await readdir(this.options.devices).catch(() => [] as string[]);
    for (const device of devices) {
      const tmp = join(this.options.devices, device, 'tmp');
      for (const name of await readdir(tmp).catch(() => [] as string[])) {
        const pid = Number(name.split('.')[0]);
        const stale = !Number.isInteger(pid) || !processAlive(pid) || pid === process.pid;
        const old = await stat(join(tmp, name)).then((s) => this.options.clock.now() - s.mtimeMs > 24 * 3600_000, () => false);
        if (stale || old) {
          await unlink(join(tmp, name)).then(() => removed++, () => undefined);
        }
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    // Nothing is held open between requests.
  }
}

/** `count` 1 MiB aligned buffers for direct I/O (made on first use). */
export function newSlabPool(count: number): AlignedSlabs {
  return new AlignedSlabs({ slabBytes: 1024 * 1024, count });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class FsDiskFile implements DiskFile {
  readonly hash: string;
  private readonly manager: FsDiskFileManager;
  private readonly devPath: string;
  private readonly device: string;
  private readonly hashDir: string;
  /** `/a/c/o`; undefined when opened by hash (then the files' own name is used). */
  private readonly name: string | undefined;

  constructor(manager: FsDiskFileManager, devPath: string, device: string, partition: number, hash: string, name: string | undefined) {
    this.manager = manager;
    this.devPath = devPath;
    this.device = device;
    this.hash = hash;
    this.hashDir = join(devPath, 'objects', String(partition), hash.slice(-3), hash);
    this.name = name;
  }

  async readMetadata(options: OpenOptions = {}): Promise<ObjectState> {
    const { file, state } = await this.load(options);
    closeSync(file.fd);
    return state;
  }

  async open(options: OpenOptions = {}): Promise<ObjectReader> {
    const { file, state } = await this.load(options);
    const quarantine = (reason: string): Promise<void> => this.manager.quarantine(this.devPath, this.hashDir, reason);
    const slabs = this.manager.slabs;
    const slab = state.contentLength >= DIRECT_READ_MIN_BYTES ? slabs?.take() : undefined;
    if (slabs && slab) {
      // A second slab lets a lending caller take chunks in place (see DirectRead).
      const spare = slabs.take();
      try {
        return new FsObjectReader(file, state, quarantine, { fd: openSync(file.path, constants.O_RDONLY | constants.O_DIRECT), slabs, slab, ...(spare ? { spare } : {}) });
      } catch {
        // no O_DIRECT here (tmpfs): read through the page cache
        slabs.give(slab);
        if (spare) slabs.give(spare);
      }
    }
    return new FsObjectReader(file, state, quarantine);
  }

  async create(expectedSize?: number): Promise<ObjectWriter> {
    const publish = (tmp: string, metadata: Metadata): Promise<void> => this.publish(tmp, 'data', Timestamp.parse(required(metadata, 'X-Timestamp')));
    const slab = expectedSize !== undefined && expectedSize >= DIRECT_IO_MIN_BYTES ? this.manager.slabs?.take() : undefined;
    if (slab) {
      try {
        const { fd, path } = this.openTemp(DIRECT_FLAGS);
        return new FsObjectWriter(new DirectSink(fd, this.manager.slabs as AlignedSlabs, slab), path, this.manager.options.blockSize, publish, this.noSpace);
      } catch (err) {
        this.manager.slabs?.give(slab);
        // A file system without O_DIRECT (tmpfs) refuses it at open: use the page cache.
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
    const { fd, path } = this.openTemp('w');
    return new FsObjectWriter(new BufferedSink(fd), path, this.manager.options.blockSize, publish, this.noSpace);
  }

  private readonly noSpace = (err: unknown): unknown => asNoSpace(this.device, err);

  /** A new temp file under `<device>/tmp` (made on first use). */
  private openTemp(flags: string | number): { fd: number; path: string } {
    const tmpDir = join(this.devPath, 'tmp');
    const path = join(tmpDir, `${process.pid}.${tempSuffix()}.tmp`);
    try {
      return { fd: openSync(path, flags, 0o644), path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.noSpace(err);
    }
    // The first write to the device: its tmp directory is made then (a full disk refuses that too).
    try {
      makeDirs(tmpDir);
      return { fd: openSync(path, flags, 0o644), path };
    } catch (err) {
      throw this.noSpace(err);
    }
  }

  async delete(timestamp: Timestamp): Promise<void> {
    await this.writeSmallFile('ts', { 'X-Timestamp': timestamp.internal, ...(this.name !== undefined ? { name: this.name } : {}) });
  }

  async writeMetadata(metadata: Metadata): Promise<void> {
    await this.writeSmallFile('meta', { ...metadata, ...(this.name !== undefined ? { name: this.name } : {}) });
  }

  /** Reads the current files; quarantines a corrupt one. */
  private async load(options: OpenOptions): Promise<{ file: LoadedFile; state: ObjectState }> {
    for (let attempt = 0; ; attempt++) {
      const selection = selectFiles(listDir(this.hashDir));
      if (selection.tombstone) throw new DiskFileDeleted(selection.tombstone.timestamp);
      if (!selection.data) throw withoutStackTraces(() => new DiskFileNotExist());
      try {
        return await this.loadSelection(selection, options);
      } catch (err) {
        // Replaced between listing and opening: look again once.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt === 0) continue;
        if (err instanceof CorruptFileError) {
          await this.manager.quarantine(this.devPath, this.hashDir, err.message);
          throw new DiskFileQuarantined(err.message);
        }
        throw err;
      }
    }
  }

  private async loadSelection(selection: Selection, options: OpenOptions): Promise<{ file: LoadedFile; state: ObjectState }> {
    const data = selection.data as NonNullable<Selection['data']>;
    const file = await loadFile(join(this.hashDir, data.name));
    try {
      if (this.name !== undefined && file.metadata['name'] !== undefined && file.metadata['name'] !== this.name) {
        throw new DiskFileCollision(this.name, file.metadata['name']);
      }
      let meta: { metadata: Metadata; timestamp: Timestamp } | undefined;
      if (selection.meta) {
        const metaFile = await loadFile(join(this.hashDir, selection.meta.name));
        closeSync(metaFile.fd);
        meta = { metadata: metaFile.metadata, timestamp: selection.meta.timestamp };
      }
      const state = objectState(
        { metadata: file.metadata, timestamp: data.timestamp, contentLength: file.header.dataLength },
        meta,
        this.manager.options.clock.now(),
        options.openExpired,
      );
      return { file, state };
    } catch (err) {
      closeSync(file.fd);
      throw err;
    }
  }

  /** Writes a `.ts` or `.meta` file (metadata only) durably. */
  private async writeSmallFile(kind: FileKind, metadata: Metadata): Promise<void> {
    const metaBytes = encodeMetadata(metadata);
    const { fd, path } = this.openTemp('w');
    try {
      const bytes = Buffer.concat([encodeHeader({ blockSize: 0, dataLength: 0, etag: '' }, metaBytes), metaBytes]);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, done);
      await fdatasyncAsync(fd);
    } catch (err) {
      closeSync(fd);
      removeFile(path);
      throw this.noSpace(err);
    }
    closeSync(fd);
    await this.publish(path, kind, Timestamp.parse(required(metadata, 'X-Timestamp'))).catch((err: unknown) => {
      throw this.noSpace(err);
    });
  }

  /**
   * Renames a finished temp file into the object's directory and makes that durable: the
   * suffix is invalidated first, the directory (and any directory just created, up to the
   * parent of the topmost) fsynced after, those flushes in parallel. Then obsolete files go.
   * A temp file that could not be put in place is removed.
   */
  private async publish(tmpPath: string, kind: FileKind, timestamp: Timestamp): Promise<void> {
    const suffixDir = dirname(this.hashDir);
    const partitionDir = dirname(suffixDir);
    // No rehash of the partition runs meanwhile: one reading the suffix as the file appears
    // could miss it, or remove the still-empty object directory before the rename.
    const created = await this.manager.hashes.changing(partitionDir, basename(suffixDir), (mark) => {
      const made = makeDirs(this.hashDir);
      mark(); // before the rename: a crash between the two only costs a needless rehash
      renameSync(tmpPath, join(this.hashDir, fileName(timestamp, kind)));
      return made;
    }).catch((err: unknown) => {
      // Not in place (a full disk refused the object's directory): nothing will use the file.
      removeFile(tmpPath);
      throw err;
    });
    const flushes = [fsyncDirectory(this.hashDir)];
    if (created !== undefined) {
      for (let dir = suffixDir; ; dir = dirname(dir)) {
        flushes.push(fsyncDirectory(dir));
        if (dir === dirname(created) || dir === dirname(dir)) break;
      }
    }
    await Promise.all(flushes);
    // A directory made just now held nothing older.
    if (created !== undefined) return;
    for (const f of selectFiles(listDir(this.hashDir)).obsolete) removeFile(join(this.hashDir, f.name));
  }
}

/** The names in a directory; none when it does not exist (a new object's, on every PUT). */
function listDir(dir: string): string[] {
  return withoutStackTraces(() => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  });
}

/** 16 hex digits for a temp file name: unique without a system call per file. */
let tempCounter = 0;
const tempPrefix = randomBytes(4).toString('hex');
function tempSuffix(): string {
  tempCounter = (tempCounter + 1) % 0x100000000;
  return `${tempPrefix}${tempCounter.toString(16).padStart(8, '0')}`;
}

function required(metadata: Metadata, key: string): string {
  const value = metadata[key];
  if (value === undefined) throw new TypeError(`metadata needs ${key}`);
  return value;
}
