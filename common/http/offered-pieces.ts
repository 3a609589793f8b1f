import { markLentChunks } from '../release-buffer.ts';

/**
 * Reads a body in lent pieces (`readBodyPieces`): `idleMs` is Swift's `client_timeout`, the
 * longest the client may send nothing while the reader waits.
 */
export type PieceReader = (options: { readonly idleMs: number }) => AsyncIterable<Buffer>;

const OFFERED = Symbol('offered pieces');

/**
 * Marks a body (a request's socket data) that can also be read in lent 1 MiB pieces, copied
 * together in its own `data` events: a reader that streams the body on (the proxy's large PUT)
 * takes one async step per piece instead of several per 64 KiB chunk (docs/performance.md,
 * "Large PUTs: the client's chunks read in pieces"). Reading it either way excludes the other.
 * A wrapper that only looks at the bytes passes the offer on (`passOfferedPieces`); one that
 * keeps or reshapes them must not.
 */
export function offerPieces<T extends object>(body: T, read: PieceReader): T {
  (body as { [OFFERED]?: PieceReader })[OFFERED] = read;
  return body;
}

/** The body's piece reader, if it offers one. */
export function offeredPieces(body: object): PieceReader | undefined {
  return (body as { [OFFERED]?: PieceReader })[OFFERED];
}

/** `wrapper`, offering `source`'s pieces (if it does) with `look` shown each piece as it passes. */
export function passOfferedPieces<T extends object>(source: object, wrapper: T, look: (piece: Buffer) => void): T {
  const read = offeredPieces(source);
  if (read === undefined) return wrapper;
  return offerPieces(wrapper, (options) => {
    const pieces = read(options);
    return markLentChunks({
      [Symbol.asyncIterator](): AsyncIterator<Buffer> {
        const it = pieces[Symbol.asyncIterator]();
        return {
          async next() {
            const step = await it.next();
            if (!step.done) look(step.value);
            return step;
          },
          async return() {
            return (await it.return?.()) ?? { done: true, value: undefined };
          },
        };
      },
    });
  });
}
