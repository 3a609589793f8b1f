import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
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
import { closeLoaded, type LoadedFile, loadBytes, loadFile } from './fs-file.ts';
import { DIRECT_READ_MIN_BYTES, FsObjectReader } from './fs-reader.ts';
import { FsObjectWriter } from './fs-writer.ts';
import { AlignedSlabs } from './aligned-slabs.ts';
import { BufferedSink, DirectSink, MemorySink } from './file-sinks.ts';
import { type SuffixFileSource, SuffixHashes } from './hashes.ts';
import { type SmallFileSet, SmallFiles } from './small-files.ts';
import type { KvOpener } from '../../common/db/kv.ts';
import { policyString } from '../../common/storage-policy.ts';
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
  /** Objects expected to be at least this large are written with `O_DIRECT` (default 1 MiB). */
  readonly directWriteMinBytes?: number;
  /**
   * The aligned buffers to use instead of this manager's own (the nodes of one process share
   * one pool, so their memory is counted once). Overrides `directIoBuffers`.
   */
  readonly slabs?: AlignedSlabs;
  /**
   * Keep objects of up to `maxBytes` whose size is known when they are written, and every
   * tombstone and `.meta`, in one database per device (`SmallFiles`, opened with `open`)
   * instead of a directory and file each. Absent: every file is a file.
   */
  readonly smallObjects?: { readonly maxBytes: number; readonly open: KvOpener };
  /**
   * The storage policy whose objects this manager keeps (default 0): its directories are
   * Swift's `objects-<N>`, `tmp-<N>` and `quarantined/objects-<N>` (plain names for 0), its
   * database `objects-<N>-db`.
   */
  readonly policyIndex?: number;
}

/** Objects expected to be at least this large are written with `O_DIRECT`. */
const DIRECT_IO_MIN_BYTES = 1024 * 1024;
const DIRECT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT;

/**
 * The on-disk DiskFile implementation. Layout, as Swift's:
 * `<devices>/<device>/objects/<partition>/<suffix>/<hash>/<timestamp>.data|.ts|.meta`, where
 * `<suffix>` is the last 3 hex digits of the object's hash; writes go through
 * `<device>/tmp`; corrupt objects move to `<device>/quarantined/objects/<hash>`. A manager
 * keeps one storage policy's objects: policy N's directories are `objects-N`, `tmp-N`,
 * `quarantined/objects-N`.
 */
export class FsDiskFileManager implements DiskFileManager {
  readonly supports = { durable: true, blockChecksums: true } as const;
  readonly hashes: SuffixHashes;
  /** Objects moved aside since start (recon reports it). */
  quarantinedCount = 0;
  readonly options: Required<Omit<FsDiskFileOptions, 'slabs' | 'smallObjects'>>;
  /** The policy's object directory on each device (`objects`, `objects-1`, ...). */
  readonly datadir: string;
  /** The policy's temp directory on each device (`tmp`, `tmp-1`, ...). */
  readonly tmpdir: string;
  /** Where small objects' files are kept, when they are kept apart. */
  readonly small: SmallFiles | undefined;
  readonly smallMaxBytes: number;
  /** Partition directories known to exist (a small write makes its own, for `hashes.json`). */
  private readonly knownPartitions = new Set<string>();
  /** Aligned buffers for direct writes; undefined when they are off. */
  readonly slabs: AlignedSlabs | undefined;
  private readonly devices: DeviceChecker;

  constructor(options: FsDiskFileOptions) {
    this.options = { reclaimAgeSeconds: 7 * 24 * 3600, blockSize: DEFAULT_BLOCK_SIZE, directIoBuffers: 24, directWriteMinBytes: DIRECT_IO_MIN_BYTES, policyIndex: 0, ...options };
    this.datadir = policyString('objects', this.options.policyIndex);
    this.tmpdir = policyString('tmp', this.options.policyIndex);
    this.slabs = options.slabs ?? (this.options.directIoBuffers > 0 ? newSlabPool(this.options.directIoBuffers) : undefined);
    this.devices = new DeviceChecker(options);
    const small = options.smallObjects
      ? new SmallFiles({ devices: options.devices, mountCheck: options.mountCheck, clock: options.clock, open: options.smallObjects.open, datadir: `${this.datadir}-db`, quarantine: (...args) => this.quarantineRecord(...args) })
      : undefined;
    this.small = small;
    this.smallMaxBytes = options.smallObjects?.maxBytes ?? -1;
    this.hashes = new SuffixHashes({ clock: options.clock, reclaimAgeSeconds: this.options.reclaimAgeSeconds, ...(small ? { source: smallFileSource(small) } : {}) });
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
    const names = await readdir(join(dev, this.datadir)).catch(() => [] as string[]);
    const onDisk = names.filter((n) => /^\d+$/.test(n)).map(Number);
    if (!this.small) return onDisk;
    return [...new Set([...onDisk, ...(await this.small.partitions(device))])].sort((a, b) => a - b);
  }

  async *objects(device: string, partition: number, suffixes?: readonly string[]): AsyncGenerator<ObjectEntry> {
    const dev = await this.devices.path(device);
    const partitionDir = join(dev, this.datadir, String(partition));
    const wanted = suffixes ? new Set(suffixes) : undefined;
    // `<suffix>/<hash>` → the names of its files, on disk and in the database alike.
    const objects = new Map<string, Set<string>>();
    const add = (suffix: string, hash: string, names: Iterable<string>): void => {
      const key = `${suffix}/${hash}`;
      const set = objects.get(key) ?? new Set<string>();
      for (const n of names) set.add(n);
      objects.set(key, set);
    };
    const all = await readdir(partitionDir).catch(() => [] as string[]);
    for (const suffix of all.filter((n) => /^[0-9a-f]{3}$/.test(n) && (!wanted || wanted.has(n)))) {
      for (const hash of await readdir(join(partitionDir, suffix)).catch(() => [] as string[])) {
        add(suffix, hash, await readdir(join(partitionDir, suffix, hash)).catch(() => [] as string[]));
      }
    }
    if (this.small) {
      for (const suffix of wanted ?? [undefined]) {
        for await (const o of this.small.objects(device, partition, suffix)) add(o.suffix, o.hash, o.files.keys());
      }
    }
    for (const key of [...objects.keys()].sort()) {
      const [suffix, hash] = key.split('/') as [string, string];
      const entry = entryOf([...(objects.get(key) as Set<string>)]);
      if (entry) yield { hash, suffix, ...entry };
    }
  }

  async removePartition(device: string, partition: number): Promise<void> {
    const dev = await this.devices.path(device);
    const partitionDir = join(dev, this.datadir, String(partition));
    await rm(partitionDir, { recursive: true, force: true });
    await this.small?.removePartition(device, partition);
    this.hashes.forget(partitionDir);
    this.knownPartitions.delete(partitionDir);
  }

  async removeIfUnchanged(device: string, partition: number, entry: ObjectEntry): Promise<boolean> {
    const dev = await this.devices.path(device);
    const partitionDir = join(dev, this.datadir, String(partition));
    const hashDir = join(partitionDir, entry.suffix, entry.hash);
    const small = (await this.small?.files(device, partition, entry.hash)) ?? NO_FILES;
    if (!sameEntry(entryOf([...(await readdir(hashDir).catch(() => [] as string[])), ...small.keys()]), entry)) return false;
    await rm(hashDir, { recursive: true, force: true });
    // Only the files compared: one written since stays.
    if (small.size > 0) await this.small?.update(device, partition, entry.hash, (now) => without(now, small.keys()));
    await this.hashes.invalidate(partitionDir, entry.suffix).catch(() => undefined);
    return true;
  }

  async quarantineByHash(device: string, partition: number, hash: string, reason: string): Promise<void> {
    const dev = await this.devices.path(device);
    await this.quarantine(dev, device, partition, hash, reason);
  }

  async getHashes(device: string, partition: number, recalculate: readonly string[] = []): Promise<Record<string, string>> {
    const dev = await this.devices.path(device);
    return this.hashes.get(join(dev, this.datadir, String(partition)), recalculate);
  }

  /**
   * Moves a corrupt object's files aside (its directory, and its files from the database
   * written out beside them) and marks its suffix for rehashing.
   */
  async quarantine(devPath: string, device: string, partition: number, hash: string, reason: string): Promise<void> {
    const partitionDir = join(devPath, this.datadir, String(partition));
    const hashDir = join(partitionDir, hash.slice(-3), hash);
    let target = join(devPath, 'quarantined', this.datadir, hash);
    await mkdir(dirname(target), { recursive: true });
    await rename(hashDir, target).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return;
      target = `${target}-${randomBytes(4).toString('hex')}`;
      await rename(hashDir, target).catch(() => undefined);
    });
    const small = (await this.small?.files(device, partition, hash)) ?? NO_FILES;
    if (small.size > 0) {
      await mkdir(target, { recursive: true });
      for (const [name, bytes] of small) await writeFile(join(target, name), bytes);
      await this.small?.update(device, partition, hash, (now) => without(now, small.keys()));
    }
    await this.hashes.invalidate(partitionDir, hash.slice(-3)).catch(() => undefined);
    this.quarantinedCount += 1;
    this.options.logger.warn('object quarantined', { path: hashDir, reason });
  }

  /** Writes an undecodable record of the database out under `quarantined/<datadir>/<hash>`. */
  private async quarantineRecord(device: string, partition: number, hash: string, record: Uint8Array): Promise<void> {
    const target = join(await this.devices.path(device), 'quarantined', this.datadir, hash);
    await mkdir(target, { recursive: true });
    await writeFile(join(target, `record-${randomBytes(4).toString('hex')}.msgpack`), record);
    this.quarantinedCount += 1;
    this.options.logger.warn('object quarantined', { device, partition, hash, reason: 'its database record cannot be decoded' });
  }

  /**
   * After a write to the database (which marked its suffix changed durably, in the same
   * batch): marks the suffix in the cached hashes too, and makes the partition directory on
   * first use, for the `hashes.json` that rehashing saves.
   */
  async smallFileWritten(partitionDir: string, suffix: string): Promise<void> {
    if (!this.knownPartitions.has(partitionDir)) {
      makeDirs(partitionDir);
      this.knownPartitions.add(partitionDir);
    }
    await this.hashes.noteChanged(partitionDir, suffix);
  }

  /**
   * Removes temp files that no live process is writing: left by a crash. Called at start.
   * Temp names begin with the writer's pid, so files of a sibling process are kept.
   */
  async cleanupTempFiles(): Promise<number> {
    let removed = 0;
    const devices = await readdir(this.options.devices).catch(() => [] as string[]);
    for (const device of devices) {
      const tmp = join(this.options.devices, device, this.tmpdir);
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
    // Files are not held open between requests; the small files' databases are.
    await this.small?.close();
  }
}

/** `count` 1 MiB aligned buffers for direct I/O (made on first use). */
export function newSlabPool(count: number): AlignedSlabs {
  return new AlignedSlabs({ slabBytes: 1024 * 1024, count });
}

/** The small files of a partition directory, for suffix hashing. */
function smallFileSource(small: SmallFiles): SuffixFileSource {
  // `<devices>/<device>/<datadir>/<partition>`
  const where = (partitionDir: string): { device: string; partition: number } => ({ device: basename(dirname(dirname(partitionDir))), partition: Number(basename(partitionDir)) });
  return {
    suffixes: (partitionDir) => {
      const { device, partition } = where(partitionDir);
      return small.suffixes(device, partition);
    },
    names: async (partitionDir, suffix) => {
      const { device, partition } = where(partitionDir);
      const out = new Map<string, string[]>();
      for await (const o of small.objects(device, partition, suffix)) out.set(o.hash, [...o.files.keys()]);
      return out;
    },
    remove: (partitionDir, hash, names) => {
      const { device, partition } = where(partitionDir);
      return small.update(device, partition, hash, (now) => without(now, names), { markChanged: false });
    },
    changed: (partitionDir) => {
      const { device, partition } = where(partitionDir);
      return small.changed(device, partition);
    },
  };
}

/** `files` without `names` (the same map when none of them is there). */
function without(files: SmallFileSet, names: Iterable<string>): SmallFileSet {
  const gone = [...names].filter((n) => files.has(n));
  if (gone.length === 0) return files;
  const kept = new Map(files);
  for (const n of gone) kept.delete(n);
  return kept;
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
  private readonly partition: number;
  private readonly hashDir: string;
  /** `/a/c/o`; undefined when opened by hash (then the files' own name is used). */
  private readonly name: string | undefined;

  constructor(manager: FsDiskFileManager, devPath: string, device: string, partition: number, hash: string, name: string | undefined) {
    this.manager = manager;
    this.devPath = devPath;
    this.device = device;
    this.partition = partition;
    this.hash = hash;
    this.hashDir = join(devPath, manager.datadir, String(partition), hash.slice(-3), hash);
    this.name = name;
  }

  async readMetadata(options: OpenOptions = {}): Promise<ObjectState> {
    const { file, state } = await this.load(options);
    closeLoaded(file);
    return state;
  }

  async open(options: OpenOptions = {}): Promise<ObjectReader> {
    const { file, state } = await this.load(options);
    const quarantine = (reason: string): Promise<void> => this.manager.quarantine(this.devPath, this.device, this.partition, this.hash, reason);
    const slabs = this.manager.slabs;
    const slab = state.contentLength >= DIRECT_READ_MIN_BYTES && file.fd !== undefined ? slabs?.take() : undefined;
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
    const timestamp = (metadata: Metadata): Timestamp => Timestamp.parse(required(metadata, 'X-Timestamp'));
    if (this.manager.small && expectedSize !== undefined && expectedSize <= this.manager.smallMaxBytes) {
      const sink = new MemorySink();
      return new FsObjectWriter(sink, undefined, this.manager.options.blockSize, (metadata) => this.publishSmall('data', timestamp(metadata), sink.bytes()), this.noSpace);
    }
    const slab = expectedSize !== undefined && expectedSize >= this.manager.options.directWriteMinBytes ? this.manager.slabs?.take() : undefined;
    if (slab) {
      try {
        const { fd, path } = this.openTemp(DIRECT_FLAGS);
        return new FsObjectWriter(new DirectSink(fd, this.manager.slabs as AlignedSlabs, slab), path, this.manager.options.blockSize, (metadata) => this.publish(path, 'data', timestamp(metadata)), this.noSpace);
      } catch (err) {
        this.manager.slabs?.give(slab);
        // A file system without O_DIRECT (tmpfs) refuses it at open: use the page cache.
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
    const { fd, path } = this.openTemp('w');
    return new FsObjectWriter(new BufferedSink(fd), path, this.manager.options.blockSize, (metadata) => this.publish(path, 'data', timestamp(metadata)), this.noSpace);
  }

  private readonly noSpace = (err: unknown): unknown => asNoSpace(this.device, err);

  /** A new temp file under the device's temp directory (made on first use). */
  private openTemp(flags: string | number): { fd: number; path: string } {
    const tmpDir = join(this.devPath, this.manager.tmpdir);
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
      const { names, small } = await this.listing();
      const selection = selectFiles(names);
      if (selection.tombstone) throw new DiskFileDeleted(selection.tombstone.timestamp);
      if (!selection.data) throw withoutStackTraces(() => new DiskFileNotExist());
      try {
        return await this.loadSelection(selection, small, options);
      } catch (err) {
        // Replaced between listing and opening: look again once.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt === 0) continue;
        if (err instanceof CorruptFileError) {
          await this.manager.quarantine(this.devPath, this.device, this.partition, this.hash, err.message);
          throw new DiskFileQuarantined(err.message);
        }
        throw err;
      }
    }
  }

  /**
   * The object's files: the names in its directory and in the device's database, and the bytes
   * of those in the database.
   */
  private async listing(): Promise<{ small: SmallFileSet; names: string[] }> {
    const onDisk = listDir(this.hashDir);
    const small = this.manager.small ? await this.manager.small.files(this.device, this.partition, this.hash) : NO_FILES;
    return { small, names: small.size === 0 ? onDisk : [...onDisk, ...small.keys()] };
  }

  /** A file of the object, from the database when it is there. */
  private async loadNamed(name: string, small: SmallFileSet): Promise<LoadedFile> {
    const bytes = small.get(name);
    return bytes ? loadBytes(join(this.hashDir, name), bytes) : loadFile(join(this.hashDir, name));
  }

  private async loadSelection(selection: Selection, small: SmallFileSet, options: OpenOptions): Promise<{ file: LoadedFile; state: ObjectState }> {
    const data = selection.data as NonNullable<Selection['data']>;
    const file = await this.loadNamed(data.name, small);
    try {
      if (this.name !== undefined && file.metadata['name'] !== undefined && file.metadata['name'] !== this.name) {
        throw new DiskFileCollision(this.name, file.metadata['name']);
      }
      let meta: { metadata: Metadata; timestamp: Timestamp } | undefined;
      if (selection.meta) {
        const metaFile = await this.loadNamed(selection.meta.name, small);
        closeLoaded(metaFile);
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
      closeLoaded(file);
      throw err;
    }
  }

  /** Writes a `.ts` or `.meta` file (metadata only) durably. */
  private async writeSmallFile(kind: FileKind, metadata: Metadata): Promise<void> {
    const metaBytes = encodeMetadata(metadata);
    const bytes = Buffer.concat([encodeHeader({ blockSize: 0, dataLength: 0, etag: '' }, metaBytes), metaBytes]);
    if (this.manager.small) return this.publishSmall(kind, Timestamp.parse(required(metadata, 'X-Timestamp')), bytes);
    const { fd, path } = this.openTemp('w');
    try {
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
   * Stores a finished file in the device's database (durable when this resolves; writes that
   * arrive together share one flush, and the mark of its suffix as changed goes in the same
   * batch), removes the files it makes obsolete, then marks the suffix in the cached hashes:
   * after the write, so a rehash that ran meanwhile has not cleared that mark.
   */
  private async publishSmall(kind: FileKind, timestamp: Timestamp, bytes: Uint8Array): Promise<void> {
    const small = this.manager.small as SmallFiles;
    const name = fileName(timestamp, kind);
    const onDisk = listDir(this.hashDir);
    let obsolete = new Set<string>();
    // Worked out under the object's lock, from the files as they are then.
    await small.update(this.device, this.partition, this.hash, (files) => {
      obsolete = new Set(selectFiles([...onDisk, ...files.keys(), name]).obsolete.map((f) => f.name));
      // The new file itself may be obsolete (replication brought something newer): as a file renamed in and removed.
      const kept = new Map([...files].filter(([n]) => !obsolete.has(n)));
      if (!obsolete.has(name)) kept.set(name, bytes);
      return kept;
    });
    for (const old of onDisk) if (obsolete.has(old)) removeFile(join(this.hashDir, old));
    const suffixDir = dirname(this.hashDir);
    await this.manager.smallFileWritten(dirname(suffixDir), basename(suffixDir)).catch((err: unknown) => {
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

const NO_FILES: SmallFileSet = new Map();

/**
 * The names in a directory; none when it does not exist (a new object's on every PUT, and a
 * small object's, which lives in the database). Asking first costs those one `stat` and no
 * exception: a failed `readdirSync` (an `openat`, then an error object) cost them about twice as much.
 */
function listDir(dir: string): string[] {
  if (!existsSync(dir)) return [];
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
