import { deleteRole } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, forbidden, notFoundMessage, validationError } from '../errors.ts';
import { mustGet, newId } from '../lookup.ts';
import { requireAdmin } from '../policy.ts';
import { renderList, renderRole, type RoleRecord } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, type Json, NAME, optionalObject, optionalString, requiredString, section } from '../validation.ts';

const KNOWN = ['id', 'name', 'domain_id', 'description', 'options', 'links'];
const ROLE_NAME = { ...NAME, max: 255 };

/**
 * Roles (`/v3/roles`, global: names unique) and implied roles (`/v3/roles/{prior}/implies/
 * {implied}`, `/v3/role_inferences`). Bootstrap's roles are immutable, as Keystone makes
 * them; `admin` may not be implied (Keystone's `prohibited_implied_role`). Deleting a role
 * revokes every token that carries it.
 */
export function roleRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const taken = (name: string) => (): Error => conflict('role', `Duplicate entry found with name ${name}.`);
  const immutable = (role: RoleRecord, verb: 'update' | 'delete'): void => {
    if (role.options['immutable'] === true) throw forbidden(`Unable to ${verb} immutable role resource: \`${role.id}. Set resource option "immutable" to false first.`);
  };
  const brief = (r: RoleRecord, base: string): Json => ({ id: r.id, links: { self: `${base}/v3/roles/${r.id}` }, name: r.name });
  const inference = async (priorId: string, impliedId: string, base: string): Promise<Json> => {
    const prior = await mustGet<RoleRecord>(store, T.roles, priorId, 'role');
    const implied = await mustGet<RoleRecord>(store, T.roles, impliedId, 'role');
    return {
      role_inference: { prior_role: brief(prior, base), implies: brief(implied, base) },
      links: { self: `${base}/v3/roles/${priorId}/implies/${impliedId}` },
    };
  };

  return [
    {
      method: 'POST',
      path: '/v3/roles',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_role');
        const body = section(req.body, 'role');
        const name = requiredString(body, 'name', ROLE_NAME);
        if (body['domain_id'] !== undefined && body['domain_id'] !== null) throw validationError('Domain-specific roles are not supported here.');
        const role: RoleRecord = { id: newId(), name, description: optionalString(body, 'description', { nullable: true }) ?? null, options: optionalObject(body, 'options') ?? {}, extra: extraFields(body, KNOWN) };
        await store.createNamed(T.roles, T.roleNames, name, role, taken(name));
        return ok({ role: renderRole(role, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/roles',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_roles');
        const name = req.query.get('name');
        const roles = (await store.scan<RoleRecord>(T.roles)).filter((r) => name === null || r.name === name);
        return ok(renderList('roles', roles.map((r) => renderRole(r, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/roles/{role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:get_role');
        return ok({ role: renderRole(await mustGet<RoleRecord>(store, T.roles, req.params['role_id'] as string, 'role'), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/roles/{role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_role');
        const id = req.params['role_id'] as string;
        const body = section(req.body, 'role');
        const name = optionalString(body, 'name', ROLE_NAME);
        const description = optionalString(body, 'description', { nullable: true });
        const options = optionalObject(body, 'options');
        const before = await mustGet<RoleRecord>(store, T.roles, id, 'role');
        // Setting `immutable` to false is the one change an immutable role takes.
        const unlocking = options?.['immutable'] === false && Object.keys(body).every((k) => k === 'options');
        if (!unlocking && (name !== undefined || description !== undefined || options?.['immutable'] !== undefined || Object.keys(extraFields(body, KNOWN)).length > 0)) immutable(before, 'update');
        if (name !== undefined && name !== before.name) await deps.revocations.revoke({ role_id: id });
        const updated = await store.update<RoleRecord>(
          T.roles,
          id,
          (r) => ({
            ...r,
            ...(name !== undefined ? { name } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(options !== undefined ? { options: { ...r.options, ...options } } : {}),
            extra: { ...r.extra, ...extraFields(body, KNOWN) },
          }),
          { nameType: T.roleNames, keyOf: (r) => r.name, conflict: taken(name ?? '') },
        );
        return ok({ role: renderRole(updated ?? before, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/roles/{role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_role');
        const role = await mustGet<RoleRecord>(store, T.roles, req.params['role_id'] as string, 'role');
        immutable(role, 'delete');
        await deleteRole(deps, role);
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v3/role_inferences',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_role_inference_rules');
        const roles = await deps.resolver.roles();
        const inferences: Json[] = [];
        for (const [prior, implied] of await deps.resolver.implications()) {
          const p = roles.get(prior);
          if (!p) continue;
          inferences.push({ prior_role: brief(p, req.base), implies: implied.flatMap((i) => (roles.has(i) ? [brief(roles.get(i) as RoleRecord, req.base)] : [])) });
        }
        return ok({ role_inferences: inferences, links: { self: selfUrl(req) } });
      },
    },
    {
      method: 'GET',
      path: '/v3/roles/{prior_role_id}/implies',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_implied_roles');
        const priorId = req.params['prior_role_id'] as string;
        const prior = await mustGet<RoleRecord>(store, T.roles, priorId, 'role');
        const roles = await deps.resolver.roles();
        const implied = (await deps.resolver.implications()).get(priorId) ?? [];
        return ok({
          role_inference: { prior_role: brief(prior, req.base), implies: implied.flatMap((i) => (roles.has(i) ? [brief(roles.get(i) as RoleRecord, req.base)] : [])) },
          links: { self: selfUrl(req) },
        });
      },
    },
    {
      method: 'PUT',
      path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_implied_role');
        const priorId = req.params['prior_role_id'] as string;
        const impliedId = req.params['implied_role_id'] as string;
        const implied = await mustGet<RoleRecord>(store, T.roles, impliedId, 'role');
        await mustGet<RoleRecord>(store, T.roles, priorId, 'role');
        if (implied.name === 'admin') throw forbidden(`${impliedId} is not permitted to be an implied role.`);
        if (priorId === impliedId || (await impliesTransitively(impliedId, priorId))) throw forbidden(`Implied role ${impliedId} would create a cycle.`);
        await store.mark(T.implications, `${priorId}/${impliedId}`);
        return ok(await inference(priorId, impliedId, req.base), 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:get_implied_role');
        const priorId = req.params['prior_role_id'] as string;
        const impliedId = req.params['implied_role_id'] as string;
        if (!(await store.records.get(T.implications, `${priorId}/${impliedId}`))) throw notFoundMessage(`${priorId} does not imply ${impliedId}.`);
        return ok(await inference(priorId, impliedId, req.base));
      },
    },
    {
      method: 'HEAD',
      path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:check_implied_role');
        const key = `${req.params['prior_role_id']}/${req.params['implied_role_id']}`;
        if (!(await store.records.get(T.implications, key))) throw notFoundMessage(`${req.params['prior_role_id']} does not imply ${req.params['implied_role_id']}.`);
        return NO_CONTENT;
      },
    },
    {
      method: 'DELETE',
      path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_implied_role');
        const priorId = req.params['prior_role_id'] as string;
        const impliedId = req.params['implied_role_id'] as string;
        if (!(await store.records.get(T.implications, `${priorId}/${impliedId}`))) throw notFoundMessage(`${priorId} does not imply ${impliedId}.`);
        await deps.revocations.revoke({ role_id: priorId });
        await store.records.delete(T.implications, `${priorId}/${impliedId}`);
        return NO_CONTENT;
      },
    },
  ];

  async function impliesTransitively(from: string, to: string): Promise<boolean> {
    const implications = await deps.resolver.implications();
    const seen = new Set<string>();
    const queue = [from];
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
      if (r === to) return true;
      if (seen.has(r)) continue;
      seen.add(r);
      queue.push(...(implications.get(r) ?? []));
    }
    return false;
  }
}
