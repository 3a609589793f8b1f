import { type AsyncPendingEntry, type AsyncPendingStore, type AsyncUpdate, decodeAsyncUpdate } from './async-pending.ts';
import type { SmallFiles } from './diskfile/small-files.ts';

/** Where the kept ones live: `<objects-db of the policy>/pending/<hash>-<timestamp>`. */
const KEPT_ID = /^(objects(?:-\d+)?-db)\/(pending\/.+)$/;

/**
 * The async pendings of a node: Swift's files (`inner`), and the container updates kept in
 * the small objects' databases with their objects' writes (`ObjectWriter.commit`'s `pending`)
 * until the container servers report their rows synced. The updater sends both kinds alike;
 * new pendings (a failed update of a large object) go to `inner`.
 */
export class KeptAsyncPendingStore implements AsyncPendingStore {
  private readonly inner: AsyncPendingStore;
  /** Each policy's small-object database by its directory name (`objects-db`, `objects-1-db`). */
  private readonly kept: ReadonlyMap<string, SmallFiles>;

  constructor(inner: AsyncPendingStore, kept: ReadonlyMap<string, SmallFiles>) {
    this.inner = inner;
    this.kept = kept;
  }

  save(device: string, hash: string, timestamp: string, update: AsyncUpdate): Promise<void> {
    return this.inner.save(device, hash, timestamp, update);
  }

  async *list(device: string): AsyncGenerator<AsyncPendingEntry> {
    yield* this.inner.list(device);
    for (const [dir, small] of this.kept) {
      for await (const { key, update } of small.pendings(device)) {
        try {
          yield { id: `${dir}/${key}`, update: decodeAsyncUpdate(update) };
        } catch {
          // not an update (cannot happen short of a corrupt database): left where it is
        }
      }
    }
  }

  async remove(device: string, id: string): Promise<void> {
    const kept = KEPT_ID.exec(id);
    if (!kept) return this.inner.remove(device, id);
    await this.kept.get(kept[1] as string)?.removePendings(device, [kept[2] as string]);
  }

  async settle(device: string, id: string): Promise<void> {
    const kept = KEPT_ID.exec(id);
    if (!kept) return this.inner.remove(device, id);
    await this.kept.get(kept[1] as string)?.removePendings(device, [kept[2] as string], true);
  }

  async count(device: string): Promise<number> {
    let n = await this.inner.count(device);
    for (const small of this.kept.values()) for await (const _ of small.pendings(device)) n += 1;
    return n;
  }
}
