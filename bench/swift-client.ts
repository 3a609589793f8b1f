import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { Clock } from '../common/clock.ts';

/** Where an account lives and the token that opens it (what auth returns). */
export interface SwiftEndpoint {
  /** The account URL, e.g. `http://127.0.0.1:8080/v1/AUTH_test`. */
  readonly storageUrl: string;
  readonly token: string;
}

/** What to do with a response body as it streams in. */
export type BodyMode = 'count' | 'md5' | 'lines' | 'text';

export interface SwiftRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'POST';
  /** Container, or `container/object`, as plain text; encoded here. */
  readonly path: string;
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | Readable;
  readonly mode?: BodyMode;
}

export interface SwiftResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Body bytes received. */
  readonly bytes: number;
  /** Monotonic ms when the last byte arrived. */
  readonly endMono: number;
  /** Hex MD5 of the body (mode `md5`). */
  readonly md5?: string;
  /** Newline count and the last line of the body (mode `lines`, for plain-text listings). */
  readonly lines?: number;
  readonly lastLine?: string;
  /** The whole body (mode `text`; only for small bodies). */
  readonly text?: string;
}

/** A request that got no HTTP answer; `code` is undici's or the system's (`ECONNREFUSED`). */
export class RequestFailed extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'RequestFailed';
  }
}

export interface SwiftClientOptions {
  /** Connections kept to the endpoint; use at least the number of concurrent workers. */
  readonly connections: number;
  /** Longest wait for headers, and between body chunks, in ms. */
  readonly timeoutMs?: number;
  /** Skip TLS certificate checks (self-signed test endpoints). */
  readonly insecure?: boolean;
  readonly clock: Clock;
}

const SAFE_PATH = /^[A-Za-z0-9._~/-]*$/;

/** Percent-encodes a Swift path; `/` between container and object (and inside names) stays. */
export function encodeSwiftPath(path: string): string {
  // The harness's own names need no encoding; skip the split/join for them (hot path).
  if (SAFE_PATH.test(path)) return path;
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * The harness's HTTP client for one Swift endpoint: an undici `Pool` with keep-alive and one
 * connection per concurrent worker, driven through `dispatch` with a small handler instead of
 * `request()`, so a response costs no stream objects and its body is only counted (or hashed,
 * or scanned for the listing marker) as it arrives. The end time is taken in the handler when
 * the last byte arrives, so latency is send to last byte whatever the event loop does next.
 */
export class SwiftClient {
  endpoint: SwiftEndpoint;
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(endpoint: SwiftEndpoint, options: SwiftClientOptions) {
    this.endpoint = endpoint;
    const url = new URL(endpoint.storageUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: options.insecure ? { rejectUnauthorized: false } : {},
    });
  }

  /**
   * Sends one request and resolves when its body has fully arrived, with any status.
   * @throws {RequestFailed} when there was no complete answer (refused, reset, timed out).
   */
  request(req: SwiftRequest): Promise<SwiftResponse> {
    const path = `${this.basePath}/${encodeSwiftPath(req.path)}${req.query ? `?${req.query}` : ''}`;
    const headers: Record<string, string> = { 'x-auth-token': this.endpoint.token, ...req.headers };
    return new Promise((resolve, reject) => {
      const handler = new ResponseHandler(req.mode ?? 'count', this.clock, resolve, reject);
      try {
        this.pool.dispatch({ method: req.method, path, headers, body: req.body ?? null, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs }, handler);
      } catch (err) {
        handler.onResponseError(undefined, err as Error);
      }
    });
  }

  /** Uses a new token from now on (after re-authenticating), keeping the connections. */
  setToken(token: string): void {
    this.endpoint = { ...this.endpoint, token };
  }

  /** Closes the pool's connections. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

class ResponseHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private bytes = 0;
  private lines = 0;
  private hash: Hash | undefined;
  private chunks: Buffer[] | undefined;
  private last: Buffer | undefined;
  private previous: Buffer | undefined;
  private readonly mode: BodyMode;
  private readonly clock: Clock;
  private readonly resolve: (r: SwiftResponse) => void;
  private readonly reject: (e: Error) => void;

  constructor(mode: BodyMode, clock: Clock, resolve: (r: SwiftResponse) => void, reject: (e: Error) => void) {
    this.mode = mode;
    this.clock = clock;
    this.resolve = resolve;
    this.reject = reject;
    if (mode === 'md5') this.hash = createHash('md5');
    if (mode === 'text') this.chunks = [];
  }

  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    switch (this.mode) {
      case 'md5':
        this.hash?.update(chunk);
        break;
      case 'text':
        this.chunks?.push(chunk);
        break;
      case 'lines':
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
        this.previous = this.last;
        this.last = chunk;
        break;
      default:
    }
  }

  onResponseEnd(): void {
    const endMono = this.clock.monotonic();
    const response: { -readonly [K in keyof SwiftResponse]: SwiftResponse[K] } = { status: this.status, headers: this.headers, bytes: this.bytes, endMono };
    if (this.hash) response.md5 = this.hash.digest('hex');
    if (this.chunks) response.text = Buffer.concat(this.chunks).toString('utf8');
    if (this.mode === 'lines') {
      response.lines = this.lines;
      response.lastLine = lastLine(this.previous, this.last);
    }
    this.resolve(response);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    const e = error as Error & { code?: string; cause?: { code?: string } };
    this.reject(new RequestFailed(e.cause?.code ?? e.code ?? e.name, error.message, { cause: error }));
  }
}

/** The last non-empty line of a body whose final two chunks are `previous` and `last`. */
function lastLine(previous: Buffer | undefined, last: Buffer | undefined): string {
  if (!last) return '';
  let end = last.length;
  while (end > 0 && last[end - 1] === 10) end--;
  const nl = end > 0 ? last.lastIndexOf(10, end - 1) : -1;
  if (nl !== -1) return last.subarray(nl + 1, end).toString('utf8');
  if (end === 0) return previous ? lastLine(undefined, previous) : '';
  // The line began in the previous chunk (names are at most 1 KiB, chunks far larger).
  const head = previous ? previous.subarray(previous.lastIndexOf(10) + 1) : Buffer.alloc(0);
  return Buffer.concat([head, last.subarray(0, end)]).toString('utf8');
}
