/** What the router needs of a route; each service's route type adds its handler and auth rule. */
export interface RouteSpec {
  readonly method: string;
  /** A path template: `/v3/users/{user_id}`; each `{name}` matches one non-empty segment. */
  readonly path: string;
}

interface Compiled<R extends RouteSpec> {
  readonly route: R;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/**
 * Matches a path against route templates, for every OpenStack-style service; a path with routes
 * but not for this method answers `allowed` (a 405 with `Allow`). A GET route answers HEAD too
 * unless the path has a HEAD route of its own. Parameters are percent-decoded.
 */
export class Router<R extends RouteSpec> {
  private readonly routes: Compiled<R>[];

  constructor(routes: readonly R[]) {
    this.routes = routes.map((r) => {
      const names: string[] = [];
      const source = r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { route: r, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** The route and its path parameters (decoded); `allowed` lists the methods when only the method is wrong. */
  match(method: string, path: string): { route: R; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const compiled of this.routes) {
      const m = compiled.pattern.exec(path);
      if (!m) continue;
      const { route } = compiled;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET' && !this.routes.some((r) => r.route.method === 'HEAD' && r.pattern.test(path)))) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [i, name] of compiled.names.entries()) params[name] = safeDecode(m[i + 1] ?? '');
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
