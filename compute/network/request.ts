import type { HeaderBag } from '../../common/constraints.ts';
import type { RouteSpec } from '../../common/http/router.ts';
import type { NetworkContext } from './context.ts';

/** A request as the network API's handlers see it: routed, its body parsed, its caller known. */
export interface NetworkRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: HeaderBag;
  /** The parsed JSON body (undefined when there was none). */
  readonly body: unknown;
  /** `http://host:port` as links show this service. */
  readonly base: string;
  readonly params: Readonly<Record<string, string>>;
  /** The caller, from its validated token; set on every route with `auth: 'token'`. */
  readonly ctx?: NetworkContext;
}

export interface NetworkResponse {
  readonly status: number;
  readonly body?: unknown;
}

export type NetworkHandler = (req: NetworkRequest) => Promise<NetworkResponse>;

/** A network API route; `none` routes (version discovery) are answered without a token. */
export interface NetworkRoute extends RouteSpec {
  readonly auth: 'token' | 'none';
  readonly handler: NetworkHandler;
}

export function ok(body: unknown, status = 200): NetworkResponse {
  return { status, body };
}

export const NO_CONTENT: NetworkResponse = { status: 204 };

/** The caller (every `token` route has one). */
export function ctxOf(req: NetworkRequest): NetworkContext {
  if (!req.ctx) throw new Error('route without a caller');
  return req.ctx;
}
