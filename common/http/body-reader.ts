import { SwiftError } from '../errors.ts';

/** The client sent no body bytes for `ms` (Swift's `client_timeout`): 408. */
export class ClientTimeoutError extends SwiftError {
  constructor(ms: number) {
    super('CLIENT_TIMEOUT', `no request body data for ${ms} ms`);
  }
}

/** The client went away mid-body: 499. */
export class ClientDisconnectError extends SwiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CLIENT_DISCONNECT', message, options);
  }
}

/**
 * A whole request body in memory, read with `readBody`'s idle timeout and errors.
 * @throws what `tooLarge` makes once the body passes `limit` bytes (the rest is not read).
 */
export async function readWholeBody(body: AsyncIterable<unknown>, idleMs: number, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of readBody(body, idleMs)) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/**
 * Reads a request body chunk by chunk, failing with `ClientTimeoutError` when the client
 * pauses longer than `idleMs`, and with `ClientDisconnectError` when the connection breaks.
 * Backpressure is preserved: the next chunk is only pulled when the caller asks.
 */
export async function* readBody(body: AsyncIterable<unknown>, idleMs: number): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]();
  // One timer for the whole body, pushed back before every wait (a new timer per chunk cost
  // a visible share of a large upload). It rejects the wait in progress, if any: a promise of
  // that one wait, never one promise for the whole body that every wait races against (each
  // race leaves a reaction on it holding the chunk it resolved with, so every chunk of the
  // body stayed alive until its end: a 1 GiB image upload held 1 GiB).
  let timedOut: ((err: ClientTimeoutError) => void) | undefined;
  const timer = setTimeout(() => timedOut?.(new ClientTimeoutError(idleMs)), idleMs);
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      // Only the wait for the client counts, not the time the caller spends on a chunk.
      timer.refresh();
      try {
        const next = iterator.next();
        step = await new Promise<IteratorResult<unknown>>((resolve, reject) => {
          timedOut = reject;
          next.then(resolve, reject);
        });
      } catch (err) {
        if (err instanceof ClientTimeoutError) throw err;
        throw new ClientDisconnectError(`request body broken: ${(err as Error).message}`, { cause: err });
      } finally {
        timedOut = undefined;
      }
      if (step.done) return;
      yield step.value as Buffer;
    }
  } finally {
    clearTimeout(timer);
    await iterator.return?.();
  }
}
