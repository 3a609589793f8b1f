import type { HeaderBag } from '../common/constraints.ts';
import type { ValidatedToken } from '../common/token/token-validator.ts';
import type { Json } from './validation.ts';

/** A request as identity's handlers see it: parsed, routed, its caller's token validated. */
export interface IdentityRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly rawQuery: string;
  readonly headers: HeaderBag;
  /** The parsed JSON body (undefined when there was none). */
  readonly body: unknown;
  /** `http://host:port` as links and the catalog show this service. */
  readonly base: string;
  /** The caller's token (`X-Auth-Token`), validated; set on every route that needs one. */
  readonly caller?: ValidatedToken;
  readonly params: Readonly<Record<string, string>>;
}

export interface IdentityResponse {
  readonly status: number;
  readonly body?: Json;
  readonly headers?: Readonly<Record<string, string>>;
}

export function ok(body: Json, status = 200, headers?: Readonly<Record<string, string>>): IdentityResponse {
  return { status, body, ...(headers ? { headers } : {}) };
}

export const NO_CONTENT: IdentityResponse = { status: 204 };

/** The URL of this request as Keystone's list `links.self` shows it (query included). */
export function selfUrl(req: IdentityRequest): string {
  return `${req.base}${req.path}${req.rawQuery ? `?${req.rawQuery}` : ''}`;
}
