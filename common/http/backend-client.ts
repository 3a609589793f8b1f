import { Readable } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { BackendError } from '../errors.ts';
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

/** A response body: stream it, or read it whole; `dump()` discards it and frees the connection. */
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

export interface BackendClient {
  /**
   * Sends one request. Resolves with any status the node answered; rejects with a
   * `BackendError` when there was no answer (refused, timed out, aborted, cut off).
   */
  request(node: BackendNode, request: BackendRequest): Promise<BackendResponse>;
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
    const origin = `${node.scheme ?? 'http'}://${node.ip.includes(':') ? `[${node.ip}]` : node.ip}:${node.port}`;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (!HOP_BY_HOP.has(name.toLowerCase())) headers[name] = value;
    }
    let method = request.method;
    if (EXTENSION_VERBS.has(method)) {
      headers['x-backend-verb'] = method;
      method = 'POST';
    }
    const body = request.body;
    try {
      const res = await this.pool(origin).request({
        method: method as 'GET',
        path: request.query ? `${request.path}?${request.query}` : request.path,
        headers,
        body: body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable ? body : Readable.from(body),
        signal: request.signal,
        headersTimeout: request.timeoutMs ?? this.options.nodeTimeoutMs,
        bodyTimeout: request.bodyTimeoutMs ?? this.options.nodeTimeoutMs,
      });
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      const stream = res.body;
      const wrapped: BackendBodyStream = {
        [Symbol.asyncIterator]: () => wrapIterator(stream[Symbol.asyncIterator](), origin),
        text: () => stream.text(),
        json: () => stream.json(),
        bytes: async () => Buffer.from(await stream.arrayBuffer()),
        dump: () => stream.dump({ limit: 128 * 1024 }).catch(() => undefined),
      };
      return { status: res.statusCode, headers: flat, body: wrapped };
    } catch (err) {
      throw toBackendError(err, origin);
    }
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerNode,
        connectTimeout: this.options.connectTimeoutMs,
        keepAliveTimeout: this.options.keepAliveMs,
        keepAliveMaxTimeout: this.options.keepAliveMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

/** Errors while streaming a body also become `BackendError`s, so callers can resume elsewhere. */
function wrapIterator(it: AsyncIterator<Buffer>, origin: string): AsyncIterator<Buffer> {
  return {
    next: async () => {
      try {
        return await it.next();
      } catch (err) {
        throw toBackendError(err, origin);
      }
    },
    return: async () => (it.return ? it.return() : { done: true, value: undefined }),
  };
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
