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
 *    gives a path that is not UTF-8) instead of a 400. So is one with a method node does not
 *    know (`LICK`), which reaches the handler as sent (`refusedMethod`): Swift answers 405.
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
    const retry = cut.length === 0 ? reparsable(err) : undefined;
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

/** A refused request line made readable: the bytes from it on, and the method it really had. */
interface Reparse {
  readonly head: Buffer;
  /** The client's method when node knows no such method (a stand-in went to the parser). */
  readonly method?: string;
}

/** HTTP's `token` characters, which a method is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What the parser is given in place of a method it does not know; the request keeps the real one. */
const STAND_IN_METHOD = 'POST';

/**
 * Where node's parser refused a request line Swift would take, the line rewritten so node
 * takes it: raw bytes above 0x7F in the path percent-encoded (`HPE_INVALID_URL`), or an
 * unknown method (`LICK`: Swift answers 405) replaced by a stand-in (`HPE_INVALID_METHOD`).
 * Undefined unless the whole line is in the chunk node was parsing.
 */
function reparsable(err: ParseError): Reparse | undefined {
  const packet = err.rawPacket;
  const at = err.bytesParsed;
  if (!Buffer.isBuffer(packet) || typeof at !== 'number' || at < 0 || at >= packet.length) return undefined;
  const end = packet.indexOf(0x0a, at);
  if (end === -1) return undefined;
  if (err.code === 'HPE_INVALID_METHOD') {
    // The parser took the bytes before `at` as the start of a method it knows, so the request
    // starts at the longest such run (a body before it need not end in a newline); the method
    // runs to the first space.
    let start = at;
    for (let k = 1; k <= Math.min(at, LONGEST_METHOD); k++) {
      const run = packet.toString('latin1', at - k, at);
      if (NODE_METHODS.some((m) => m.startsWith(run))) start = at - k;
    }
    const space = packet.indexOf(0x20, start);
    if (space === -1 || space > end) return undefined;
    const method = packet.toString('latin1', start, space);
    if (!TOKEN.test(method)) return undefined;
    return { head: Buffer.concat([Buffer.from(STAND_IN_METHOD), packet.subarray(space)]), method };
  }
  if (err.code !== 'HPE_INVALID_URL') return undefined;
  // The path failed: the request starts at the longest known method before its space (a body
  // before it need not end in a newline).
  let space = at;
  while (space > 0 && ![0x20, 0x0a, 0x0d].includes(packet[space] as number)) space -= 1;
  if (packet[space] !== 0x20) return undefined;
  let first = space;
  while (first > 0 && isUpper(packet[first - 1] as number)) first -= 1;
  const letters = packet.toString('latin1', first, space);
  const method = [...Array(letters.length).keys()].map((i) => letters.slice(i)).find((m) => METHODS.has(m));
  if (method === undefined) return undefined;
  const line = packet.subarray(space - method.length, end);
  if (!line.some((b) => b > 0x7f)) return undefined;
  let quoted = '';
  for (const b of line) quoted += b > 0x7f ? `%${b.toString(16).toUpperCase()}` : String.fromCharCode(b);
  return { head: Buffer.concat([Buffer.from(quoted, 'latin1'), packet.subarray(end)]) };
}

const METHODS: ReadonlySet<string> = new Set(NODE_METHODS);
const LONGEST_METHOD = Math.max(...NODE_METHODS.map((m) => m.length));

function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

/**
 * The method a request was really sent with, when node's parser was given a stand-in for it
 * (see `reparsable`); undefined for every other request.
 */
export function refusedMethod(req: IncomingMessage): string | undefined {
  return req.socket instanceof RelayedConnection ? req.socket.takeMethod() : undefined;
}

/**
 * A connection read again from `head` on: what the socket sends next follows it; what is
 * written goes to the socket. The HTTP server takes it as a new connection.
 */
class RelayedConnection extends Duplex {
  private readonly socket: Duplex;
  /** The real method of the first request read from here, until that request takes it. */
  private method: string | undefined;

  constructor(socket: Duplex, reparse: Reparse) {
    super();
    this.socket = socket;
    this.method = reparse.method;
    this.push(reparse.head);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
  }

  /** The first request's real method, once. */
  takeMethod(): string | undefined {
    const method = this.method;
    this.method = undefined;
    return method;
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
