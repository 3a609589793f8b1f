import type { HttpError } from '../common/http/http-error.ts';
import type { ServerResponse } from '../common/http/server.ts';
import type { Logger } from '../common/logger.ts';

/** Who made the request, once an auth middleware has checked the token. */
export interface Identity {
  /** `account:user`. */
  readonly user: string;
  /** The account the user belongs to (e.g. `AUTH_test`). */
  readonly account: string;
  /** `account:user`, the account name (for admins), `.admin`, `.reseller_admin`, service groups. */
  readonly groups: readonly string[];
}

/** What the proxy asks an authorizer about (Swift's `req.acl` and path). */
export interface AuthorizeRequest {
  readonly method: string;
  readonly account: string;
  readonly container?: string;
  readonly object?: string;
  /** The container's read or write ACL, when the resource has one. */
  readonly acl?: string;
  /** The container's `X-Container-Sync-Key`, for an object write (Swift's `swift_sync_key`). */
  readonly syncKey?: string;
  readonly referer?: string;
}

/**
 * An authorizer's answer: refused (the error to send), or allowed. `owner` is Swift's
 * `swift_owner`: the requester may see and set the privileged headers of the account and its
 * containers (ACLs, TempURL keys, sync keys).
 */
export type AuthDecision = { readonly denied: HttpError } | { readonly denied?: undefined; readonly owner: boolean };

/**
 * Per-request state shared with subrequests (Swift's WSGI environ, typed). A middleware that
 * makes subrequests passes the same env on, so the transaction id, identity and authorizer
 * follow them.
 */
export interface ProxyEnv {
  readonly transId: string;
  readonly logger: Logger;
  identity?: Identity;
  /** Set by the auth middleware; controllers call it once they know the ACL. */
  authorize?: (request: AuthorizeRequest) => Promise<AuthDecision>;
  /** Who made a subrequest (`SLO`, `DLO`, `BULK`, `COPY`, ...), for logs; undefined for a client. */
  readonly source?: string;
  /** A pre-authorized internal request (Swift's `make_pre_authed_request`): allowed, as the owner. */
  authorized?: boolean;
  /** The storage policy index of an object request, once its container is known (metrics). */
  policyIndex?: string;
  /**
   * The Accept a listing request means (its `format` or Accept header), kept by
   * `listing_formats`, which has the rest of the pipeline answer listings as JSON.
   */
  listingAccept?: string;
  /** Set by a middleware whose listing answer is final: `listing_formats` passes it as it is. */
  listingAsIs?: boolean;
}

/** A request inside the proxy pipeline: like a server request, with mutable headers and an env. */
export interface ProxyRequest {
  readonly method: string;
  /** Percent-encoded path without query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /**
   * The client's query string as sent (a client request only). `query` cannot hold bytes
   * that are not UTF-8, so listings pass this on to the storage nodes, which refuse them as
   * Swift's do; see `backendQuery`.
   */
  readonly rawQuery?: string;
  /** Lower-case names. Middlewares may change them. */
  readonly headers: Record<string, string | undefined>;
  readonly body: AsyncIterable<Uint8Array>;
  readonly remoteAddress: string;
  readonly signal: AbortSignal;
  readonly env: ProxyEnv;
}

export type ProxyHandler = (request: ProxyRequest) => Promise<ServerResponse>;

/** A middleware wraps the handler after it; subrequests it makes go to `next`. */
export type Middleware = (next: ProxyHandler) => ProxyHandler;

const EMPTY: AsyncIterable<Uint8Array> = {
  async *[Symbol.asyncIterator]() {
    // no body
  },
};

/** Client headers every subrequest keeps, as Swift's `make_env` copies `HTTP_REFERER`. */
const INHERITED = ['referer'] as const;

/**
 * A request a middleware makes on the client's behalf (Swift's `make_subrequest`): same env
 * (transaction id, identity, authorizer), its own method, path, headers and body. The
 * client's `Referer` goes along, so a segment container readable by a referrer ACL is read
 * for the client's request exactly when the client could read it itself.
 */
export function subrequest(parent: ProxyRequest, init: { method: string; path: string; query?: string | URLSearchParams; headers?: Record<string, string | undefined>; body?: AsyncIterable<Uint8Array>; source: string }): ProxyRequest {
  return {
    method: init.method,
    path: init.path,
    query: init.query instanceof URLSearchParams ? init.query : new URLSearchParams(init.query ?? ''),
    headers: { ...inherited(parent), ...init.headers },
    body: init.body ?? EMPTY,
    remoteAddress: parent.remoteAddress,
    signal: parent.signal,
    env: { ...parent.env, source: init.source },
  };
}

/**
 * The query string for a backend request: the client's own bytes when `query` still says
 * what they say (a middleware that changed `query` and spread the rest of the request along
 * leaves a `rawQuery` that no longer applies), else `query` encoded.
 */
export function backendQuery(req: ProxyRequest): string {
  const encoded = req.query.toString();
  if (req.rawQuery !== undefined && new URLSearchParams(req.rawQuery).toString() === encoded) return req.rawQuery;
  return encoded;
}

function inherited(parent: ProxyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of INHERITED) {
    const value = parent.headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Composes middlewares; the first listed sees a request first. */
export function pipeline(middlewares: readonly Middleware[], app: ProxyHandler): ProxyHandler {
  return middlewares.reduceRight<ProxyHandler>((next, middleware) => middleware(next), app);
}
