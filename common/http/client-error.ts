import type { IncomingMessage, ServerResponse as NodeResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { defaultErrorBody, reasonPhrase } from './http-error.ts';

/** What node's own `clientError` answer would be for each parse failure (its statuses). */
function statusFor(err: Error & { code?: string }): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/**
 * Answers bytes on a connection that are not a request (node:http's `clientError`) without
 * losing the requests before them. node's default writes a 400 and destroys the socket at
 * once, even while an earlier request on the same kept-alive connection is still being
 * carried out: a PUT was stored and its 201 never sent. As Swift (eventlet) does, every
 * response already owed goes out first, in order; then the error answer, and the connection
 * closes.
 */
export class ClientErrorAnswerer {
  /** Responses not yet finished, per connection. */
  private readonly owed = new WeakMap<Duplex, Set<NodeResponse>>();
  /** Connections already being answered (the parser reports its error again on more bytes). */
  private readonly answering = new WeakSet<Duplex>();

  /** Notes a response the connection owes; call for every request. */
  track(req: IncomingMessage, res: NodeResponse): void {
    let set = this.owed.get(req.socket);
    if (set === undefined) {
      set = new Set();
      this.owed.set(req.socket, set);
    }
    const owed = set;
    owed.add(res);
    res.once('close', () => owed.delete(res));
  }

  /** The `clientError` listener. */
  readonly onClientError = (err: Error & { code?: string }, socket: Duplex): void => {
    if (this.answering.has(socket)) return;
    this.answering.add(socket);
    const owed = [...(this.owed.get(socket) ?? [])];
    // A request whose own body was cut by the bad bytes (a broken chunk) can never finish:
    // nothing owed can be saved, so the connection goes as node would have it go.
    const cut = owed.some((res) => !res.req.complete);
    if (err.code === 'ECONNRESET' || !socket.writable || cut) {
      if (socket.writable && owed.every((res) => !res.headersSent)) socket.write(errorAnswer(statusFor(err)));
      socket.destroy();
      return;
    }
    void Promise.all(owed.map((res) => (res.writableFinished || res.destroyed ? undefined : new Promise((resolve) => res.once('close', resolve))))).then(() => {
      if (socket.writable) socket.end(errorAnswer(statusFor(err)));
      else socket.destroy();
    });
  };
}

function errorAnswer(status: number): string {
  const body = defaultErrorBody(status);
  const reason = status === 431 ? 'Request Header Fields Too Large' : reasonPhrase(status);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
