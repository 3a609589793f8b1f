import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest } from '../errors.ts';
import { requireAdmin, requireProjectOrAdmin } from '../policy.ts';
import { type QuotaLimits, quotaLimits } from '../quota.ts';
import { DEFAULT_QUOTAS, type QuotaName, type QuotaRecord, T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import type { ProjectUsage } from '../usage.ts';
import { bodyMember, integerParam, booleanParam, fieldError, pyRepr } from '../validation.ts';

/** The quotas a version shows: the network ones (fixed) before 2.36, injected files before 2.57. */
function shown(req: ComputeRequest, limits: QuotaLimits, value: (name: string, limit: number) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, limit] of Object.entries(limits)) {
    if (name.startsWith('injected_file') && atLeast(req.version, '2.57')) continue;
    out[name] = value(name, limit);
  }
  if (!atLeast(req.version, '2.36')) {
    // nova-network's quotas, shown by Nova's API with these values since Neutron took over.
    for (const [name, limit] of Object.entries({ fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1, networks: -1 })) out[name] = value(name, limit);
  }
  return out;
}

/**
 * os-quota-sets: a project's limits (its members and admins read them; admins change and reset
 * them), `detail` with what is in use, and the defaults.
 */
export function quotaSetRoutes(store: ComputeStore, usage: ProjectUsage): ComputeRoute[] {
  const project = (req: ComputeRequest): string => req.params['tenant_id'] as string;
  return [
    {
      method: 'GET',
      path: '/v2.1/os-quota-sets/{tenant_id}/defaults',
      auth: 'token',
      handler: async (req) => ok({ quota_set: { id: project(req), ...shown(req, { ...DEFAULT_QUOTAS }, (_, l) => l) } }),
    },
    {
      method: 'GET',
      path: '/v2.1/os-quota-sets/{tenant_id}',
      auth: 'token',
      handler: async (req) => {
        requireProjectOrAdmin(req, 'os_compute_api:os-quota-sets:show', project(req));
        return ok({ quota_set: { id: project(req), ...shown(req, await quotaLimits(store, project(req)), (_, l) => l) } });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-quota-sets/{tenant_id}/detail',
      auth: 'token',
      handler: async (req) => {
        requireProjectOrAdmin(req, 'os_compute_api:os-quota-sets:detail', project(req));
        const used = (await usage.of(project(req))) as unknown as Record<string, number>;
        return ok({ quota_set: { id: project(req), ...shown(req, await quotaLimits(store, project(req)), (name, limit) => ({ in_use: used[name] ?? 0, limit, reserved: 0 })) } });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/os-quota-sets/{tenant_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-quota-sets:update');
        const names = Object.keys(DEFAULT_QUOTAS).filter((n) => !(n.startsWith('injected_file') && atLeast(req.version, '2.57')));
        const legacy = atLeast(req.version, '2.36') ? [] : ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules', 'networks'];
        const q = bodyMember(req.body, 'quota_set', [...names, ...legacy, 'force']);
        if (q['force'] !== undefined) booleanParam('force', q['force']);
        const changes: Partial<Record<QuotaName, number>> = {};
        for (const name of names) if (q[name] !== undefined) changes[name as QuotaName] = quotaValue(name, q[name]);
        const id = project(req);
        const record: QuotaRecord = { project_id: id, limits: changes };
        const updated = await updateRecord<QuotaRecord>(store.records, T.quotas, id, (cur) => ({ project_id: id, limits: { ...cur.value.limits, ...changes } }));
        if (!updated) await store.records.put(T.quotas, id, record);
        return ok({ quota_set: shown(req, await quotaLimits(store, id), (_, l) => l) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/os-quota-sets/{tenant_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-quota-sets:delete');
        await store.records.delete(T.quotas, project(req));
        return ACCEPTED;
      },
    },
  ];
}

/** Nova's quota values: integers from -1 (unlimited) up. */
function quotaValue(name: string, value: unknown): number {
  if (typeof value === 'string' && /^-1$/.test(value)) return -1;
  if (typeof value === 'number' && value === -1) return -1;
  if (typeof value === 'number' && value < -1) throw fieldError(name, value, `${pyRepr(value)} is less than the minimum of -1`);
  if (typeof value !== 'number' && typeof value !== 'string') throw badRequest(`Invalid input for field/attribute ${name}. Value: ${pyRepr(value)}. ${pyRepr(value)} is not of type 'integer', 'string'`);
  return integerParam(name, value, 0);
}
