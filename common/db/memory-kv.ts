import { SwiftError } from '../errors.ts';
import { compareUtf8 } from './key-order.ts';
import type { KvEntry, KvIterator, KvOp, KvOpener, KvRange, OrderedKv } from './kv.ts';

/** The data of one in-memory store: keys kept sorted for ranges, values by key. */
class MemoryData {
  readonly keys: string[] = [];
  readonly values = new Map<string, Uint8Array>();

  /** First index whose key is `>= key` (or `> key` when `after`). */
  bound(key: string, after: boolean): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareUtf8(this.keys[mid] as string, key);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  put(key: string, value: Uint8Array): void {
    if (!this.values.has(key)) this.keys.splice(this.bound(key, false), 0, key);
    this.values.set(key, value);
  }

  del(key: string): void {
    if (!this.values.delete(key)) return;
    this.keys.splice(this.bound(key, false), 1);
  }
}

function inRange(key: string, range: KvRange): boolean {
  if (range.gt !== undefined && compareUtf8(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareUtf8(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareUtf8(key, range.lt) >= 0) return false;
  if (range.lte !== undefined && compareUtf8(key, range.lte) > 0) return false;
  return true;
}

class ClosedError extends SwiftError {
  constructor() {
    super('KV_CLOSED', 'the store is closed');
  }
}

/**
 * The in-memory twin of `LevelKv`: the same ordering, atomic batches and seekable iterators,
 * for tests and benchmarks that should not touch a disk. Iterators see writes made after they
 * were created (LevelDB's see a snapshot); callers must not depend on either.
 */
export class MemoryKv implements OrderedKv {
  private readonly data: MemoryData;
  private closed = false;

  constructor(data: MemoryData = new MemoryData()) {
    this.data = data;
  }

  private check(): void {
    if (this.closed) throw new ClosedError();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): Uint8Array | undefined {
    this.check();
    return this.data.values.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    this.check();
    return keys.map((k) => this.data.values.get(k));
  }

  async batch(ops: readonly KvOp[]): Promise<void> {
    this.check();
    for (const op of ops) {
      if (op.type === 'put') this.data.put(op.key, op.value);
      else this.data.del(op.key);
    }
  }

  iterator(range: KvRange): KvIterator {
    this.check();
    const data = this.data;
    const reverse = range.reverse === true;
    // The cursor: the next entry is beyond `from` (inclusive after a seek).
    let from: string | undefined;
    let inclusive = false;
    let done = false;
    return {
      nextv: async (size) => {
        if (this.closed) throw new ClosedError();
        const out: KvEntry[] = [];
        if (done) return out;
        const keys = data.keys;
        if (!reverse) {
          let i = from === undefined ? 0 : data.bound(from, !inclusive);
          if (from === undefined && range.gte !== undefined) i = data.bound(range.gte, false);
          if (from === undefined && range.gt !== undefined) i = data.bound(range.gt, true);
          for (; i < keys.length && out.length < size; i++) {
            const key = keys[i] as string;
            if (!inRange(key, range)) {
              if ((range.lt !== undefined && compareUtf8(key, range.lt) >= 0) || (range.lte !== undefined && compareUtf8(key, range.lte) > 0)) break;
              continue;
            }
            out.push([key, data.values.get(key) as Uint8Array]);
          }
        } else {
          let i = from === undefined ? keys.length - 1 : data.bound(from, inclusive) - 1;
          if (from === undefined && range.lte !== undefined) i = data.bound(range.lte, true) - 1;
          if (from === undefined && range.lt !== undefined) i = data.bound(range.lt, false) - 1;
          for (; i >= 0 && out.length < size; i--) {
            const key = keys[i] as string;
            if (!inRange(key, range)) {
              if ((range.gt !== undefined && compareUtf8(key, range.gt) <= 0) || (range.gte !== undefined && compareUtf8(key, range.gte) < 0)) break;
              continue;
            }
            out.push([key, data.values.get(key) as Uint8Array]);
          }
        }
        const last = out.at(-1);
        if (last) {
          from = last[0];
          inclusive = false;
        } else {
          done = true;
        }
        return out;
      },
      seek: (target) => {
        if (!inRange(target, { ...range, reverse: false })) {
          done = true;
          return;
        }
        from = target;
        inclusive = true;
        done = false;
      },
      close: async () => {
        done = true;
      },
    };
  }

  async clear(range: KvRange): Promise<void> {
    this.check();
    const doomed = this.data.keys.filter((k) => inRange(k, range));
    for (const key of doomed) this.data.del(key);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * A `KvOpener` for in-memory stores: the same path opens the same data again after a close,
 * as a directory would.
 */
export function memoryKvOpener(): KvOpener {
  const stores = new Map<string, MemoryData>();
  return async (path) => {
    let data = stores.get(path);
    if (!data) {
      data = new MemoryData();
      stores.set(path, data);
    }
    return new MemoryKv(data);
  };
}
