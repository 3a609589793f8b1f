import type { IdentityRequest, IdentityResponse } from './request.ts';

export type RouteHandler = (req: IdentityRequest) => Promise<IdentityResponse>;

/**
 * An identity route: method, path template (`/v3/users/{user_id}`), handler, and whether the
 * caller must present a valid `X-Auth-Token` (`token`), may (`optional`), or none is looked at
 * (`none`).
 */
export interface Route {
  readonly method: string;
  readonly path: string;
  readonly auth: 'token' | 'optional' | 'none';
  readonly handler: RouteHandler;
}
