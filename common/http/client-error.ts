import { type IncomingMessage, METHODS as NODE_METHODS, type ServerResponse as NodeResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { defaultErrorBody, reasonPhrase } from './http-error.ts';

/** What node's own `clientError` answer would be for each parse failure (its statuses). */
function statusFor(err: ParseError): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/** node's parse errors: the chunk being parsed and where in it the parser stopped. */
type ParseError = Error & { code?: string; rawPacket?: unknown; bytesParsed?: unknown };

/**
 * Answers bytes on a connection that node:http's parser refuses (its `clientError`), as
 * Swift's server would:
 *
 * 1. A request line whose path holds raw bytes above 0x7F (UTF-8 names sent unquoted; node
 *    takes only ASCII there) is read again with those bytes percent-encoded, on a new parser
 *    over the same connection (`reparse`), so the request is served (or gets the 412 Swift
 *    gives a path that is not UTF-8) instead of a 400.
 * 2. Anything else: every response already owed on the connection goes out first, in order
 *    (node's default wrote its 400 at once and destroyed the socket, so a PUT still being
 *    stored lost its 201), then the error answer, and the connection closes. A request whose
 *    body the bad bytes broke gets its own answer (its body fails when read) and no other.
 */
export class ClientErrorAnswerer {
  /** Responses not yet finished, per connection. */
  private readonly owed = new WeakMap<Duplex, Set<NodeResponse>>();
  /** Connections already being answered or handed on (the parser reports its error again on more bytes). */
  private readonly answering = new WeakSet<Duplex>();
  private readonly reparse: (connection: Duplex) => void;

  /** @param reparse hands a connection to the HTTP server as a new one (`server.emit('connection', ...)`). */
  constructor(reparse: (connection: Duplex) => void) {
    this.reparse = reparse;
  }

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
  readonly onClientError = (err: ParseError, socket: Duplex): void => {
    if (this.answering.has(socket)) return;
    this.answering.add(socket);
    const owed = [...(this.owed.get(socket) ?? [])];
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // A request whose own body the bad bytes cut (a broken chunk) can never be read whole:
    // its body fails, so a handler reading it answers an error, and one that answers without
    // it (a 501 for a Transfer-Encoding it refuses) is still heard; then the connection closes.
    const cut = owed.filter((res) => !res.req.complete);
    for (const res of cut) failBody(res.req, err);
    const retry = err.code === 'HPE_INVALID_URL' && cut.length === 0 ? quotedRequestLine(err) : undefined;
    // Bytes that arrive meanwhile wait in the relay (read on, they reach the old parser too,
    // which only repeats its error).
    const relay = retry ? new RelayedConnection(socket, retry) : undefined;
    void Promise.all(owed.map((res) => (res.writableFinished || res.destroyed ? undefined : new Promise((resolve) => res.once('close', resolve))))).then(() => {
      if (relay && !socket.destroyed) this.reparse(relay);
      else if (socket.writable) socket.end(cut.length > 0 ? undefined : errorAnswer(statusFor(err)));
      else socket.destroy();
    });
  };
}

/**
 * Makes a request body fail for whoever reads it, without closing the connection (the
 * message's own `_destroy` would): the answer to the request can still go out.
 */
function failBody(req: IncomingMessage, err: Error): void {
  req.on('error', () => undefined);
  req._destroy = (error, callback) => callback(error);
  req.destroy(err);
}

/**
 * The bytes from the refused request on, with its request line's bytes above 0x7F
 * percent-encoded; undefined unless the whole line is in the chunk node was parsing and holds
 * such bytes. The request starts at the method before the refused path: the longest known
 * method ending there (a body before it need not end in a newline).
 */
function quotedRequestLine(err: ParseError): Buffer | undefined {
  const packet = err.rawPacket;
  const at = err.bytesParsed;
  if (!Buffer.isBuffer(packet) || typeof at !== 'number' || at < 0 || at >= packet.length) return undefined;
  let space = at;
  while (space > 0 && ![0x20, 0x0a, 0x0d].includes(packet[space] as number)) space -= 1;
  if (packet[space] !== 0x20) return undefined;
  let start = space;
  while (start > 0 && isUpper(packet[start - 1] as number)) start -= 1;
  const letters = packet.toString('latin1', start, space);
  const method = [...Array(letters.length).keys()].map((i) => letters.slice(i)).find((m) => METHODS.has(m));
  if (method === undefined) return undefined;
  start = space - method.length;
  const end = packet.indexOf(0x0a, at);
  if (end === -1) return undefined;
  const line = packet.subarray(start, end);
  if (!line.some((b) => b > 0x7f)) return undefined;
  let quoted = '';
  for (const b of line) quoted += b > 0x7f ? `%${b.toString(16).toUpperCase()}` : String.fromCharCode(b);
  return Buffer.concat([Buffer.from(quoted, 'latin1'), packet.subarray(end)]);
}

const METHODS: ReadonlySet<string> = new Set(NODE_METHODS);

function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

/**
 * A connection read again from `head` on: what the socket sends next follows it; what is
 * written goes to the socket. The HTTP server takes it as a new connection.
 */
class RelayedConnection extends Duplex {
  private readonly socket: Duplex;

  constructor(socket: Duplex, head: Buffer) {
    super();
    this.socket = socket;
    this.push(head);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return (this.socket as Socket).remoteAddress;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy();
    callback(err);
  }
}

function errorAnswer(status: number): string {
  const body = defaultErrorBody(status);
  const reason = status === 431 ? 'Request Header Fields Too Large' : reasonPhrase(status);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
