import { HttpBadRequest, InvalidAttribute } from '../errors.ts';
import { pyText, toInt } from '../attributes.ts';
import type { NetworkDeps } from '../deps.ts';
import { PolicyNotAuthorized } from '../errors.ts';
import { isOwner, requireAdmin } from '../policy.ts';
import { projectQuotas, QUOTA_TYPES } from '../quota-check.ts';
import type { QuotaRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, ok, type NetworkRequest, type NetworkRoute } from '../request.ts';
import { listAllKeys } from '../../../client/record-update.ts';

/** Neutron's DB_INTEGER_MAX_VALUE, the top of a quota's range. */
const MAX_QUOTA = 2 ** 31 - 1;

/** The quotas API (neutron/extensions/quotasv2.py, quotasv2_detail.py): limits per project, admins set them. */
export function quotaRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const readable = (req: NetworkRequest, action: string): string => {
    const projectId = req.params.project_id as string;
    if (!isOwner(ctxOf(req), projectId)) throw new PolicyNotAuthorized(`rule:${action}`);
    return projectId;
  };
  return [
    {
      method: 'GET',
      path: '/v2.0/quotas',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(ctxOf(req), 'rule:get_quota');
        const quotas = [];
        for await (const key of listAllKeys(store.records, 'quotas')) {
          const record = await store.get<QuotaRecord>('quotas', key);
          if (record) quotas.push({ ...(await projectQuotas(deps, key)), project_id: key, tenant_id: key });
        }
        return ok({ quotas });
      },
    },
    {
      method: 'GET',
      path: '/v2.0/quotas/{project_id}',
      auth: 'token',
      handler: async (req) => ok({ quota: await projectQuotas(deps, readable(req, 'get_quota')) }),
    },
    {
      method: 'GET',
      path: '/v2.0/quotas/{project_id}/default',
      auth: 'token',
      handler: async (req) => {
        const projectId = readable(req, 'get_quota');
        return ok({ quota: { ...deps.settings.quotas, project_id: projectId, tenant_id: projectId } });
      },
    },
    {
      method: 'GET',
      path: '/v2.0/quotas/{project_id}/details',
      auth: 'token',
      handler: async (req) => {
        const projectId = readable(req, 'get_quota');
        const limits = await projectQuotas(deps, projectId);
        const quota: Record<string, { limit: number; used: number; reserved: number }> = {};
        for (const [resource, limit] of Object.entries(limits)) {
          const type = QUOTA_TYPES[resource];
          const used = type ? (await store.scan<{ project_id: string }>(type)).filter((r) => r.project_id === projectId).length : 0;
          quota[resource] = { limit, used, reserved: 0 };
        }
        return ok({ quota });
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/quotas/{project_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(ctxOf(req), 'rule:update_quota');
        const projectId = req.params.project_id as string;
        const body = req.body as { quota?: Record<string, unknown> } | undefined;
        if (!body || typeof body.quota !== 'object' || body.quota === null) throw new HttpBadRequest("Unable to find 'quota' in request body");
        const unknown = Object.keys(body.quota).filter((k) => !(k in deps.settings.quotas));
        if (unknown.length > 0) throw new HttpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
        const limits: Record<string, number> = {};
        for (const [resource, value] of Object.entries(body.quota)) {
          const n = toInt(value);
          if (n < -1 || n > MAX_QUOTA) throw new InvalidAttribute(resource, `'${pyText(n)}' is not in range -1 through ${MAX_QUOTA}`);
          limits[resource] = n;
        }
        const existing = await store.get<QuotaRecord>('quotas', projectId);
        const record: QuotaRecord = { project_id: projectId, limits: { ...existing?.limits, ...limits } };
        await store.put('quotas', projectId, record);
        return ok({ quota: await projectQuotas(deps, projectId) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/quotas/{project_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(ctxOf(req), 'rule:delete_quota');
        await store.delete('quotas', req.params.project_id as string);
        return NO_CONTENT;
      },
    },
  ];
}
