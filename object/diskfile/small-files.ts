import { pack, unpack } from 'msgpackr';
import { DeviceDbs } from '../../common/db/device-dbs.ts';
import { DatabaseNoSpaceError } from '../../common/db/errors.ts';
import type { KvOp, KvOpener, OrderedKv } from '../../common/db/kv.ts';
import { WriteQueue } from '../../common/db/write-queue.ts';
import type { Clock } from '../../common/clock.ts';
import { KeyedLock } from '../../common/keyed-lock.ts';
import { DiskFileNoSpace } from './errors.ts';

/** Records read per iterator step. */
const PAGE = 128;

/**
 * Where changed-suffix marks are kept: `changed/<partition>/<suffix>/<sequence>`. Past every
 * record key (those begin with a partition number), so record ranges never meet them.
 */
const CHANGED = 'changed/';

/** An object's files kept in the database: file name → the file's bytes. */
export type SmallFileSet = ReadonlyMap<string, Uint8Array>;

const NONE: SmallFileSet = new Map();

export interface SmallFilesOptions {
  /** The devices root (`[storage] devices`). */
  readonly devices: string;
  readonly mountCheck: boolean;
  readonly clock: Clock;
  /** Opens `<device>/<datadir>` (a LevelDB that syncs every batch, in a server). */
  readonly open: KvOpener;
  /** The database's directory on each device: `objects-db` (default; policy N's is `objects-N-db`). */
  readonly datadir?: string;
  /**
   * Keeps aside a record that cannot be decoded (the bytes around the files, not a file's own
   * checksums, which the readers check): quarantine. The record leaves the database after.
   */
  readonly quarantine: (device: string, partition: number, hash: string, record: Uint8Array) => Promise<void>;
}

/**
 * The files of small objects, kept in one database per device (`<device>/objects-db`) instead
 * of a directory per object. A file here is the same bytes, in the same format (header, block
 * checksums, metadata) as it would be on disk; only where it lives differs. Changes that arrive
 * together go to the database as one synced batch (a group commit): one flush for many
 * objects, where a file each costs a `mkdir`, an `fdatasync`, a rename and directory flushes.
 *
 * One record per object, keyed `<partition>/<suffix>/<hash>`, holds all of its files, so an
 * object's lookup is one read on the calling thread (no thread-pool trip: a GET from files reads
 * its page-cached file the same way), and a suffix or partition is one key range. Changes to
 * one object run one at a time (read, change, write). Each change also writes a mark of its
 * suffix (`changed/...`, the database's own `hashes.invalid`) in the same batch, so suffix
 * hashing can never miss it, even across a crash, and a write costs no file append.
 */
export class SmallFiles {
  private readonly dbs: DeviceDbs<OrderedKv>;
  private readonly queue = new WriteQueue();
  private readonly lock = new KeyedLock();
  private readonly clock: Clock;
  private readonly quarantine: SmallFilesOptions['quarantine'];
  private sequence = 0;

  constructor(options: SmallFilesOptions) {
    this.clock = options.clock;
    this.quarantine = options.quarantine;
    this.dbs = new DeviceDbs({ devices: options.devices, mountCheck: options.mountCheck, datadir: options.datadir ?? 'objects-db', open: options.open, clock: options.clock });
  }

  /** The files of one object; none when its record cannot be decoded (it is quarantined). */
  async files(device: string, partition: number, hash: string): Promise<SmallFileSet> {
    const db = await this.dbs.get(device);
    const value = db.getSync(recordKey(partition, hash));
    const files = decode(value);
    if (files) return files;
    await this.setAside(device, partition, hash, value as Uint8Array);
    return NONE;
  }

  /**
   * Changes an object's files durably: `change` gets the current ones and returns what is to
   * be kept (and added). Changes to other objects that arrive meanwhile share the batch. The
   * batch also marks the object's suffix changed (see `changed`), unless `markChanged` is
   * false (a rehash of the suffix making the change itself): a change is never on disk
   * without its mark, as a file is never renamed in before `hashes.invalid` names its suffix.
   * @throws {DiskFileNoSpace} when the device is full.
   */
  async update(device: string, partition: number, hash: string, change: (files: SmallFileSet) => SmallFileSet, options: { markChanged?: boolean } = {}): Promise<void> {
    const db = await this.dbs.get(device);
    const key = recordKey(partition, hash);
    await this.lock.run(`${device}/${key}`, async () => {
      const value = db.getSync(key);
      const decoded = decode(value);
      // An undecodable record is kept aside, then replaced by this change (even by nothing).
      if (!decoded) await this.quarantine(device, partition, hash, value as Uint8Array);
      const before = decoded ?? NONE;
      const after = change(before);
      if (after === before && decoded) return;
      const op: KvOp = after.size === 0 ? { type: 'del', key } : { type: 'put', key, value: pack(Object.fromEntries(after)) };
      await this.write(device, db, partition, hash, op, options.markChanged !== false);
    });
  }

  /**
   * The suffixes of a partition marked changed since their marks were last cleared, and a
   * `clear` that removes exactly the marks read: one written meanwhile stays for the next time.
   */
  async changed(device: string, partition: number): Promise<{ readonly suffixes: string[]; clear(): Promise<void> }> {
    const db = await this.dbs.get(device);
    const prefix = `${CHANGED}${partition}/`;
    const keys: string[] = [];
    const it = db.iterator({ gte: prefix, lt: `${prefix}\u00ff` });
    try {
      for (let page = await it.nextv(PAGE); page.length > 0; page = await it.nextv(PAGE)) for (const [k] of page) keys.push(k);
    } finally {
      await it.close();
    }
    const suffixes = [...new Set(keys.map((k) => k.slice(prefix.length, prefix.length + 3)))];
    return {
      suffixes,
      clear: async () => {
        // Not synced on its own account: a mark that comes back after a crash costs one rehash.
        if (keys.length > 0) await db.batch(keys.map((k) => ({ type: 'del', key: k })));
      },
    };
  }

  /** The objects of a partition (of `suffix` alone, when given), in suffix and hash order. */
  async *objects(device: string, partition: number, suffix?: string): AsyncGenerator<{ readonly suffix: string; readonly hash: string; readonly files: SmallFileSet }> {
    const db = await this.dbs.get(device);
    const prefix = suffix === undefined ? `${partition}/` : `${partition}/${suffix}/`;
    const it = db.iterator({ gte: prefix, lt: `${prefix}\u00ff` });
    try {
      for (let page = await it.nextv(PAGE); page.length > 0; page = await it.nextv(PAGE)) {
        for (const [key, value] of page) {
          const [s, hash] = key.slice(`${partition}/`.length).split('/') as [string, string];
          const files = decode(value);
          if (files) yield { suffix: s, hash, files };
          else await this.setAside(device, partition, hash, value);
        }
      }
    } finally {
      await it.close();
    }
  }

  /** Suffixes of a partition with any object. */
  async suffixes(device: string, partition: number): Promise<string[]> {
    const prefix = `${partition}/`;
    // Past every key of a suffix: '\u00ff' sorts after any ASCII character.
    return this.distinct(device, { gte: prefix, lt: `${prefix}\u00ff` }, (key) => key.slice(prefix.length, prefix.length + 3), (suffix) => `${prefix}${suffix}/\u00ff`);
  }

  /** Partitions with any object on `device`. */
  async partitions(device: string): Promise<number[]> {
    const found = await this.distinct(device, { lt: CHANGED }, (key) => key.slice(0, key.indexOf('/')), (partition) => `${partition}/\u00ff`);
    return found.map(Number);
  }

  /** Removes every object of a partition. */
  async removePartition(device: string, partition: number): Promise<void> {
    const db = await this.dbs.get(device);
    await this.queue.exclusive(device, async () => {
      await db.clear({ gte: `${partition}/`, lt: `${partition}/\u00ff` });
      await db.clear({ gte: `${CHANGED}${partition}/`, lt: `${CHANGED}${partition}/\u00ff` });
    });
  }

  close(): Promise<void> {
    return this.dbs.close();
  }

  /** Quarantines an undecodable record and removes it, unless it was replaced meanwhile. */
  private async setAside(device: string, partition: number, hash: string, record: Uint8Array): Promise<void> {
    const db = await this.dbs.get(device);
    const key = recordKey(partition, hash);
    await this.lock.run(`${device}/${key}`, async () => {
      const now = db.getSync(key);
      if (now === undefined || !Buffer.from(now).equals(record)) return;
      await this.quarantine(device, partition, hash, record);
      await this.write(device, db, partition, hash, { type: 'del', key }, true);
    });
  }

  /** Writes one record change (and its suffix's mark) in the next group commit. */
  private async write(device: string, db: OrderedKv, partition: number, hash: string, op: KvOp, markChanged: boolean): Promise<void> {
    const ops = markChanged ? [op, { type: 'put', key: this.markKey(partition, hash.slice(-3)), value: EMPTY } as const] : [op];
    try {
      await this.queue.enqueue(device, ops, (groups) => db.batch(groups.flat()));
    } catch (err) {
      throw err instanceof DatabaseNoSpaceError ? new DiskFileNoSpace(`${device} is full`, { cause: err }) : err;
    }
  }

  /** A mark's key: unique (time and a counter), so clearing the marks read never clears one written since. */
  private markKey(partition: number, suffix: string): string {
    this.sequence += 1;
    return `${CHANGED}${partition}/${suffix}/${this.clock.now().toString(36)}.${this.sequence.toString(36)}`;
  }

  /** The distinct `part`s of the keys in a range, seeking past each one's keys with `after`. */
  private async distinct(device: string, range: { gte?: string; lt?: string }, part: (key: string) => string, after: (part: string) => string): Promise<string[]> {
    const db = await this.dbs.get(device);
    const it = db.iterator(range);
    const out: string[] = [];
    try {
      for (let [entry] = await it.nextv(1); entry; [entry] = await it.nextv(1)) {
        const p = part(entry[0]);
        out.push(p);
        it.seek(after(p));
      }
    } finally {
      await it.close();
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);

function recordKey(partition: number, hash: string): string {
  return `${partition}/${hash.slice(-3)}/${hash}`;
}

/** A record's files; undefined when it cannot be decoded (not a map of names to bytes). */
function decode(value: Uint8Array | undefined): SmallFileSet | undefined {
  if (value === undefined) return NONE;
  let decoded: unknown;
  try {
    decoded = unpack(value);
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return undefined;
  const entries = Object.entries(decoded);
  return entries.every(([, bytes]) => bytes instanceof Uint8Array) ? new Map(entries as [string, Uint8Array][]) : undefined;
}
