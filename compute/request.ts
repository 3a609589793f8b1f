import type { HeaderBag } from '../common/constraints.ts';
import type { ApiVersion } from './api-version.ts';

/**
 * Who is asking, as keystonemiddleware and oslo.context give Nova: the token's user and
 * project, its role names, and `isAdmin` (the `admin` role, Nova's `context.is_admin`).
 */
export interface ComputeContext {
  readonly userId: string;
  /** The token's project; tokens without one are refused at the edge (Nova needs a project). */
  readonly projectId: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
}

/** A request as compute's handlers see it: routed, its body parsed, version and caller known. */
export interface ComputeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly rawQuery: string;
  readonly headers: HeaderBag;
  /** The parsed JSON body (undefined when there was none). */
  readonly body: unknown;
  /** `http://host:port` as links show this service. */
  readonly base: string;
  readonly params: Readonly<Record<string, string>>;
  /** The microversion the request asked for (api-version.ts). */
  readonly version: ApiVersion;
  /** This request's id (`x-openstack-request-id`), for os-instance-actions. */
  readonly requestId: string;
  /** Set on every route but the version documents. */
  readonly context?: ComputeContext;
}

export interface ComputeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export function ok(body: unknown, status = 200, headers?: Readonly<Record<string, string>>): ComputeResponse {
  return { status, body, ...(headers ? { headers } : {}) };
}

export const ACCEPTED: ComputeResponse = { status: 202 };
export const NO_CONTENT: ComputeResponse = { status: 204 };

export type ComputeHandler = (req: ComputeRequest) => Promise<ComputeResponse>;

/** A compute route; `auth: 'none'` only for the version documents. */
export interface ComputeRoute {
  readonly method: string;
  readonly path: string;
  readonly auth: 'token' | 'none';
  readonly handler: ComputeHandler;
}

/** The caller of a token route (the edge guarantees one). */
export function contextOf(req: ComputeRequest): ComputeContext {
  if (!req.context) throw new Error('route without a caller');
  return req.context;
}
