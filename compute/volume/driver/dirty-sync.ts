/**
 * "Sync only what was written since the last sync" for a volume handle: `mark()` after each
 * write, `sync()` flushes only when something was written. The mark is cleared before the flush
 * starts, so a write that lands while it runs marks the handle again for the next sync (a
 * restore syncs while it writes); a flush that fails leaves the handle marked.
 */
export class DirtySync {
  private dirty = false;
  private readonly flush: () => Promise<void>;

  constructor(flush: () => Promise<void>) {
    this.flush = flush;
  }

  /** Something was written that the next `sync` must make durable. */
  mark(): void {
    this.dirty = true;
  }

  async sync(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.flush();
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}
