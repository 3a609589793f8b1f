import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { requireAdmin, requireProjectOrAdmin } from '../policy.ts';
import { CONFIGURED_QUOTAS, defaultLimits, PERSONALITY_QUOTAS, type QuotaLimits, quotaLimits } from '../quota.ts';
import { NETWORK_QUOTAS, type QuotaName, type QuotaRecord, T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import type { ProjectUsage } from '../usage.ts';
import { bodyMember, booleanParam } from '../validation.ts';
import { quotaValue } from './quota-value.ts';

/** What os-quota-sets hides at a version: nova-network's quotas from 2.36, personality's from 2.57 (FILTERED_QUOTAS_v236, _v257). */
function hidden(req: ComputeRequest): QuotaName[] {
  const out: QuotaName[] = [];
  if (atLeast(req.version, '2.36')) out.push(...(Object.keys(NETWORK_QUOTAS) as QuotaName[]));
  if (atLeast(req.version, '2.57')) out.push(...PERSONALITY_QUOTAS);
  return out;
}

/** The quotas a version shows, each as `value` makes it. */
function shown(req: ComputeRequest, limits: QuotaLimits, value: (name: QuotaName, limit: number) => unknown): Record<string, unknown> {
  const skip = hidden(req);
  const out: Record<string, unknown> = {};
  for (const [name, limit] of Object.entries(limits) as [QuotaName, number][]) if (!skip.includes(name)) out[name] = value(name, limit);
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
      handler: async (req) => ok({ quota_set: { id: project(req), ...shown(req, await defaultLimits(store), (_, l) => l) } }),
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
        const skip = hidden(req);
        const names = (Object.keys(CONFIGURED_QUOTAS) as QuotaName[]).filter((n) => !skip.includes(n));
        const q = bodyMember(req.body, 'quota_set', [...names, 'force']);
        if (q['force'] !== undefined) booleanParam('force', q['force']);
        const changes: Partial<Record<QuotaName, number>> = {};
        for (const name of names) if (q[name] !== undefined) changes[name] = quotaValue(name, q[name]);
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
