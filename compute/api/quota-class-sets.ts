import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest } from '../errors.ts';
import { requireAdmin } from '../policy.ts';
import { CONFIGURED_QUOTAS, classLimits, PERSONALITY_QUOTAS, type QuotaLimits } from '../quota.ts';
import { NETWORK_QUOTAS, type QuotaClassRecord, type QuotaName, T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember } from '../validation.ts';
import { quotaValue } from './quota-value.ts';

/**
 * What os-quota-class-sets hides at a version: the server group quotas before 2.50 (v2.1 left
 * them out until then), nova-network's from 2.50, personality's from 2.57.
 */
function hidden(req: ComputeRequest): QuotaName[] {
  if (!atLeast(req.version, '2.50')) return ['server_groups', 'server_group_members'];
  const out = Object.keys(NETWORK_QUOTAS) as QuotaName[];
  if (atLeast(req.version, '2.57')) out.push(...PERSONALITY_QUOTAS);
  return out;
}

function shown(req: ComputeRequest, limits: QuotaLimits): Record<string, number> {
  const skip = hidden(req);
  const out: Record<string, number> = {};
  for (const [name, limit] of Object.entries(limits) as [QuotaName, number][]) if (!skip.includes(name)) out[name] = limit;
  return out;
}

/**
 * os-quota-class-sets (admins): a quota class's limits, over nova.conf's defaults. Any name may
 * be set, but only `default` takes effect (Nova's DbQuotaDriver): it is the defaults of every
 * project without its own limits, and os-quota-sets' `defaults`.
 */
export function quotaClassSetRoutes(store: ComputeStore): ComputeRoute[] {
  const className = (req: ComputeRequest): string => req.params['id'] as string;
  return [
    {
      method: 'GET',
      path: '/v2.1/os-quota-class-sets/{id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-quota-class-sets:show');
        return ok({ quota_class_set: { id: className(req), ...shown(req, await classLimits(store, className(req))) } });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/os-quota-class-sets/{id}',
      auth: 'token',
      handler: async (req) => {
        const skip = hidden(req);
        // Before 2.50 the update schema still takes the server group quotas (only the answer leaves them out).
        const names = (Object.keys(CONFIGURED_QUOTAS) as QuotaName[]).filter((n) => atLeast(req.version, '2.50') ? !skip.includes(n) : true);
        const q = bodyMember(req.body, 'quota_class_set', names);
        requireAdmin(req, 'os_compute_api:os-quota-class-sets:update');
        const id = className(req);
        if (id.length > 255) throw badRequest('quota_class_name has more than 255 characters.');
        const changes: Partial<Record<QuotaName, number>> = {};
        for (const name of names) if (q[name] !== undefined) changes[name] = quotaValue(name, q[name]);
        const updated = await updateRecord<QuotaClassRecord>(store.records, T.quotaClasses, id, (cur) => ({ class_name: id, limits: { ...cur.value.limits, ...changes } }));
        if (!updated) await store.records.put(T.quotaClasses, id, { class_name: id, limits: changes } satisfies QuotaClassRecord);
        return ok({ quota_class_set: shown(req, await classLimits(store, id)) });
      },
    },
  ];
}
