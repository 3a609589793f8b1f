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

/** `OrderedKv` over one LevelDB (classic-level): UTF-8 string keys, byte values. */
export class LevelKv implements OrderedKv {
  private readonly db: ClassicLevel<string, Uint8Array>;
  private readonly sync: boolean;

  private constructor(db: ClassicLevel<string, Uint8Array>, sync: boolean) {
    this.db = db;
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
    return new LevelKv(db, options.sync ?? false);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  getSync(key: string): Uint8Array | undefined {
    // Not the utf8 key path: classic-level 3.0.0 writes a utf8 key into a shared buffer and
    // grows it only when the write fills it exactly, but Buffer#write stops short of a
    // multi-byte character that does not fit, so a longer non-ASCII key was looked up cut
    // short and not found (a container row that a DELETE left listed). The key's own bytes go.
    return this.db.getSync(Buffer.from(key, 'utf8'), { keyEncoding: 'buffer' });
  }

  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return this.db.getMany([...keys]);
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.db
      .batch(
        ops.map((op) => (op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value } : { type: 'del' as const, key: op.key })),
        { sync: this.sync },
      )
      .catch((err: unknown) => {
        throw asDatabaseNoSpace(err);
      });
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
