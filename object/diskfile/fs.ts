import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from '../../common/atomic-write.ts';
import type { Clock } from '../../common/clock.ts';
import { devicePath } from '../../common/drive.ts';
import type { HashPath } from '../../common/hash-path.ts';
import type { Logger } from '../../common/logger.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { DiskFileCollision, DiskFileDeleted, DiskFileNoSpace, DiskFileNotExist, DiskFileQuarantined } from './errors.ts';
import { CorruptFileError, DEFAULT_BLOCK_SIZE, encodeHeader, encodeMetadata } from './format.ts';
import { type LoadedFile, loadFile, writevFully } from './fs-file.ts';
import { FsObjectReader } from './fs-reader.ts';
import { FsObjectWriter } from './fs-writer.ts';
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
}

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
  readonly options: Required<FsDiskFileOptions>;

  constructor(options: FsDiskFileOptions) {
    this.options = { reclaimAgeSeconds: 7 * 24 * 3600, blockSize: DEFAULT_BLOCK_SIZE, ...options };
    this.hashes = new SuffixHashes({ clock: options.clock, reclaimAgeSeconds: this.options.reclaimAgeSeconds });
  }

  async diskFile(location: ObjectLocation): Promise<DiskFile> {
    const dev = await devicePath(this.options.devices, location.device, this.options.mountCheck);
    const hash = this.options.hashPath.hash(location.account, location.container, location.object);
    return new FsDiskFile(this, dev, location.device, location.partition, hash, `/${location.account}/${location.container}/${location.object}`);
  }

  async diskFileByHash(device: string, partition: number, hash: string): Promise<DiskFile> {
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
    return new FsDiskFile(this, dev, device, partition, hash, undefined);
  }

  async partitions(device: string): Promise<number[]> {
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
    const names = await readdir(join(dev, 'objects')).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number);
  }

  async *objects(device: string, partition: number, suffixes?: readonly string[]): AsyncGenerator<ObjectEntry> {
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
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
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
    const partitionDir = join(dev, 'objects', String(partition));
    await rm(partitionDir, { recursive: true, force: true });
    this.hashes.forget(partitionDir);
  }

  async removeIfUnchanged(device: string, partition: number, entry: ObjectEntry): Promise<boolean> {
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
    const partitionDir = join(dev, 'objects', String(partition));
    const hashDir = join(partitionDir, entry.suffix, entry.hash);
    if (!sameEntry(entryOf(await readdir(hashDir).catch(() => [] as string[])), entry)) return false;
    await rm(hashDir, { recursive: true, force: true });
    await this.hashes.invalidate(partitionDir, entry.suffix).catch(() => undefined);
    return true;
  }

  async quarantineByHash(device: string, partition: number, hash: string, reason: string): Promise<void> {
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
    await this.quarantine(dev, join(dev, 'objects', String(partition), hash.slice(-3), hash), reason);
  }

  async getHashes(device: string, partition: number, recalculate: readonly string[] = []): Promise<Record<string, string>> {
    const dev = await devicePath(this.options.devices, device, this.options.mountCheck);
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
    await file.handle.close();
    return state;
  }

  async open(options: OpenOptions = {}): Promise<ObjectReader> {
    const { file, state } = await this.load(options);
    return new FsObjectReader(file, state, (reason) => this.manager.quarantine(this.devPath, this.hashDir, reason));
  }

  async create(): Promise<ObjectWriter> {
    const tmpDir = join(this.devPath, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = join(tmpDir, `${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(tmpPath, 'w', 0o644).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOSPC' ? new DiskFileNoSpace(`${this.device} is full`, { cause: err }) : err;
    });
    return new FsObjectWriter(handle, tmpPath, this.manager.options.blockSize, (tmp, metadata) =>
      this.publish(tmp, 'data', Timestamp.parse(required(metadata, 'X-Timestamp'))),
    );
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
      const selection = selectFiles(await readdir(this.hashDir).catch(() => [] as string[]));
      if (selection.tombstone) throw new DiskFileDeleted(selection.tombstone.timestamp);
      if (!selection.data) throw new DiskFileNotExist();
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
        await metaFile.handle.close();
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
      await file.handle.close();
      throw err;
    }
  }

  /** Writes a `.ts` or `.meta` file (metadata only) durably. */
  private async writeSmallFile(kind: FileKind, metadata: Metadata): Promise<void> {
    const tmpDir = join(this.devPath, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmpPath = join(tmpDir, `${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
    const metaBytes = encodeMetadata(metadata);
    const handle = await open(tmpPath, 'w', 0o644);
    try {
      await writevFully(handle, [encodeHeader({ blockSize: 0, dataLength: 0, etag: '' }, metaBytes), metaBytes], 0);
      await handle.datasync();
    } catch (err) {
      await handle.close();
      await unlink(tmpPath).catch(() => undefined);
      throw (err as NodeJS.ErrnoException).code === 'ENOSPC' ? new DiskFileNoSpace(`${this.device} is full`, { cause: err }) : err;
    }
    await handle.close();
    await this.publish(tmpPath, kind, Timestamp.parse(required(metadata, 'X-Timestamp')));
  }

  /**
   * Renames a finished temp file into the object's directory and makes that durable: the
   * suffix is invalidated first, the directory (and any directory just created) fsynced after.
   * Then obsolete files go.
   */
  private async publish(tmpPath: string, kind: FileKind, timestamp: Timestamp): Promise<void> {
    const suffixDir = dirname(this.hashDir);
    const partitionDir = dirname(suffixDir);
    const created = await mkdir(this.hashDir, { recursive: true });
    await this.manager.hashes.invalidate(partitionDir, basename(suffixDir));
    await rename(tmpPath, join(this.hashDir, fileName(timestamp, kind)));
    await fsyncDir(this.hashDir);
    if (created !== undefined) {
      // New directories are durable only once their parents' entries are: fsync from the
      // suffix directory up to the parent of the first directory created.
      for (let dir = suffixDir; ; dir = dirname(dir)) {
        await fsyncDir(dir);
        if (dir === dirname(created) || dir === dirname(dir)) break;
      }
    }
    const names = await readdir(this.hashDir).catch(() => [] as string[]);
    await Promise.all(selectFiles(names).obsolete.map((f) => unlink(join(this.hashDir, f.name)).catch(() => undefined)));
  }
}

function required(metadata: Metadata, key: string): string {
  const value = metadata[key];
  if (value === undefined) throw new TypeError(`metadata needs ${key}`);
  return value;
}
