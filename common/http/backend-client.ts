import { Readable } from 'node:stream';
import { buildConnector, Pool, errors as undiciErrors } from 'undici';
import { BackendError } from '../errors.ts';
import { ResponseHandler } from './response-handler.ts';
import { reportingSentPieces, trackedPiece, untrackPiece } from './sent-pieces.ts';
import { EXTENSION_VERBS } from './server.ts';

/**
 * The one seam for outbound HTTP: every request a proxy, replicator or updater makes to a
 * storage node goes through a `BackendClient`. Production uses undici pools (keep-alive per
 * node); tests inject a scripted fake (test/helpers/fake-backend.ts).
 */
export interface BackendNode {
  /** An address, or a host name (another cluster's proxy, for container sync). */
  readonly ip: string;
  readonly port: number;
  /** `http` (storage nodes) unless said otherwise. */
  readonly scheme?: 'http' | 'https';
}

export type BackendBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array> | null;

export interface BackendRequest {
  readonly method: string;
  /** Already percent-encoded (see `backendPath`). */
  readonly path: string;
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: BackendBody;
  readonly signal?: AbortSignal;
  /** Time allowed until response headers arrive; default: the client's `nodeTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Longest pause allowed between body chunks; default: the client's `nodeTimeoutMs`. */
  readonly bodyTimeoutMs?: number;
}

/**
 * A response body: stream it, or read it whole; `dump()` discards it and frees the connection.
 * A chunk iterated is the reader's: the client keeps no reference to it, only (undici, paused
 * mid-read) to the rest of a socket read it is a slice of, which `releaseBuffer` leaves alone. So
 * a reader that has copied or sent a chunk may release its memory.
 */
export interface BackendBodyStream extends AsyncIterable<Buffer> {
  text(): Promise<string>;
  json(): Promise<unknown>;
  bytes(): Promise<Buffer>;
  dump(): Promise<void>;
}

export interface BackendResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: BackendBodyStream;
}

/** A request whose body the caller writes piece by piece (`BackendClient.upload`). */
export interface BackendUpload {
  /**
   * Sends a piece. Resolves true once the connection no longer holds it (the kernel has it),
   * so the caller may give its memory back; false if the request failed first (the piece
   * may still be held: leave it to the collector). Waiting for it is the backpressure.
   */
  write(chunk: Uint8Array): Promise<boolean>;
  /** Ends the body. */
  end(): void;
  /** Gives up: the connection is closed, the answer (if not in yet) rejects with `reason`. */
  destroy(reason: Error): void;
  /** The node's answer; rejects with a `BackendError` when there was none. */
  readonly response: Promise<BackendResponse>;
}

export interface BackendClient {
  /**
   * Sends one request. Resolves with any status the node answered; rejects with a
   * `BackendError` when there was no answer (refused, timed out, aborted, cut off).
   */
  request(node: BackendNode, request: BackendRequest): Promise<BackendResponse>;
  /**
   * Starts a request whose body is written piece by piece, each write saying when the piece is
   * sent. Optional: a client without it gets its bodies as streams through `request`. The
   * request's `timeoutMs` and `bodyTimeoutMs` are not applied: the caller times its writes and
   * its wait for the answer.
   */
  upload?(node: BackendNode, request: Omit<BackendRequest, 'body' | 'timeoutMs' | 'bodyTimeoutMs'>): BackendUpload;
  close(): Promise<void>;
}

export interface UndiciBackendOptions {
  /** Swift's `conn_timeout`: time to establish a connection. */
  connectTimeoutMs: number;
  /** Swift's `node_timeout`: time to wait for headers, and between body chunks. */
  nodeTimeoutMs: number;
  /** Pooled connections per node. */
  connectionsPerNode: number;
  /** How long an idle keep-alive connection is kept (below the servers' 65 s). */
  keepAliveMs: number;
}

export const DEFAULT_BACKEND_OPTIONS: UndiciBackendOptions = {
  connectTimeoutMs: 500,
  nodeTimeoutMs: 10_000,
  connectionsPerNode: 64,
  keepAliveMs: 30_000,
};

/**
 * Headers that describe one connection, not the request: undici sets its own (it chunks a
 * stream body itself) and refuses some of them, so copies of client headers drop them.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection', 'host', 'expect']);

/** Percent-encodes path segments for the backend protocol; `/` inside object names stays. */
export function backendPath(...segments: readonly (string | number)[]): string {
  return `/${segments.map((s) => encodeURIComponent(String(s)).replace(/%2F/g, '/')).join('/')}`;
}

export class UndiciBackendClient implements BackendClient {
  private readonly pools = new Map<string, Pool>();
  private readonly options: UndiciBackendOptions;

  constructor(options: Partial<UndiciBackendOptions> = {}) {
    this.options = { ...DEFAULT_BACKEND_OPTIONS, ...options };
  }

  async request(node: BackendNode, request: BackendRequest): Promise<BackendResponse> {
    const origin = originOf(node);
    const { method, headers } = outboundHeaders(request);
    const body = request.body;
    const handler = new ResponseHandler(request.signal, (err) => toBackendError(err, origin));
    try {
      this.pool(origin).dispatch(
        {
          method: method as 'GET',
          path: request.query ? `${request.path}?${request.query}` : request.path,
          headers,
          body: body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable ? body : Readable.from(body),
          headersTimeout: request.timeoutMs ?? this.options.nodeTimeoutMs,
          bodyTimeout: request.bodyTimeoutMs ?? this.options.nodeTimeoutMs,
          // undici closes the connection after a HEAD unless told not to (its guard against
          // servers that send a body to one; Swift's and ours send none): every HEAD, the
          // proxy's to the nodes and a service's to the proxy, cost a new connection.
          ...(method === 'HEAD' ? { reset: false } : {}),
        },
        handler,
      );
    } catch (err) {
      throw toBackendError(err, origin);
    }
    return handler.response;
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerNode,
        // Uploads learn when each piece has left (`upload`); other writes pass straight on.
        connect: reportingSentPieces(buildConnector({ timeout: this.options.connectTimeoutMs })),
        keepAliveTimeout: this.options.keepAliveMs,
        keepAliveMaxTimeout: this.options.keepAliveMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * Through the same pool as `request`: the body is a queue of pieces, each a view that the
   * pool's sockets report once written (`sent-pieces.ts`), so a proxy relaying a large upload
   * to three nodes can give a client chunk's memory back as soon as all three have sent it
   * rather than leave it to the collector (a third of its CPU under 64 MiB PUTs).
   */
  upload(node: BackendNode, request: Omit<BackendRequest, 'body' | 'timeoutMs' | 'bodyTimeoutMs'>): BackendUpload {
    const origin = originOf(node);
    const { method, headers } = outboundHeaders(request);
    const controller = new AbortController();
    const pieces = new PieceStream();
    const handler = new ResponseHandler(request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal, (err) => toBackendError(err, origin));
    this.pool(origin).dispatch(
      {
        method: method as 'PUT',
        path: request.query ? `${request.path}?${request.query}` : request.path,
        headers,
        body: pieces,
        // The headers timer would run from the first byte of a long upload: the caller times
        // its writes and its wait for the answer instead.
        headersTimeout: 0,
        bodyTimeout: this.options.nodeTimeoutMs,
      },
      handler,
    );
    const response = handler.response.catch((err: unknown) => {
      pieces.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    });
    response.catch(() => undefined);
    return {
      write: (chunk) => pieces.write(chunk),
      end: () => pieces.end(),
      destroy: (reason) => {
        controller.abort(reason);
        pieces.fail(reason);
      },
      response,
    };
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

function originOf(node: BackendNode): string {
  return `${node.scheme ?? 'http'}://${node.ip.includes(':') ? `[${node.ip}]` : node.ip}:${node.port}`;
}

/** The method and headers as they go out: no hop-by-hop headers, extension verbs as POST. */
function outboundHeaders(request: Pick<BackendRequest, 'method' | 'headers'>): { method: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const given = request.headers ?? {};
  for (const name in given) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers[name] = given[name] as string;
  }
  let method = request.method;
  if (EXTENSION_VERBS.has(method)) {
    headers['x-backend-verb'] = method;
    method = 'POST';
  }
  return { method, headers };
}

/**
 * An upload's body as undici reads it: pieces in the order written, each resolving its write
 * once a socket has sent it (object mode, so each piece reaches the socket as the same view).
 * A failure destroys it with the error, never ends it cleanly: a chunked body ended early would
 * look complete to the node.
 */
class PieceStream extends Readable {
  /** Writes not yet sent, to be told `false` if the upload fails first. */
  private readonly waiting = new Map<Buffer, (sent: boolean) => void>();
  private failure: Error | undefined;

  constructor() {
    super({ objectMode: true, highWaterMark: 1 });
  }

  // The writer waits for each piece to be sent: there is nothing to read ahead.
  override _read(): void {}

  write(chunk: Uint8Array): Promise<boolean> {
    if (this.failure) return Promise.resolve(false);
    // undici skips an empty chunk without writing it, so no socket would ever report it sent.
    if (chunk.byteLength === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const view = trackedPiece(chunk, (err) => {
        this.waiting.delete(view);
        resolve(!err && this.failure === undefined);
      });
      this.waiting.set(view, resolve);
      this.push(view);
    });
  }

  end(): void {
    if (!this.failure) this.push(null);
  }

  fail(reason: Error): void {
    if (this.failure) return;
    this.failure = reason;
    for (const [view, resolve] of this.waiting) {
      untrackPiece(view);
      resolve(false);
    }
    this.waiting.clear();
    // The failure reaches the caller through the answer; undici may still be reading this body.
    this.on('error', () => undefined);
    this.destroy(reason);
  }
}

function toBackendError(err: unknown, origin: string): BackendError {
  if (err instanceof BackendError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  if (err instanceof undiciErrors.ConnectTimeoutError) return new BackendError('BACKEND_TIMEOUT', origin, 'connect timed out', { cause: err });
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new BackendError('BACKEND_TIMEOUT', origin, e.message ?? 'timed out', { cause: err });
  }
  if (err instanceof undiciErrors.RequestAbortedError || e.name === 'AbortError') return new BackendError('BACKEND_ABORTED', origin, 'aborted', { cause: err });
  if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') {
    return new BackendError('BACKEND_CONNECT', origin, `connection failed (${e.code})`, { cause: err });
  }
  return new BackendError('BACKEND_IO', origin, e.message ?? String(err), { cause: err });
}
