import { releaseBuffer } from '../release-buffer.ts';

/**
 * The piece size for a streamed upload (the proxy's PUT to its replicas, a service's relay to
 * the proxy): copied together from 64 KiB socket reads, since the work per piece and per socket
 * write cost more than the copy (docs/performance.md, "Large PUTs: pieces, not socket reads").
 */
export const UPLOAD_PIECE_BYTES = 1024 * 1024;
/** A partial piece waits at most this long for more of a paused source. */
export const UPLOAD_IDLE_FLUSH_MS = 20;

/**
 * Batch buffers of one size, used again once every socket that sent one has written it. A
 * batch the caller cannot vouch for (a socket may still hold it) is simply not given back.
 */
export class BatchPool {
  readonly size: number;
  private readonly free: ArrayBuffer[] = [];

  constructor(size: number) {
    this.size = size;
  }

  take(): Buffer {
    const ab = this.free.pop();
    return ab ? Buffer.from(ab) : Buffer.allocUnsafeSlow(this.size);
  }

  /** Takes back a batch (or a view of one from its start) that nothing holds any more. */
  give(batch: Uint8Array): void {
    const ab = batch.buffer;
    if (ab instanceof ArrayBuffer && !ab.detached && ab.byteLength === this.size && batch.byteOffset === 0) this.free.push(ab);
  }

  /** Frees the pooled memory now rather than when the collector gets to it. */
  drain(): void {
    for (const ab of this.free.splice(0)) if (!ab.detached) ab.transfer(0);
  }
}

export interface BatchOptions {
  readonly pool: BatchPool;
  /**
   * A partial batch goes out once the source has sent nothing for this long, so a client that
   * pauses never leaves bytes waiting here (the object servers' `client_timeout` counts too).
   */
  readonly idleFlushMs: number;
  /** The source's chunks are its own (`hasOwnChunks`): each is released once copied. */
  readonly releaseSource: boolean;
}

/**
 * A body's chunks copied into batches of `pool.size` bytes. A socket delivers a request body
 * 64 KiB at a time; a large PUT's proxy sent each such chunk to three replicas, and the work
 * per piece and per socket write (promises, stream and undici bookkeeping, one `write` each)
 * was about half of its CPU besides the MD5 (docs/performance.md). A copy of each byte costs
 * far less. Each batch yielded is the caller's until it gives it back to the pool; a batch may
 * be shorter than the pool's size (the body's end, or an idle source).
 */
export async function* batchChunks(source: AsyncIterable<Uint8Array>, options: BatchOptions): AsyncGenerator<Buffer> {
  const { pool, idleFlushMs, releaseSource } = options;
  const size = pool.size;
  const iterator = source[Symbol.asyncIterator]();
  let batch: Buffer | undefined;
  let fill = 0;
  // One timer, pushed back before each wait that holds a partial batch (a timer per chunk
  // costs); it ends that wait only, never the source's own pending read.
  let flushNow: ((step: typeof FLUSH) => void) | undefined;
  const timer = setTimeout(() => flushNow?.(FLUSH), idleFlushMs);
  let pending: Promise<IteratorResult<Uint8Array>> | undefined;
  try {
    for (;;) {
      pending ??= iterator.next();
      let step: IteratorResult<Uint8Array> | typeof FLUSH;
      if (fill === 0) step = await pending;
      else {
        timer.refresh();
        const read = pending;
        try {
          step = await new Promise<IteratorResult<Uint8Array> | typeof FLUSH>((resolve, reject) => {
            flushNow = resolve;
            read.then(resolve, reject);
          });
        } finally {
          flushNow = undefined;
        }
        if (step === FLUSH) {
          // The read stays pending; the next turn of the loop waits for it again.
          const partial = (batch as Buffer).subarray(0, fill);
          batch = undefined;
          fill = 0;
          yield partial;
          continue;
        }
      }
      pending = undefined;
      if (step.done) break;
      const chunk = step.value;
      let at = 0;
      while (at < chunk.length) {
        batch ??= pool.take();
        const n = Math.min(size - fill, chunk.length - at);
        batch.set(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === size) {
          const full = batch;
          batch = undefined;
          fill = 0;
          yield full;
        }
      }
      if (releaseSource) releaseBuffer(chunk);
    }
    if (fill > 0) yield (batch as Buffer).subarray(0, fill);
  } finally {
    clearTimeout(timer);
    if (pending === undefined) await iterator.return?.();
    else {
      // A read still waits (stopped after an idle flush): a generator's return would queue
      // behind it, so the source is told to stop without waiting for that read.
      pending.catch(() => undefined);
      iterator.return?.()?.catch(() => undefined);
    }
  }
}

const FLUSH = Symbol('flush');
