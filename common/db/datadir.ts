import type { Clock } from '../clock.ts';
import type { BrokerContext } from './broker.ts';
import { parsePartitionKey, partitionRange } from './db-keys.ts';
import type { OrderedKv } from './kv.ts';
import { WriteQueue } from './write-queue.ts';

/** What a datadir needs besides its store. */
export interface DatadirDeps {
  readonly clock: Clock;
}

/** A database in the partition index. */
export interface DatadirEntry {
  readonly partition: number;
  readonly hash: string;
}

const PAGE = 1000;

/**
 * Swift's datadir (`<device>/containers` or `<device>/accounts`): every database of one
 * device, in one `OrderedKv`. It hands out brokers and walks the partition index for the
 * replicator and auditors. All brokers of a datadir share its `WriteQueue`, which is what
 * keeps each database's writes in order; so make one datadir per device and share it between
 * the server and the daemons.
 */
export abstract class Datadir<B> {
  protected readonly ctx: BrokerContext;

  constructor(kv: OrderedKv, deps: DatadirDeps) {
    this.ctx = { kv, queue: new WriteQueue(), clock: deps.clock };
  }

  /** A handle on the database named `hash` (it need not exist). */
  abstract broker(hash: string): B;

  /** Partitions holding at least one database, in order. */
  async *partitions(): AsyncGenerator<number> {
    let last = -1;
    for await (const entry of this.entries()) {
      if (entry.partition !== last) yield entry.partition;
      last = entry.partition;
    }
  }

  /** The databases of one partition, or of all, by partition then hash. */
  async *entries(partition?: number): AsyncGenerator<DatadirEntry> {
    const it = this.ctx.kv.iterator(partitionRange(partition));
    try {
      for (let batch = await it.nextv(PAGE); batch.length > 0; batch = await it.nextv(PAGE)) {
        for (const [key] of batch) yield parsePartitionKey(key);
      }
    } finally {
      await it.close();
    }
  }

  close(): Promise<void> {
    return this.ctx.kv.close();
  }
}
