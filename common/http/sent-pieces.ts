import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';

/** Called once a socket has written a tracked piece (the kernel has it), or with the error. */
export type PieceSent = (err?: Error | null) => void;

const tracked = new WeakMap<object, PieceSent>();

/**
 * A new view of `piece` (the same memory) that calls `sent` once a socket of
 * `reportingSentPieces` has written it. One view per request: a client's chunk goes to three
 * nodes' sockets, and each reports its own write.
 */
export function trackedPiece(piece: Uint8Array, sent: PieceSent): Buffer {
  const view = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  tracked.set(view, sent);
  return view;
}

/** Forgets a piece no socket will write (its request failed first). */
export function untrackPiece(view: Buffer): void {
  tracked.delete(view);
}

/**
 * `connect`, whose sockets call back when they have written a tracked piece. undici writes a
 * body chunk with a bare `socket.write(chunk)` (lib/dispatcher/client-h1.js, `AsyncWriter`)
 * and only waits for `drain` when the socket's buffer is full, so nothing else says when a
 * chunk has left; the socket's own write callback does.
 */
export function reportingSentPieces(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    connect(options, (...args) => {
      const socket = args[1];
      if (socket) reportWrites(socket);
      callback(...args);
    });
  };
}

type Write = (this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;

function reportWrites(socket: Socket): void {
  const write = socket.write as Write;
  socket.write = function (this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    // undici's own writes (the request line, chunk framing) are strings and pass straight on.
    if (encoding === undefined && typeof chunk === 'object' && chunk !== null) {
      const sent = tracked.get(chunk);
      if (sent !== undefined) {
        tracked.delete(chunk);
        return write.call(this, chunk, sent);
      }
    }
    return write.call(this, chunk, encoding, cb);
  } as Socket['write'];
}
