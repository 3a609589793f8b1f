import type { Readable } from 'node:stream';
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
 * The `ClientDisconnectError` of a request body that broke: with the stream's error, or (none)
 * because the connection closed before the body ended.
 */
export function brokenBody(err?: Error | null): ClientDisconnectError {
  if (!err) return new ClientDisconnectError('request body broken: the connection closed before the body ended');
  return new ClientDisconnectError(`request body broken: ${err.message}`, { cause: err });
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
        throw brokenBody(err as Error);
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

/**
 * Hands a request body's chunks to `take` as they arrive (`data` events): no promise or
 * generator step per chunk, where `readBody` over the request's async iterator took several
 * (a large share of an object server's CPU under large PUTs: docs/performance.md, "Large PUTs:
 * the object server's share"). While a promise `take` returned is pending (the chunk is on its
 * way to disk), the request is paused: backpressure to the client, and chunks stay in order.
 * Resolves once the body ended and the last `take` settled.
 *
 * Fails as `readBody` does: `ClientTimeoutError` when the client sends nothing for `idleMs`
 * (time spent waiting for `take` does not count), `ClientDisconnectError` when the connection
 * breaks; a failure of `take` fails it too. A timed-out request is destroyed; after a failure
 * of `take` the rest of the body is left unread (the HTTP server reads past it once the
 * answer, a 507 say, is sent: `readBody` destroyed the request, so a client still sending got a
 * reset instead).
 */
export function pumpBody(body: Readable, idleMs: number, take: (chunk: Buffer) => Promise<void> | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let busy: Promise<void> | undefined;
    let ended = false;
    // The idle timer ticks a few times per `idleMs` and counts quiet ticks, instead of being
    // pushed back for every chunk.
    const tickMs = Math.max(1, Math.floor(idleMs / 8));
    let chunks = 0;
    let chunksAtTick = 0;
    let quietMs = 0;
    /** `destroy`: the client failed (timed out); a failure of `take` leaves the rest of the body to the server, which reads it past once it answered (so a 507 reaches the client). */
    const finish = (err?: Error, destroy = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      if (err) {
        // An error after this is the stream's own business, but must not be an uncaught one.
        body.on('error', () => {});
        if (destroy && !ended) body.destroy();
        else body.pause();
        reject(err);
      } else resolve();
    };
    const settle = (p: Promise<void>): void => {
      busy = p;
      body.pause();
      p.then(
        () => {
          busy = undefined;
          quietMs = 0;
          if (ended) finish();
          else if (!settled) body.resume();
        },
        (err: Error) => finish(err),
      );
    };
    const onData = (chunk: Buffer): void => {
      chunks++;
      let p: Promise<void> | undefined;
      try {
        p = take(chunk);
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (p) settle(p);
    };
    const onEnd = (): void => {
      ended = true;
      if (!busy) finish();
    };
    const onError = (err: Error): void => finish(brokenBody(err));
    const onClose = (): void => {
      if (!ended) finish(brokenBody());
    };
    const tick = (): void => {
      if (settled) return;
      if (busy || chunks !== chunksAtTick) {
        chunksAtTick = chunks;
        quietMs = 0;
      } else if ((quietMs += tickMs) >= idleMs) {
        finish(new ClientTimeoutError(idleMs), true);
        return;
      }
      timer.refresh();
    };
    const timer = setTimeout(tick, tickMs);
    if (body.readableEnded) {
      ended = true;
      finish();
      return;
    }
    // Broken before reading began: no event will come to say so.
    if (body.destroyed) {
      finish(brokenBody(body.errored));
      return;
    }
    body.on('data', onData);
    body.once('end', onEnd);
    body.on('error', onError);
    body.once('close', onClose);
  });
}
