import type { IdentityStore } from './store.ts';

/**
 * Reads of one request, each made once: a token issue looks up the same domain for the user,
 * the project and the checks after them, and every read is a round trip through the proxy to
 * every replica (`X-Newest`). A memo lives as long as the request; it never serves another.
 */
export class ReadMemo {
  private readonly store: IdentityStore;
  private readonly reads = new Map<string, Promise<unknown>>();

  constructor(store: IdentityStore) {
    this.store = store;
  }

  get<R>(type: string, id: string): Promise<R | undefined> {
    return this.once(`${type}\n${id}`, () => this.store.get<R>(type, id));
  }

  byName<R>(type: string, nameType: string, nameKey: string): Promise<R | undefined> {
    return this.once(`${nameType}\n${nameKey}`, async () => {
      const index = await this.store.get<{ id: string }>(nameType, nameKey);
      return index ? this.get<R>(type, index.id) : undefined;
    });
  }

  private once<R>(key: string, read: () => Promise<R>): Promise<R> {
    let pending = this.reads.get(key) as Promise<R> | undefined;
    if (!pending) this.reads.set(key, (pending = read()));
    return pending;
  }
}
