/**
 * Gives a chunk's memory back at once instead of at the collector's convenience. Every chunk
 * a socket delivers is its own `ArrayBuffer` outside the V8 heap; left to the collector, the
 * chunks of a large upload pile up until the external-memory limit sets off a full
 * mark-compact, about one per 64 MB received (measured: ~30 in 11 s on one storage node, with
 * 140 MB of dead chunks at the peak). Detaching frees the memory now.
 *
 * Only a Buffer that is its whole `ArrayBuffer` is released: never a slice of Node's pool or of
 * a larger read. The caller must hold the only reference: views of a released buffer read as
 * empty.
 */
export function releaseBuffer(buf: Uint8Array): void {
  const ab = buf.buffer;
  if (!(ab instanceof ArrayBuffer) || ab.detached) return;
  if (buf.byteOffset !== 0 || buf.byteLength !== ab.byteLength || buf.byteLength < 4096) return;
  ab.transfer(0);
}

const OWN_CHUNKS = Symbol('own chunks');

/**
 * Marks a body whose chunks nobody else holds once they are read (a request's own socket
 * data): its reader may release each chunk when done with it. A wrapper that only looks at the
 * chunks passes the mark on (`passOwnChunks`); one that keeps or reshapes them must not.
 */
export function markOwnChunks<T extends object>(body: T): T {
  (body as { [OWN_CHUNKS]?: boolean })[OWN_CHUNKS] = true;
  return body;
}

export function hasOwnChunks(body: object): boolean {
  return (body as { [OWN_CHUNKS]?: boolean })[OWN_CHUNKS] === true;
}

/** `wrapper`, marked as `source` is. */
export function passOwnChunks<T extends object>(source: object, wrapper: T): T {
  return hasOwnChunks(source) ? markOwnChunks(wrapper) : wrapper;
}

const LENT_CHUNKS = Symbol('lent chunks');

/**
 * Marks a body whose chunks are lent (`readBodyPieces`): each is the reader's until it asks
 * for the next, then the body fills the same memory again. A reader that sends a chunk must
 * wait until it is sent before it asks; in return it may send the chunk itself, uncopied.
 */
export function markLentChunks<T extends object>(body: T): T {
  (body as { [LENT_CHUNKS]?: boolean })[LENT_CHUNKS] = true;
  return body;
}

export function hasLentChunks(body: object): boolean {
  return (body as { [LENT_CHUNKS]?: boolean })[LENT_CHUNKS] === true;
}

/** `wrapper`, marked as `source` is (own or lent chunks): for wrappers that only look at each chunk as it passes. */
export function passChunkMarks<T extends object>(source: object, wrapper: T): T {
  if (hasLentChunks(source)) markLentChunks(wrapper);
  return passOwnChunks(source, wrapper);
}
