import type { Clock } from './clock.ts';

/** How `forEachPaced` spreads its work. */
export interface PaceOptions {
  /** Items worked on at once. */
  readonly concurrency: number;
  /** Most items started per second (Swift's `*_per_second`); 0 or less: no limit. */
  readonly perSecond: number;
  readonly clock: Clock;
  /** Stops starting items; `forEachPaced` then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `work` on every item of `items`, at most `concurrency` at once and at most `perSecond`
 * started per second (Swift's rate-limited iterators and green pools). Items are pulled one by
 * one, so a long walk of databases is never held in memory. `work` should handle its own
 * failures: the first error it throws stops new items and is rethrown once the running ones end.
 * @throws the signal's reason when it aborts.
 */
export async function forEachPaced<T>(items: AsyncIterable<T> | Iterable<T>, options: PaceOptions, work: (item: T) => Promise<void>): Promise<void> {
  const { clock, signal } = options;
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : toAsync(items[Symbol.iterator]());
  const gapMs = options.perSecond > 0 ? 1000 / options.perSecond : 0;
  let nextStart = clock.monotonic();
  let failure: { error: unknown } | undefined;
  // One puller at a time: the iterator is not re-entrant.
  let pulling: Promise<unknown> = Promise.resolve();
  const next = (): Promise<IteratorResult<T>> => {
    const result = pulling.then(async () => {
      if (gapMs > 0) {
        const now = clock.monotonic();
        // Never bank more than one second of unused starts.
        nextStart = Math.max(nextStart, now - 1000);
        if (nextStart > now) await clock.sleep(nextStart - now, signal);
        nextStart += gapMs;
      }
      return iterator.next();
    });
    pulling = result.catch(() => undefined);
    return result;
  };
  const worker = async (): Promise<void> => {
    while (!failure) {
      signal?.throwIfAborted();
      const item = await next();
      if (item.done || failure) return;
      await work(item.value);
    }
  };
  const workers = Array.from({ length: Math.max(1, options.concurrency) }, () =>
    worker().catch((error: unknown) => {
      failure ??= { error };
    }),
  );
  try {
    await Promise.all(workers);
  } finally {
    await iterator.return?.();
  }
  if (failure) throw failure.error;
}

async function* toAsync<T>(it: Iterator<T>): AsyncGenerator<T> {
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}
