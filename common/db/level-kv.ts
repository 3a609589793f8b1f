import { type FileHandle, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { DatabaseNoSpaceError } from './errors.ts';
import type { KvEntry, KvIterator, KvOp, KvOpener, KvRange, OrderedKv } from './kv.ts';

/** How a device's LevelDB is opened. */
export interface LevelKvOptions {
  /**
   * fsync every batch (the servers turn it on through `db_fsync`, default true: a storage
   * server acknowledges only what survives a crash; concurrent updates share one batch).
   */
  readonly sync?: boolean;
  /** LevelDB's block cache in bytes. */
  readonly cacheSize?: number;
}

/** Bytes an iterator reads ahead per native call: large, so a 10,000-row listing takes a few. */
const ITERATOR_READ_AHEAD = 1 << 20;

/** LevelDB's write-ahead logs: `<number>.log` (its info log is `LOG`). */
const LOG_FILE = /^\d+\.log$/;

/** `OrderedKv` over one LevelDB (classic-level): UTF-8 string keys, byte values. */
export class LevelKv implements OrderedKv {
  private readonly db: ClassicLevel<string, Uint8Array>;
  private readonly path: string;
  private readonly sync: boolean;

  private constructor(db: ClassicLevel<string, Uint8Array>, path: string, sync: boolean) {
    this.db = db;
    this.path = path;
    this.sync = sync;
  }

  /** Opens (creating when missing) the LevelDB at `path`. */
  static async open(path: string, options: LevelKvOptions = {}): Promise<LevelKv> {
    // A node opens two of these per device (accounts, containers), so each stays modest:
    // bounded cache and memtable, and bigger table files so a large database needs fewer
    // open file handles.
    const db = new ClassicLevel<string, Uint8Array>(path, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
      cacheSize: options.cacheSize ?? 8 * 1024 * 1024,
      writeBufferSize: 8 * 1024 * 1024,
      maxFileSize: 8 * 1024 * 1024,
      maxOpenFiles: 500,
    });
    await db.open().catch((err: unknown) => {
      throw asDatabaseNoSpace(err);
    });
    return new LevelKv(db, path, options.sync ?? false);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  getSync(key: string): Uint8Array | undefined {
    return this.db.getSync(key);
  }

  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return this.db.getMany([...keys]);
  }

  async batch(ops: readonly KvOp[], options: { readonly sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    await this.db
      .batch(
        ops.map((op) => (op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value } : { type: 'del' as const, key: op.key })),
        { sync: this.sync && options.sync !== false },
      )
      .catch((err: unknown) => {
        throw asDatabaseNoSpace(err);
      });
  }

  /**
   * LevelDB appends every batch to its current log and hands it to the kernel at once (a
   * process crash keeps it); an fdatasync of that file makes all of them durable. It is done on
   * a descriptor of our own, not as a synced LevelDB write, which would hold up every other
   * write to the database for the flush's duration. LevelDB 1.20 starts a new log when the
   * memtable fills and closes the old one without syncing it; that one's batches are durable
   * only once the memtable is a table (synced) and the old log removed: so false while more
   * than one log is there (or the one read was removed meanwhile), and the caller tries again.
   */
  async flush(): Promise<boolean> {
    if (!this.sync) return true;
    const logs = (await readdir(this.path)).filter((name) => LOG_FILE.test(name));
    if (logs.length !== 1) return logs.length === 0;
    let file: FileHandle;
    try {
      file = await open(join(this.path, logs[0] as string), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw asDatabaseNoSpace(err);
    }
    try {
      await file.datasync();
    } finally {
      await file.close();
    }
    return true;
  }

  iterator(range: KvRange): KvIterator {
    const it = this.db.iterator({ ...range, highWaterMarkBytes: ITERATOR_READ_AHEAD });
    return {
      nextv: (size) => it.nextv(size) as Promise<KvEntry[]>,
      seek: (target) => it.seek(target),
      close: () => it.close(),
    };
  }

  clear(range: KvRange): Promise<void> {
    return this.db.clear(range).catch((err: unknown) => {
      throw asDatabaseNoSpace(err);
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * A full disk under LevelDB as `DatabaseNoSpaceError`; any other error as it is. It comes as
 * `ENOSPC`/`EDQUOT` from making the database's directory (the cause of a failed open) or as
 * LevelDB's own `LEVEL_IO_ERROR`, which passes on no errno, only a message ending in the C
 * library's text for them.
 */
export function asDatabaseNoSpace(err: unknown): unknown {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device|disk quota exceeded/i.test(e.message)) return new DatabaseNoSpaceError({ cause: err });
  }
  return err;
}

/** A `KvOpener` for `DeviceDbs` that opens LevelDBs. */
export function levelKvOpener(options: LevelKvOptions = {}): KvOpener {
  return (path) => LevelKv.open(path, options);
}
