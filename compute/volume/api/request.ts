import type { HeaderBag } from '../../../common/constraints.ts';
import type { ApiVersion } from './microversion.ts';

/**
 * The caller as Cinder's RequestContext has it (built from the validated token, as
 * keystonemiddleware and oslo.context give it): user, project, roles, and `isAdmin` = has
 * the `admin` role.
 */
export interface VolumeContext {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  /** The caller's token, for calls on their behalf (their project's account). */
  readonly token: string;
}

/** A request as the volume API's handlers see it: routed, versioned, its caller known. */
export interface VolumeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: HeaderBag;
  /** The parsed JSON body (undefined when there was none). */
  readonly body: unknown;
  /** `http://host:port` as links show this service. */
  readonly base: string;
  readonly params: Readonly<Record<string, string>>;
  readonly version: ApiVersion;
  /** Set on every route that needs a token. */
  readonly context?: VolumeContext;
}

export interface VolumeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = (req: VolumeRequest) => Promise<VolumeResponse>;

export interface Route {
  readonly method: string;
  readonly path: string;
  /** `token`: a valid project-scoped `X-Auth-Token` is needed; `none`: version discovery. */
  readonly auth: 'token' | 'none';
  readonly handler: RouteHandler;
}

/**
 * The routes of a resource under `/v3/{project_id}` and, since microversion 3.67, under
 * `/v3` without it (Cinder answers both).
 */
export function projectRoutes(routes: readonly Route[]): Route[] {
  return routes.flatMap((r) => [{ ...r, path: `/v3/{project_id}${r.path}` }, { ...r, path: `/v3${r.path}` }]);
}
