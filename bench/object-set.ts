/** An object the run wrote and believes exists. */
export interface BenchObject {
  readonly container: string;
  readonly name: string;
  readonly size: number;
  /** Requests reading it now. */
  readers: number;
  /** Position in the set (for O(1) removal); -1 once removed. */
  index: number;
}

/**
 * The objects a run has written and not yet deleted: what GET and HEAD read and DELETE
 * removes. Picks are uniform. An object being read is never chosen for DELETE, so the
 * harness does not race itself into 404s that the endpoint did not cause.
 */
export class ObjectSet {
  private readonly items: BenchObject[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Adds an object that now exists on the endpoint. */
  add(container: string, name: string, size: number): BenchObject {
    const o: BenchObject = { container, name, size, readers: 0, index: this.items.length };
    this.items.push(o);
    return o;
  }

  /** A random object to read, marked as being read until `release`; undefined when empty. */
  pickForRead(random: () => number): BenchObject | undefined {
    const o = this.items[Math.floor(random() * this.items.length)];
    if (o) o.readers++;
    return o;
  }

  /** Ends a read started by `pickForRead`. */
  release(o: BenchObject): void {
    o.readers--;
  }

  /**
   * Removes and returns a random object nobody is reading (a few tries, then gives up so a
   * small set under many readers cannot spin); undefined when there is none.
   */
  takeForDelete(random: () => number): BenchObject | undefined {
    for (let attempt = 0; attempt < 8 && this.items.length > 0; attempt++) {
      const o = this.items[Math.floor(random() * this.items.length)] as BenchObject;
      if (o.readers > 0) continue;
      this.remove(o);
      return o;
    }
    return undefined;
  }

  /** Puts back an object whose DELETE failed without saying it was gone. */
  restore(o: BenchObject): void {
    if (o.index !== -1) return;
    o.index = this.items.length;
    this.items.push(o);
  }

  /** Removes and returns every object (for cleanup). */
  drain(): BenchObject[] {
    const all = this.items.splice(0);
    for (const o of all) o.index = -1;
    return all;
  }

  private remove(o: BenchObject): void {
    const last = this.items.pop() as BenchObject;
    if (last !== o) {
      this.items[o.index] = last;
      last.index = o.index;
    }
    o.index = -1;
  }
}
