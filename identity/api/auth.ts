import { TokenRefusedError, type ValidatedToken } from '../../common/token/token-validator.ts';
import type { IdentityDeps } from '../deps.ts';
import { forbiddenAction, notFoundMessage } from '../errors.ts';
import { caller, isAdmin } from '../policy.ts';
import { type DomainRecord, type ProjectRecord, renderDomain, renderList, renderProject } from '../records.ts';
import { NO_CONTENT, ok, selfUrl, type IdentityRequest } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { buildCatalog } from '../catalog.ts';

/**
 * `/v3/auth/*`: issue a token (`POST /v3/auth/tokens`, `X-Subject-Token`), validate, check and
 * revoke one (`GET`, `HEAD`, `DELETE` with `X-Subject-Token`), and what a token may reach:
 * its catalog, projects, domains and system.
 */
export function authRoutes(deps: IdentityDeps): Route[] {
  const subject = async (req: IdentityRequest): Promise<{ token: string; validated: ValidatedToken }> => {
    const token = req.headers['x-subject-token'] ?? '';
    let validated: ValidatedToken;
    try {
      validated = deps.validator.validate(token, { allowExpired: req.query.has('allow_expired') && req.query.get('allow_expired') !== '0' });
    } catch (err) {
      if (!(err instanceof TokenRefusedError)) throw err;
      throw notFoundMessage(err.reason === 'invalid' ? 'Could not recognize Fernet token' : 'Failed to validate token');
    }
    const me = caller(req);
    if (!isAdmin(me) && !me.roles.some((r) => r.name === 'service') && me.userId !== validated.userId) throw forbiddenAction('identity:validate_token');
    return { token, validated };
  };
  const catalogWanted = (req: IdentityRequest): boolean => !req.query.has('nocatalog');

  return [
    {
      method: 'POST',
      path: '/v3/auth/tokens',
      auth: 'none',
      handler: async (req) => {
        const view = await deps.issuer.authenticate(req.body);
        return ok(await deps.issuer.render(view, { catalog: catalogWanted(req) }), 201, { 'X-Subject-Token': view.token });
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/tokens',
      auth: 'token',
      handler: async (req) => {
        const { token, validated } = await subject(req);
        const view = await deps.issuer.describe(token, validated);
        if (!view) throw notFoundMessage('Failed to validate token');
        return ok(await deps.issuer.render(view, { catalog: catalogWanted(req) }), 200, { 'X-Subject-Token': token });
      },
    },
    {
      method: 'HEAD',
      path: '/v3/auth/tokens',
      auth: 'token',
      handler: async (req) => {
        const { token, validated } = await subject(req);
        if (!(await deps.issuer.describe(token, validated))) throw notFoundMessage('Failed to validate token');
        return { status: 200, headers: { 'X-Subject-Token': token, 'Content-Type': 'application/json' } };
      },
    },
    {
      method: 'DELETE',
      path: '/v3/auth/tokens',
      auth: 'token',
      handler: async (req) => {
        const { validated } = await subject(req);
        await deps.revocations.revoke({ audit_id: validated.auditIds[0] as string });
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/catalog',
      auth: 'token',
      handler: async (req) => {
        const scope = caller(req).scope;
        if (scope.kind === 'unscoped') throw forbiddenAction('identity:get_auth_catalog');
        return ok({ catalog: await buildCatalog(deps.store, scope.kind === 'project' ? scope.projectId : undefined), links: { self: selfUrl(req) } });
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/projects',
      auth: 'token',
      handler: async (req) => ok(renderList('projects', (await userProjects(deps, caller(req).userId)).filter((p) => p.enabled).map((p) => renderProject(p, req.base)), selfUrl(req))),
    },
    {
      method: 'GET',
      path: '/v3/auth/domains',
      auth: 'token',
      handler: async (req) => {
        const ids = new Set((await deps.resolver.effective(caller(req).userId)).flatMap((a) => ('domain' in a.target ? [a.target.domain] : [])));
        const domains = (await Promise.all([...ids].map((id) => deps.store.get<DomainRecord>(T.domains, id)))).filter((d): d is DomainRecord => d?.enabled === true);
        return ok(renderList('domains', domains.map((d) => renderDomain(d, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/auth/system',
      auth: 'token',
      handler: async (req) => {
        const system = (await deps.resolver.effective(caller(req).userId, { system: 'all' })).length > 0;
        return ok({ system: system ? [{ all: true }] : [], links: { self: selfUrl(req) } });
      },
    },
  ];
}

/** The projects a user has a role on, directly or through a group. */
export async function userProjects(deps: IdentityDeps, userId: string): Promise<ProjectRecord[]> {
  const ids = new Set((await deps.resolver.effective(userId)).flatMap((a) => ('project' in a.target ? [a.target.project] : [])));
  const projects = await Promise.all([...ids].map((id) => deps.store.get<ProjectRecord>(T.projects, id)));
  return projects.filter((p): p is ProjectRecord => p !== undefined);
}
