import type { IdentityRequest, IdentityResponse } from './request.ts';

export type RouteHandler = (req: IdentityRequest) => Promise<IdentityResponse>;

/**
 * A route: method, path template (`/v3/users/{user_id}`), handler, and whether the caller must
 * present a valid `X-Auth-Token` (`token`), may (`optional`), or none is looked at (`none`).
 */
export interface Route {
  readonly method: string;
  readonly path: string;
  readonly auth: 'token' | 'optional' | 'none';
  readonly handler: RouteHandler;
}

interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** Matches a path against route templates; a path with routes but not for this method is a 405. */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.routes = routes.map((r) => {
      const names: string[] = [];
      const source = r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { ...r, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** The route and its path parameters (decoded); `allowed` lists the methods when only the method is wrong. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET' && !this.routes.some((r) => r.method === 'HEAD' && r.pattern.test(path)))) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [i, name] of route.names.entries()) params[name] = safeDecode(m[i + 1] ?? '');
      return { route, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
