import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse as NodeResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { HeaderBag } from '../constraints.ts';
import type { Logger } from '../logger.ts';
import { releaseBuffer } from '../release-buffer.ts';
import { ClientErrorAnswerer, refusedMethod } from './client-error.ts';
import { lentChunks } from './lendable-body.ts';
import { defaultErrorBody, HttpError, RESPONSE_REASONS } from './http-error.ts';
import { titleCaseHeader } from './title-case.ts';

/**
 * The HTTP server adapter: the only module that touches `node:http` on the serving side.
 * A handler is a plain `async (request) => response` function; this adapter feeds it parsed
 * requests and writes its responses with backpressure, so a faster server library can be put
 * behind the same `Handler` type where it loads.
 */
export interface ServerRequest {
  /** Upper-case verb; `POST` + `X-Backend-Verb: REPLICATE|SSYNC|UPDATE` arrives as that verb. */
  readonly method: string;
  /** The path as sent, still percent-encoded, without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The raw query string, without `?`. */
  readonly rawQuery: string;
  /** Header values by lower-case name; repeated headers joined with `, `. */
  readonly headers: HeaderBag;
  /** The request body, read with `for await` (backpressure comes free). */
  readonly body: Readable;
  readonly remoteAddress: string;
  /** Aborts when the client disconnects before the response is finished. */
  readonly signal: AbortSignal;
}

export type ResponseBody = string | Uint8Array | AsyncIterable<Uint8Array> | null | undefined;
export type ResponseHeaders = Record<string, string | number | string[]>;

export interface ServerResponse {
  readonly status: number;
  readonly headers?: ResponseHeaders;
  /**
   * A string or bytes (Content-Length is set for you), or a stream of chunks. A stream that
   * fails before its first chunk becomes an error response; one that fails later cuts the
   * connection, so the client sees a short body and never mistakes it for a whole one.
   */
  readonly body?: ResponseBody;
  /**
   * The stream's chunks are lent: the server must be done with each (written to the socket)
   * before it asks for the next, since the stream fills the same memory again. Unlent chunks
   * are written without waiting, which keeps a relayed stream's chunks short-lived.
   */
  readonly lent?: boolean;
  /**
   * The stream's chunks are given: nothing else holds them once yielded, so the server frees
   * each one's memory as soon as the socket has written it (`releaseBuffer`) instead of leaving
   * it for the collector. For relayed bodies, whose chunks are the socket reads of a backend
   * response; the chunks of one turn of the event loop go out together (`WriteBatch`).
   */
  readonly given?: boolean;
}

export type Handler = (request: ServerRequest) => Promise<ServerResponse>;

/**
 * Verbs Swift's backend protocol uses that node's HTTP parser does not accept: they travel as
 * `POST` with `X-Backend-Verb` (see `backend-client.ts`, which sends them that way).
 */
export const EXTENSION_VERBS: ReadonlySet<string> = new Set(['REPLICATE', 'SSYNC', 'UPDATE']);

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** Largest request header block in bytes; generous so over-limit metadata gets a clear 400. */
  maxHeaderSize?: number;
  /** Reuse the port across processes (several proxy workers on one port). */
  reusePort?: boolean;
}

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, closes idle connections, and resolves when the server is closed. */
  close(): Promise<void>;
}

/** Starts serving `handler` on `host:port`. */
export async function listen(handler: Handler, options: ListenOptions): Promise<HttpServer> {
  const clientErrors = new ClientErrorAnswerer((connection) => server.emit('connection', connection));
  const server: Server = createServer(
    { maxHeaderSize: options.maxHeaderSize ?? 64 * 1024, noDelay: true, keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 66_000 },
    (req, res) => {
      clientErrors.track(req, res);
      void serve(handler, req, res, options.logger);
    },
  );
  server.on('clientError', clientErrors.onClientError);
  // With reusePort each process (cluster worker) binds its own socket and the kernel spreads
  // connections over them; exclusive keeps node:cluster from sharing one handle instead.
  server.listen({ host: options.host, port: options.port, reusePort: options.reusePort ?? false, exclusive: options.reusePort ?? false });
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    host: options.host,
    port: address.port,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeIdleConnections();
      // Connections still mid-request get a moment to finish, then are cut.
      const timer = setTimeout(() => server.closeAllConnections(), 2000);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Handles one request on node's objects; exported for adapters that own the socket. */
export async function serve(handler: Handler, req: IncomingMessage, res: NodeResponse, logger: Logger): Promise<void> {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  let response: ServerResponse;
  const request = toServerRequest(req, controller.signal);
  try {
    response = await handler(request);
  } catch (err) {
    response = errorResponse(err, logger, request);
  }
  try {
    await writeResponse(request, res, response, controller.signal, logger);
  } catch (err) {
    // The body failed after the status line went out: cut the connection so the client
    // cannot take a short body for a whole one.
    if (!controller.signal.aborted) logger.warn('response body failed; connection cut', { path: request.path, err });
    res.destroy();
  }
}

function toServerRequest(req: IncomingMessage, signal: AbortSignal): ServerRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const headers: Record<string, string> = {};
  const given = req.headers;
  for (const name in given) {
    const value = given[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let method = refusedMethod(req) ?? req.method ?? 'GET';
  const verb = headers['x-backend-verb'];
  if (method === 'POST' && verb !== undefined && EXTENSION_VERBS.has(verb)) method = verb;
  return {
    method,
    path: q === -1 ? url : url.slice(0, q),
    rawQuery,
    query: new URLSearchParams(rawQuery),
    headers,
    body: req,
    remoteAddress: req.socket.remoteAddress ?? '',
    signal,
  };
}

/** The response for a thrown error: its own status for `HttpError`, 500 (logged) otherwise. */
export function errorResponse(err: unknown, logger: Logger, request?: { method: string; path: string }): ServerResponse {
  if (err instanceof HttpError) {
    // Swift's responses are `text/html; charset=UTF-8` unless they say otherwise, its own
    // explanations and one-line error texts alike.
    return {
      status: err.status,
      headers: { 'Content-Type': 'text/html; charset=UTF-8', ...err.headers },
      body: err.body ?? defaultErrorBody(err.status),
    };
  }
  logger.error('unhandled error', { method: request?.method, path: request?.path, err });
  return { status: 500, headers: { 'Content-Type': 'text/html; charset=UTF-8' }, body: defaultErrorBody(500) };
}

async function writeResponse(request: ServerRequest, res: NodeResponse, response: ServerResponse, signal: AbortSignal, logger: Logger): Promise<void> {
  const headers = titleCased(response.headers);
  // As Swift's server (eventlet): a kept-alive connection says `Connection: keep-alive` only
  // to a client that sent it, and never `Keep-Alive: timeout=...` (node adds both to every
  // answer). A closing answer still says `Connection: close`.
  if (res.shouldKeepAlive && !('Connection' in headers)) {
    if (res.req.headers.connection?.toLowerCase() === 'keep-alive') headers['Connection'] = 'keep-alive';
    else res.removeHeader('Connection');
  }
  const body = response.body;
  const noBody = request.method === 'HEAD' || response.status === 204 || response.status === 304;
  if (body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = body === undefined || body === null ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    if (!('Content-Length' in headers) && response.status !== 204 && response.status !== 304) headers['Content-Length'] = bytes?.length ?? 0;
    res.writeHead(response.status, swiftReason(response.status), headers);
    res.end(noBody ? undefined : bytes);
    return;
  }
  // A body that can lend its chunks is read that way: this loop is done with each chunk
  // (written) before it asks for the next.
  const lending = lentChunks(body);
  const lent = response.lent === true || lending !== undefined;
  const iterator = lending ?? body[Symbol.asyncIterator]();
  if (noBody) {
    await iterator.return?.();
    res.writeHead(response.status, swiftReason(response.status), headers);
    res.end();
    return;
  }
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (err) {
    // Nothing sent yet, so the failure can still become a proper status.
    const failed = errorResponse(err, logger, request);
    res.writeHead(failed.status, swiftReason(failed.status), titleCased({ ...failed.headers, 'Content-Length': Buffer.byteLength(String(failed.body)) }));
    res.end(failed.body as string);
    return;
  }
  res.writeHead(response.status, swiftReason(response.status), headers);
  let step = first;
  const batch = response.given ? new WriteBatch(res) : undefined;
  try {
    while (!step.done) {
      const chunk = step.value;
      if (lent) await written(res, chunk, signal);
      else if (batch) {
        if (!batch.write(chunk)) await once(res, 'drain', { signal });
      } else if (!res.write(chunk)) await once(res, 'drain', { signal });
      step = await iterator.next();
    }
  } finally {
    if (!step.done) {
      // Stopped early (client gone, body failed): no write may still be reading a lent chunk
      // when the body takes its buffers back, so the connection goes first.
      res.destroy();
      await iterator.return?.().catch(() => undefined);
    }
  }
  await new Promise<void>((resolve) => res.end(resolve));
}

/** Bytes a relayed body may gather in one turn of the event loop before it waits for the socket. */
const BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Writes a given body's chunks (see `ServerResponse.given`) gathered per turn of the event loop:
 * the chunks a turn's socket reads bring (a backend socket is read 64 KiB at a time, up to 32
 * times a turn) leave in one `writev` when the turn is over, instead of a `write` each, and
 * each chunk's memory is released once written.
 */
class WriteBatch {
  private readonly res: NodeResponse;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.res.uncork();
  };

  constructor(res: NodeResponse) {
    this.res = res;
  }

  /** False when the caller should wait for 'drain' before the next chunk. */
  write(chunk: Uint8Array): boolean {
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(this.uncork);
    }
    const ok = this.res.write(chunk, () => releaseBuffer(chunk));
    return ok || this.res.writableLength < BATCH_BYTES;
  }
}

/** Writes one chunk and resolves once the socket is done with it (see `ServerResponse.lent`). */
function written(res: NodeResponse, chunk: Uint8Array, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('client disconnected'));
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    res.write(chunk, (err) => {
      signal.removeEventListener('abort', aborted);
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Swift's reason phrase for a status it knows (`Requested Range Not Satisfiable`, not node's `Range Not Satisfiable`). */
function swiftReason(status: number): string | undefined {
  return RESPONSE_REASONS[status]?.[0];
}

function titleCased(headers: ResponseHeaders | undefined): ResponseHeaders {
  const out: ResponseHeaders = {};
  if (!headers) return out;
  for (const name in headers) out[titleCaseHeader(name)] = headers[name] as string | number | string[];
  return out;
}
