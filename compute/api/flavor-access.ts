import { updateRecord } from '../../client/record-update.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { requireAdmin } from '../policy.ts';
import { type FlavorRecord, T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember } from '../validation.ts';

function accessList(f: FlavorRecord): unknown {
  return { flavor_access: f.projects.map((p) => ({ flavor_id: f.flavorid, tenant_id: p })) };
}

/**
 * os-flavor-access: which projects may use a private flavor (admins only): the list, and the
 * `addTenantAccess` / `removeTenantAccess` actions on `POST /flavors/{id}/action`.
 */
export function flavorAccessRoutes(store: ComputeStore): ComputeRoute[] {
  const load = async (req: ComputeRequest): Promise<FlavorRecord> => {
    const id = req.params['flavor_id'] as string;
    const f = await store.get<FlavorRecord>(T.flavors, id);
    if (!f) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  };
  return [
    {
      method: 'GET',
      path: '/v2.1/flavors/{flavor_id}/os-flavor-access',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-flavor-access');
        const f = await load(req);
        if (f.is_public) throw notFound('Access list not available for public flavors.');
        return ok(accessList(f));
      },
    },
    {
      method: 'POST',
      path: '/v2.1/flavors/{flavor_id}/action',
      auth: 'token',
      handler: async (req) => {
        const add = typeof req.body === 'object' && req.body !== null && 'addTenantAccess' in req.body;
        requireAdmin(req, add ? 'os_compute_api:os-flavor-access:add_tenant_access' : 'os_compute_api:os-flavor-access:remove_tenant_access');
        const action = add ? 'addTenantAccess' : 'removeTenantAccess';
        if (!add && !(typeof req.body === 'object' && req.body !== null && 'removeTenantAccess' in req.body)) throw badRequest(`There is no such action: ${Object.keys(req.body ?? {}).join(', ')}`);
        const tenant = bodyMember(req.body, action, ['tenant'], ['tenant'])['tenant'];
        if (typeof tenant !== 'string' || tenant === '') throw badRequest(`Invalid input for field/attribute tenant. Value: ${String(tenant)}.`);
        const f = await load(req);
        if (add && f.is_public) throw conflict('Can not add access to a public flavor.');
        let problem: Error | undefined;
        const updated = await updateRecord<FlavorRecord>(store.records, T.flavors, f.flavorid, (cur) => {
          const has = cur.value.projects.includes(tenant);
          problem = undefined;
          if (add && has) problem = conflict(`Flavor access already exists for flavor ${f.flavorid} and project ${tenant} combination.`);
          if (!add && !has) problem = notFound(`Flavor access not found for ${f.flavorid} / ${tenant} combination.`);
          if (problem) return undefined;
          return { ...cur.value, projects: add ? [...cur.value.projects, tenant] : cur.value.projects.filter((p) => p !== tenant) };
        });
        if (problem) throw problem;
        if (!updated) throw notFound(`Flavor ${f.flavorid} could not be found.`);
        return ok(accessList(updated.value));
      },
    },
  ];
}
