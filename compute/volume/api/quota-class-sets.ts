import { pyRepr } from '../../validation.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { forbidden } from './forbidden.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/** Cinder's DB_MAX_INT, the largest quota value. */
const DB_MAX_INT = 0x7fffffff;

/** jsonschema's complaint about a member, as Cinder's validator wraps it. */
function fieldError(field: string, value: unknown, message: string): CinderError {
  return new CinderError(400, `Invalid input for field/attribute ${field}. Value: ${typeof value === 'string' ? value : pyRepr(value)}. ${message}`);
}

/**
 * Cinder's `quota_class_set` schema: known quota names only (its format check, before any
 * value), each an integer from -1 or a string of digits.
 */
function classChanges(body: unknown, known: readonly string[]): Record<string, number> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CinderError(400, `${pyRepr(body ?? null)} is not of type 'object'`);
  if (!('quota_class_set' in body)) throw new CinderError(400, "'quota_class_set' is a required property");
  const extra = Object.keys(body).filter((k) => k !== 'quota_class_set');
  if (extra.length > 0) throw new CinderError(400, `Additional properties are not allowed (${extra.map((k) => pyRepr(k)).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  const set = (body as Record<string, unknown>)['quota_class_set'];
  if (!set || typeof set !== 'object' || Array.isArray(set)) throw fieldError('quota_class_set', set, `${pyRepr(set)} is not of type 'object'`);
  if (Object.keys(set).some((k) => !known.includes(k))) throw fieldError('quota_class_set', set, `${pyRepr(set)} is not a 'quota_class_set'`);
  const changes: Record<string, number> = {};
  for (const [key, value] of Object.entries(set as Record<string, unknown>)) {
    if (typeof value === 'string') {
      if (!/^[0-9]*$/.test(value)) throw fieldError(key, value, `${pyRepr(value)} does not match '^[0-9]*$'`);
      if (value === '') throw fieldError(key, value, "'' should be non-empty");
    } else if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw fieldError(key, value, `${pyRepr(value)} is not of type 'integer', 'string'`);
    }
    const n = Number(value);
    if (n < -1) throw fieldError(key, value, `${pyRepr(value)} is less than the minimum of -1`);
    if (n > DB_MAX_INT) throw fieldError(key, value, `${pyRepr(value)} is greater than the maximum of ${DB_MAX_INT}`);
    changes[key] = n;
  }
  return changes;
}

/**
 * Cinder's os-quota-class-sets (cinder/api/contrib/quota_classes.py), admins only: a class's
 * limits over the defaults, and setting them. The `default` class is every project's defaults
 * (`use_default_quota_class`); other classes are kept but apply to no project.
 */
export function quotaClassSetRoutes(deps: VolumeApiDeps): Route[] {
  const { quotas } = deps;
  const className = (req: VolumeRequest): string => req.params['class_name'] as string;

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => {
    if (!contextOf(req).isAdmin) throw forbidden('volume_extension:quota_classes:get');
    return { status: 200, body: { quota_class_set: { ...(await quotas.classLimits(className(req))), id: className(req) } } };
  };

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const changes = classChanges(req.body, await quotas.resourceNames());
    if (!contextOf(req).isAdmin) throw forbidden('volume_extension:quota_classes:update');
    const id = className(req);
    if (id.length > 255) throw new CinderError(400, 'Invalid input received: quota_class_name has more than 255 characters.');
    await quotas.setClassLimits(id, changes);
    return { status: 200, body: { quota_class_set: await quotas.classLimits(id) } };
  };

  return [
    { method: 'GET', path: '/os-quota-class-sets/{class_name}', auth: 'token', handler: show },
    { method: 'PUT', path: '/os-quota-class-sets/{class_name}', auth: 'token', handler: update },
  ];
}
