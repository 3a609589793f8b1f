import { fixedHex, prefixEnd } from './key-order.ts';

/**
 * The key layout of a device's LevelDB. Every database (one account, or one container) is
 * named by its 32-hex-digit hash (Swift's `hash_path`) and owns the contiguous key range
 * starting with it, so dropping a database is one range delete:
 *
 * ```
 * <hash>I                     info: account, container, timestamps, id, partition, policy
 * <hash>S                     stats: row sequence (max_row), chexor hash, per-policy counts
 * <hash>M                     metadata: { name: [value, timestamp] }
 * <hash>O<row key>            a live row      (container: <policy:8 hex><object name>;
 * <hash>T<row key>            a deleted row    account: <container name>)
 * <hash>Q<seq:16 hex>         row sequence (Swift's ROWID) -> [row key, deleted]
 * <hash>Y<i|o><remote id>     incoming / outgoing sync point with a remote database
 * P<partition:8 hex><hash>    partition index (the replicator walks databases by partition)
 * ```
 *
 * Live and deleted rows are apart so a listing scans live rows only, whatever the tombstones;
 * the policy index leads container row keys so a listing of the container's policy is one
 * range. Hashes are lower-case hex, so `P` keys never fall inside a database's range.
 */
export class DbKeys {
  readonly hash: string;
  readonly info: string;
  readonly stats: string;
  readonly metadata: string;
  readonly liveBase: string;
  readonly tombBase: string;
  readonly seqBase: string;
  readonly syncBase: string;

  constructor(hash: string) {
    this.hash = hash;
    this.info = `${hash}I`;
    this.stats = `${hash}S`;
    this.metadata = `${hash}M`;
    this.liveBase = `${hash}O`;
    this.tombBase = `${hash}T`;
    this.seqBase = `${hash}Q`;
    this.syncBase = `${hash}Y`;
  }

  row(rowKey: string, deleted: boolean): string {
    return (deleted ? this.tombBase : this.liveBase) + rowKey;
  }

  seq(seq: number): string {
    return this.seqBase + fixedHex(seq, 16);
  }

  sync(remoteId: string, incoming: boolean): string {
    return `${this.syncBase}${incoming ? 'i' : 'o'}${remoteId}`;
  }

  /** The whole range of this database. */
  get all(): { gte: string; lt: string } {
    return { gte: this.hash, lt: prefixEnd(this.hash) };
  }
}

const PARTITION_BASE = 'P';

/** The partition index key of a database. */
export function partitionKey(partition: number, hash: string): string {
  return PARTITION_BASE + fixedHex(partition, 8) + hash;
}

/** The range of partition index keys, of one partition or of all. */
export function partitionRange(partition?: number): { gte: string; lt: string } {
  if (partition === undefined) return { gte: PARTITION_BASE, lt: prefixEnd(PARTITION_BASE) };
  const base = PARTITION_BASE + fixedHex(partition, 8);
  return { gte: base, lt: prefixEnd(base) };
}

/** Splits a partition index key into its partition and hash. */
export function parsePartitionKey(key: string): { partition: number; hash: string } {
  return { partition: Number.parseInt(key.slice(1, 9), 16), hash: key.slice(9) };
}

/** Database hashes are MD5 hex (Swift's `hash_path`). */
export const DB_HASH = /^[0-9a-f]{32}$/;
