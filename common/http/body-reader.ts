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
 * Reads a request body chunk by chunk, failing with `ClientTimeoutError` when the client
 * pauses longer than `idleMs`, and with `ClientDisconnectError` when the connection breaks.
 * Backpressure is preserved: the next chunk is only pulled when the caller asks.
 */
export async function* readBody(body: AsyncIterable<unknown>, idleMs: number): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ClientTimeoutError(idleMs)), idleMs);
      });
      let step: IteratorResult<unknown>;
      try {
        step = await Promise.race([iterator.next(), timeout]);
      } catch (err) {
        if (err instanceof ClientTimeoutError) throw err;
        throw new ClientDisconnectError(`request body broken: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
      if (step.done) return;
      yield step.value as Buffer;
    }
  } finally {
    await iterator.return?.();
  }
}
