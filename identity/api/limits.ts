import type { ValidatedToken } from '../../common/token/token-validator.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, forbiddenAction } from '../errors.ts';
import { limitFilters, limitsCreate, limitUpdate } from '../limit-schema.ts';
import { newId } from '../lookup.ts';
import { caller, isAdmin, isSystemReader, requireAdmin } from '../policy.ts';
import { type LimitRecord, type ProjectRecord, type RegisteredLimitRecord, renderLimit, renderList } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { assertResourcesExist, limitKey, limitNotFound, noLimitReference, registeredLimitKey, registeredLimitsById } from '../unified-limits.ts';

const duplicate = (): Error => conflict('limit', 'Duplicate entry.');

/** Keystone's flat enforcement model, the only one served (keystone/limit/models/flat.py). */
const MODEL = { name: 'flat', description: 'Limit enforcement and validation does not take project hierarchy into consideration.' };

/**
 * Project and domain limits (keystone/api/limits.py), each overriding a registered limit's
 * default. Admins write them; the list shows a caller what Keystone shows it (everything to
 * admins and system-scoped tokens, its domain's to a domain token, its project's to a project
 * token), and one limit is shown to admins, system readers and its own domain or project.
 */
export function limitRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const mustGet = async (id: string): Promise<LimitRecord> => {
    const found = await store.get<LimitRecord>(T.limits, id);
    if (!found) throw limitNotFound(id);
    return found;
  };
  const render = async (limits: readonly LimitRecord[], base: string) => {
    const registered = await registeredLimitsById(store);
    return limits.map((l) => renderLimit(l, registered.get(l.registered_limit_id), base));
  };
  /** The `ADMIN_OR_SYSTEM_OR_DOMAIN_OR_PROJECT_USER` rule of `identity:get_limit`. */
  const mayRead = async (token: ValidatedToken, limit: LimitRecord | undefined): Promise<boolean> => {
    if (isAdmin(token) || isSystemReader(token)) return true;
    if (!limit) return false;
    const scope = token.scope;
    if (scope.kind === 'domain') {
      if (limit.domain_id === scope.domainId) return true;
      const project = limit.project_id !== null ? await store.get<ProjectRecord>(T.projects, limit.project_id) : undefined;
      return project?.domain_id === scope.domainId;
    }
    return scope.kind === 'project' && limit.project_id !== null && limit.project_id === scope.projectId;
  };
  return [
    {
      method: 'POST',
      path: '/v3/limits',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_limits');
        const inputs = limitsCreate(req.body);
        const owners = [];
        for (const input of inputs) owners.push(await assertResourcesExist(store, input, 'limit'));
        const records: LimitRecord[] = [];
        for (const [i, input] of inputs.entries()) {
          const registered = await store.byName<RegisteredLimitRecord>(T.registeredLimits, T.registeredLimitKeys, registeredLimitKey(input));
          if (!registered) throw noLimitReference();
          records.push({ id: newId(), ...(owners[i] as { project_id: string | null; domain_id: string | null }), registered_limit_id: registered.id, resource_limit: input.resource_limit, description: input.description });
        }
        const keys = records.map(limitKey);
        if (new Set(keys).size !== keys.length) throw duplicate();
        // All or none, as Keystone's one transaction.
        const made: LimitRecord[] = [];
        try {
          for (const record of records) {
            await store.createNamed(T.limits, T.limitKeys, limitKey(record), record, duplicate);
            made.push(record);
          }
        } catch (err) {
          for (const l of made) await store.deleteNamed(T.limits, T.limitKeys, limitKey(l), l.id).catch(() => undefined);
          throw err;
        }
        return ok({ limits: await render(made, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/limits',
      auth: 'token',
      handler: async (req) => {
        const token = caller(req);
        const f = limitFilters(req.query, ['service_id', 'region_id', 'resource_name', 'project_id', 'domain_id']);
        const registered = await registeredLimitsById(store);
        let limits = (await store.scan<LimitRecord>(T.limits)).filter((l) => {
          const r = registered.get(l.registered_limit_id);
          return (
            (f['service_id'] === undefined || r?.service_id === f['service_id']) &&
            (f['region_id'] === undefined || r?.region_id === f['region_id']) &&
            (f['resource_name'] === undefined || r?.resource_name === f['resource_name']) &&
            (f['project_id'] === undefined || l.project_id === f['project_id']) &&
            (f['domain_id'] === undefined || l.domain_id === f['domain_id'])
          );
        });
        const scope = token.scope;
        const superuser = scope.kind === 'system' || token.roles.some((r) => r.name === 'admin' || r.name === 'service');
        if (!superuser) {
          if (scope.kind === 'domain') {
            const inDomain = new Set((await store.scan<ProjectRecord>(T.projects)).filter((p) => p.domain_id === scope.domainId).map((p) => p.id));
            limits = limits.filter((l) => (l.project_id !== null ? inDomain.has(l.project_id) : l.domain_id === scope.domainId));
          } else if (scope.kind === 'project') {
            limits = limits.filter((l) => l.project_id === scope.projectId);
          } else {
            limits = [];
          }
        }
        return ok(renderList('limits', limits.map((l) => renderLimit(l, registered.get(l.registered_limit_id), req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/limits/model',
      auth: 'token',
      handler: async (req) => {
        caller(req);
        return ok({ model: MODEL });
      },
    },
    {
      method: 'GET',
      path: '/v3/limits/{limit_id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['limit_id'] as string;
        const limit = await store.get<LimitRecord>(T.limits, id);
        if (!(await mayRead(caller(req), limit))) throw forbiddenAction('identity:get_limit');
        if (!limit) throw limitNotFound(id);
        return ok({ limit: (await render([limit], req.base))[0] });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/limits/{limit_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_limit');
        const id = req.params['limit_id'] as string;
        const patch = limitUpdate(req.body);
        await mustGet(id);
        const updated = await store.update<LimitRecord>(T.limits, id, (l) => ({ ...l, ...patch }));
        if (!updated) throw limitNotFound(id);
        return ok({ limit: (await render([updated], req.base))[0] });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/limits/{limit_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_limit');
        const limit = await mustGet(req.params['limit_id'] as string);
        await store.deleteNamed(T.limits, T.limitKeys, limitKey(limit), limit.id);
        return NO_CONTENT;
      },
    },
  ];
}
