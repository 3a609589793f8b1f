import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { DeviceUnavailableError } from '../../common/errors.ts';
import type { HashPath } from '../../common/hash-path.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { DiskFileDeleted, DiskFileNotExist } from './errors.ts';
import { entryOf, type FileKind, fileName, objectState, sameEntry, selectFiles } from './ondisk.ts';
import type { DiskFile, DiskFileManager, Metadata, ObjectEntry, ObjectLocation, ObjectReader, ObjectState, ObjectWriter, OpenOptions } from './types.ts';

interface MemoryFile {
  readonly metadata: Metadata;
  readonly data: Buffer;
}

/** One object's directory: file name → file. */
type HashDir = Map<string, MemoryFile>;

/**
 * The in-memory twin of the fs DiskFile: the same selection and merge rules over maps, for
 * fast tests of everything above the disk. `devices` is the set of devices that are "mounted";
 * tests may change it.
 */
export class MemoryDiskFileManager implements DiskFileManager {
  readonly supports = { durable: false, blockChecksums: false } as const;
  readonly devices: Set<string>;
  readonly hashPath: HashPath;
  readonly clock: Clock;
  readonly reclaimAgeSeconds: number;
  /** `<device>/<partition>` → hash → files. */
  private readonly store = new Map<string, Map<string, HashDir>>();
  /** Hashes quarantined, by `<device>/<partition>`. */
  readonly quarantined: string[] = [];

  constructor(options: { devices: Iterable<string>; hashPath: HashPath; clock: Clock; reclaimAgeSeconds?: number }) {
    this.devices = new Set(options.devices);
    this.hashPath = options.hashPath;
    this.clock = options.clock;
    this.reclaimAgeSeconds = options.reclaimAgeSeconds ?? 7 * 24 * 3600;
  }

  async diskFile(location: ObjectLocation): Promise<DiskFile> {
    this.checkDevice(location.device);
    const hash = this.hashPath.hash(location.account, location.container, location.object);
    return new MemoryDiskFile(this, location.device, location.partition, hash, `/${location.account}/${location.container}/${location.object}`);
  }

  async diskFileByHash(device: string, partition: number, hash: string): Promise<DiskFile> {
    this.checkDevice(device);
    return new MemoryDiskFile(this, device, partition, hash, undefined);
  }

  async partitions(device: string): Promise<number[]> {
    this.checkDevice(device);
    return [...this.store.keys()].filter((k) => k.startsWith(`${device}/`) && (this.store.get(k)?.size ?? 0) > 0).map((k) => Number(k.slice(device.length + 1)));
  }

  async *objects(device: string, partition: number, suffixes?: readonly string[]): AsyncGenerator<ObjectEntry> {
    this.checkDevice(device);
    const dirs = this.store.get(`${device}/${partition}`) ?? new Map<string, HashDir>();
    const wanted = suffixes ? new Set(suffixes) : undefined;
    const hashes = [...dirs.keys()].filter((h) => !wanted || wanted.has(h.slice(-3))).sort((a, b) => (a.slice(-3) + a < b.slice(-3) + b ? -1 : 1));
    for (const hash of hashes) {
      const entry = entryOf([...(dirs.get(hash)?.keys() ?? [])]);
      if (entry) yield { hash, suffix: hash.slice(-3), ...entry };
    }
  }

  async removePartition(device: string, partition: number): Promise<void> {
    this.checkDevice(device);
    this.store.delete(`${device}/${partition}`);
  }

  async removeIfUnchanged(device: string, partition: number, entry: ObjectEntry): Promise<boolean> {
    this.checkDevice(device);
    const dirs = this.store.get(`${device}/${partition}`);
    if (!sameEntry(entryOf([...(dirs?.get(entry.hash)?.keys() ?? [])]), entry)) return false;
    dirs?.delete(entry.hash);
    return true;
  }

  async quarantineByHash(device: string, partition: number, hash: string): Promise<void> {
    this.store.get(`${device}/${partition}`)?.delete(hash);
    this.quarantined.push(hash);
  }

  async getHashes(device: string, partition: number, _recalculate: readonly string[] = []): Promise<Record<string, string>> {
    this.checkDevice(device);
    // Hashes are computed afresh every time, so nothing needs recalculating on request.
    const dirs = this.store.get(`${device}/${partition}`);
    const bySuffix = new Map<string, string[]>();
    for (const [hash, dir] of [...(dirs ?? new Map<string, HashDir>())].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const selection = selectFiles([...dir.keys()]);
      for (const f of selection.obsolete) dir.delete(f.name);
      const ts = selection.tombstone;
      if (ts && ts.timestamp.seconds < this.clock.now() / 1000 - this.reclaimAgeSeconds) dir.delete(ts.name);
      if (dir.size === 0) {
        dirs?.delete(hash);
        continue;
      }
      const suffix = hash.slice(-3);
      const parts = bySuffix.get(suffix) ?? [];
      parts.push(hash, ...[...dir.keys()].sort());
      bySuffix.set(suffix, parts);
    }
    const out: Record<string, string> = {};
    for (const [suffix, parts] of bySuffix) {
      const md5 = createHash('md5');
      for (const p of parts) md5.update(p);
      out[suffix] = md5.digest('hex');
    }
    return out;
  }

  async close(): Promise<void> {
    this.store.clear();
  }

  /** The files of one object, created on first write. */
  hashDir(device: string, partition: number, hash: string, create: boolean): HashDir | undefined {
    const key = `${device}/${partition}`;
    let dirs = this.store.get(key);
    if (!dirs) {
      if (!create) return undefined;
      this.store.set(key, (dirs = new Map()));
    }
    let dir = dirs.get(hash);
    if (!dir && create) dirs.set(hash, (dir = new Map()));
    return dir;
  }

  private checkDevice(device: string): void {
    if (!this.devices.has(device)) throw new DeviceUnavailableError(device, 'not in this memory store');
  }
}

class MemoryDiskFile implements DiskFile {
  readonly hash: string;
  private readonly manager: MemoryDiskFileManager;
  private readonly device: string;
  private readonly partition: number;
  /** `/a/c/o`; undefined when opened by hash. */
  private readonly name: string | undefined;

  constructor(manager: MemoryDiskFileManager, device: string, partition: number, hash: string, name: string | undefined) {
    this.manager = manager;
    this.device = device;
    this.partition = partition;
    this.hash = hash;
    this.name = name;
  }

  async readMetadata(options: OpenOptions = {}): Promise<ObjectState> {
    return (await this.load(options)).state;
  }

  async open(options: OpenOptions = {}): Promise<ObjectReader> {
    const { state, data } = await this.load(options);
    return {
      ...state,
      async *read(start = 0, end = data.length) {
        const from = Math.max(0, start);
        const to = Math.min(end, data.length);
        // Copy, so a reader never sees a later change.
        if (from < to) yield Buffer.from(data.subarray(from, to));
      },
      close: async () => {},
      lends: false,
    };
  }

  async create(): Promise<ObjectWriter> {
    const chunks: Buffer[] = [];
    let finished = false;
    const writer: ObjectWriter = {
      bytesWritten: 0,
      write: async (chunk) => {
        if (finished) throw new Error('write after commit or abort');
        chunks.push(Buffer.from(chunk));
        (writer as { bytesWritten: number }).bytesWritten += chunk.length;
      },
      commit: async (metadata) => {
        if (finished) throw new Error('commit after commit or abort');
        if (Number(metadata['Content-Length']) !== writer.bytesWritten) {
          throw new Error(`Content-Length ${metadata['Content-Length']} but ${writer.bytesWritten} bytes written`);
        }
        finished = true;
        this.put('data', { ...metadata }, Buffer.concat(chunks));
      },
      abort: async () => {
        finished = true;
      },
    };
    return writer;
  }

  async delete(timestamp: Timestamp): Promise<void> {
    this.put('ts', { 'X-Timestamp': timestamp.internal, ...(this.name !== undefined ? { name: this.name } : {}) }, Buffer.alloc(0));
  }

  async writeMetadata(metadata: Metadata): Promise<void> {
    this.put('meta', { ...metadata, ...(this.name !== undefined ? { name: this.name } : {}) }, Buffer.alloc(0));
  }

  private put(kind: FileKind, metadata: Metadata, data: Buffer): void {
    const timestamp = Timestamp.parse(metadata['X-Timestamp'] ?? '');
    const dir = this.manager.hashDir(this.device, this.partition, this.hash, true) as HashDir;
    dir.set(fileName(timestamp, kind), { metadata, data });
    for (const f of selectFiles([...dir.keys()]).obsolete) dir.delete(f.name);
  }

  private async load(options: OpenOptions): Promise<{ state: ObjectState; data: Buffer }> {
    const dir = this.manager.hashDir(this.device, this.partition, this.hash, false);
    const selection = selectFiles([...(dir?.keys() ?? [])]);
    if (selection.tombstone) throw new DiskFileDeleted(selection.tombstone.timestamp);
    if (!selection.data || !dir) throw new DiskFileNotExist();
    const dataFile = dir.get(selection.data.name) as MemoryFile;
    const metaFile = selection.meta ? (dir.get(selection.meta.name) as MemoryFile) : undefined;
    const state = objectState(
      { metadata: dataFile.metadata, timestamp: selection.data.timestamp, contentLength: dataFile.data.length },
      metaFile && selection.meta ? { metadata: metaFile.metadata, timestamp: selection.meta.timestamp } : undefined,
      this.manager.clock.now(),
      options.openExpired,
    );
    return { state, data: dataFile.data };
  }
}
