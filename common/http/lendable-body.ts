const LEND = Symbol('lend');

/**
 * A response body that can be read two ways: iterated as usual, its chunks are the reader's to
 * keep; read through `lentChunks`, each chunk is only lent, filled again once the next is asked
 * for. Only a reader that is done with a chunk when it asks for the next (the HTTP server,
 * which waits for each write) may ask for the lent way; everyone else (a COPY's PUT, a
 * segment read, a wrapper that does not know the mark) gets chunks of their own. So a body
 * reading into reused buffers is never handed out lent by mistake: a wrapper that drops the
 * mark costs a copy, not the bytes.
 */
export interface LendableBody extends AsyncIterable<Uint8Array> {
  [LEND](): AsyncIterator<Uint8Array>;
}

export function lendableBody(owned: () => AsyncIterator<Uint8Array>, lent: () => AsyncIterator<Uint8Array>): LendableBody {
  return { [Symbol.asyncIterator]: owned, [LEND]: lent };
}

/** The lent way of reading `body`, when it has one. */
export function lentChunks(body: unknown): AsyncIterator<Uint8Array> | undefined {
  return typeof body === 'object' && body !== null && LEND in body ? (body as LendableBody)[LEND]() : undefined;
}

/**
 * `wrap` applied to both ways of reading `source`, when it has two; else to its one. For
 * wrappers that only look at each chunk as it passes (counting bytes), which may pass lent
 * chunks on.
 */
export function wrapChunks(source: AsyncIterable<Uint8Array>, wrap: (it: AsyncIterator<Uint8Array>) => AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  const owned = (): AsyncIterator<Uint8Array> => wrap(source[Symbol.asyncIterator]());
  if (!(LEND in source)) return { [Symbol.asyncIterator]: owned };
  return lendableBody(owned, () => wrap((source as LendableBody)[LEND]()));
}
