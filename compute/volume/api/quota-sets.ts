import { CinderError } from './cinder-error.ts';
import { forbidden } from './forbidden.ts';
import { contextOf, ownsOrAdmin } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { parseBool } from './input.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/** Cinder's DB_MAX_INT, the largest quota value. */
const DB_MAX_INT = 0x7fffffff;
/** Keys a quota_set may carry that are not quotas (cinder.quota.NON_QUOTA_KEYS). */
const NON_QUOTA_KEYS = ['tenant_id', 'id'];

/**
 * Cinder's os-quota-sets (cinder/api/contrib/quotas.py): show (`usage=true` gives in_use and
 * reserved), defaults, update and delete by an admin. Show's policy is the project's members or
 * an admin; update and delete are admin only.
 */
export function quotaSetRoutes(deps: VolumeApiDeps): Route[] {
  const { quotas } = deps;
  const target = (req: VolumeRequest): string => req.params['target_id'] as string;

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const id = target(req);
    if (!ownsOrAdmin(ctx, id)) throw forbidden('volume_extension:quotas:show');
    const usageParam = req.query.get('usage');
    const usage = usageParam === null ? false : parseBool(usageParam, 'usage');
    const quotaSet: Record<string, unknown> = usage ? await quotas.detail(id) : await quotas.limits(id);
    return { status: 200, body: { quota_set: { ...quotaSet, id } } };
  };

  const defaults = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const id = target(req);
    if (!ownsOrAdmin(ctx, id)) throw forbidden('volume_extension:quotas:show');
    return { status: 200, body: { quota_set: { ...(await quotas.defaultLimits()), id } } };
  };

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const id = target(req);
    if (!ctx.isAdmin) throw forbidden('volume_extension:quotas:update');
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !('quota_set' in body)) throw new CinderError(400, "'quota_set' is a required property");
    const extra = Object.keys(body).filter((k) => k !== 'quota_set');
    if (extra.length > 0) throw new CinderError(400, `Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
    const set = body['quota_set'];
    if (!set || typeof set !== 'object' || Array.isArray(set)) throw new CinderError(400, `Invalid input for field/attribute quota_set. Value: ${JSON.stringify(set)}. ${JSON.stringify(set)} is not of type 'object'`);
    const entries = Object.entries(set as Record<string, unknown>);
    if (entries.length === 0) throw new CinderError(400, 'Invalid input for field/attribute quota_set. Value: {}. {} does not have enough properties');
    const known = await quotas.resourceNames();
    const changes: Record<string, number> = {};
    const badKeys: string[] = [];
    // Cinder's `quota_set` format check: every value is checked as it comes; unknown keys are
    // collected and refused together at the end.
    for (const [key, value] of entries) {
      if (NON_QUOTA_KEYS.includes(key)) continue;
      if (!known.includes(key)) {
        badKeys.push(key);
        continue;
      }
      changes[key] = quotaValue(key, value);
    }
    if (badKeys.length > 0) throw new CinderError(400, `Invalid input received: Bad key(s) in quota set: ${badKeys.join(', ')}`);
    // Cinder checks a new limit against usage only for quotas the project had set itself
    // (get_project_quotas with defaults=False), and never for per_volume_gigabytes or -1.
    const own = await quotas.projectLimits(id);
    const used = await quotas.usage(id);
    for (const [key, value] of Object.entries(changes)) {
      if (key === 'per_volume_gigabytes' || value === -1 || own[key] === undefined) continue;
      const inUse = used[key] ?? 0;
      if (value < inUse) throw new CinderError(400, `Quota ${key} limit must be equal or greater than existing resources. Current usage is ${inUse} and the requested limit is ${value}.`);
    }
    await quotas.setLimits(id, changes);
    return { status: 200, body: { quota_set: await quotas.limits(id) } };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('volume_extension:quotas:delete');
    await quotas.deleteLimits(target(req));
    return { status: 200 };
  };

  return [
    { method: 'GET', path: '/os-quota-sets/{target_id}', auth: 'token', handler: show },
    { method: 'PUT', path: '/os-quota-sets/{target_id}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/os-quota-sets/{target_id}', auth: 'token', handler: remove },
    { method: 'GET', path: '/os-quota-sets/{target_id}/defaults', auth: 'token', handler: defaults },
  ];
}

/** oslo's strutils.validate_integer(value, key, -1, DB_MAX_INT), as Cinder's quota_set check uses it. */
function quotaValue(key: string, value: unknown): number {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : '';
  if (!/^[+-]?\d+$/.test(text)) throw new CinderError(400, `${key} must be an integer`);
  const n = Number(text);
  if (n < -1) throw new CinderError(400, `${key} must be >= -1`);
  if (n > DB_MAX_INT) throw new CinderError(400, `${key} must be <= ${DB_MAX_INT}`);
  return n;
}
