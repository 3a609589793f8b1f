import { DEFAULT_TYPE, typeVisibleTo, type VolumeType, VolumeTypeExists } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';
import { forbidden } from './forbidden.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, optionalString, parseBool } from './input.ts';
import type { Route, VolumeContext, VolumeRequest, VolumeResponse } from './request.ts';
import { typeInUse } from './type-in-use.ts';

/** Extra specs every user may read (cinder/policies/type_extra_specs.py); the rest are for admins. */
const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

function visibleSpecs(ctx: VolumeContext, specs: Readonly<Record<string, string>>): Record<string, string> {
  return ctx.isAdmin ? { ...specs } : Object.fromEntries(Object.entries(specs).filter(([k]) => USER_VISIBLE_EXTRA_SPECS.includes(k)));
}

/**
 * cinder/api/v3/views/types.py with the os-volume-type-access extension; `qos_specs_id` only
 * for admins (`volume_extension:access_types_qos_specs_id` is `rule:admin_api`).
 */
export function typeView(ctx: VolumeContext, t: VolumeType): Record<string, unknown> {
  return { id: t.id, name: t.name, is_public: t.is_public, extra_specs: visibleSpecs(ctx, t.extra_specs), description: t.description, ...(ctx.isAdmin ? { qos_specs_id: t.qos_specs_id ?? null } : {}), 'os-volume-type-access:is_public': t.is_public };
}

/** Extra spec keys and values: strings of 1..255 (Cinder's extra_specs schema). @throws 400 */
function specsOf(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new CinderError(400, `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    const text = typeof val === 'string' ? val : typeof val === 'number' || typeof val === 'boolean' ? String(val) : undefined;
    if (k.length < 1 || k.length > 255 || text === undefined || text.length > 255) throw new CinderError(400, `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}.`);
    out[k] = text;
  }
  return out;
}

/**
 * Volume types (cinder/api/v3/types.py, contrib/types_manage.py, contrib/types_extra_specs.py):
 * list and show for everyone (private types for admins only), create, update, delete and the
 * extra specs for admins. A type volumes use cannot be deleted nor its extra specs changed;
 * `__DEFAULT__` cannot be deleted.
 */
export function typeRoutes(deps: VolumeApiDeps): Route[] {
  const { types } = deps;

  const find = async (req: VolumeRequest): Promise<VolumeType> => {
    const ctx = contextOf(req);
    const id = req.params['type_id'] as string;
    const found = id === 'default' ? await types.get(DEFAULT_TYPE.id) : await types.get(id);
    if (!found || !typeVisibleTo(found, ctx.projectId, ctx.isAdmin)) throw new CinderError(404, `Volume type ${id} could not be found.`);
    return found;
  };
  const inUse = (typeId: string): Promise<boolean> => typeInUse(deps.records, typeId);

  const list = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    let rows = await types.list();
    const isPublic = req.query.get('is_public');
    if (!ctx.isAdmin) rows = rows.filter((t) => typeVisibleTo(t, ctx.projectId, false));
    else if (isPublic !== null && isPublic.toLowerCase() !== 'none') {
      const want = parseBool(isPublic, 'is_public');
      rows = rows.filter((t) => t.is_public === want);
    }
    return { status: 200, body: { volume_types: rows.map((t) => typeView(ctx, t)) } };
  };

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('volume_extension:type_create');
    const body = bodyObject(req, 'volume_type');
    const name = optionalString(body, 'name');
    if (!name || name.trim() === '') throw new CinderError(400, `Invalid input for field/attribute name. Value: ${JSON.stringify(name ?? null)}. 'name' is a required property`);
    const type: VolumeType = {
      id: deps.newId(),
      name,
      description: optionalString(body, 'description', 255) ?? null,
      is_public: body['os-volume-type-access:is_public'] === undefined ? true : parseBool(body['os-volume-type-access:is_public'], 'is_public'),
      extra_specs: specsOf(body['extra_specs'], 'extra_specs'),
    };
    try {
      await types.create(type);
    } catch (err) {
      if (err instanceof VolumeTypeExists) throw new CinderError(409, err.message);
      throw err;
    }
    return { status: 200, body: { volume_type: typeView(ctx, type) } };
  };

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('volume_extension:type_update');
    const body = bodyObject(req, 'volume_type');
    const name = optionalString(body, 'name');
    const description = optionalString(body, 'description');
    const isPublic = body['is_public'] === undefined || body['is_public'] === null ? undefined : parseBool(body['is_public'], 'is_public');
    if (name != null && name.trim() === '') throw new CinderError(400, 'Volume type name can not be empty.');
    if (name == null && description == null && isPublic === undefined) throw new CinderError(400, 'Specify volume type name, description, is_public or a combination thereof.');
    const current = await find(req);
    // Volumes and quotas name the default type by its name: it keeps it (our rule, not Cinder's).
    if (current.id === DEFAULT_TYPE.id && name != null && name !== DEFAULT_TYPE.name) throw new CinderError(400, `Invalid volume type: the default type ${DEFAULT_TYPE.name} keeps its name.`);
    let updated: VolumeType | undefined;
    try {
      updated = await types.update(current.id, (cur) => ({ ...cur, ...(name != null ? { name } : {}), ...(description != null ? { description } : {}), ...(isPublic !== undefined ? { is_public: isPublic } : {}) }));
    } catch (err) {
      if (err instanceof VolumeTypeExists) throw new CinderError(409, err.message);
      throw err;
    }
    if (!updated) throw new CinderError(404, `Volume type ${current.id} could not be found.`);
    return { status: 200, body: { volume_type: typeView(ctx, updated) } };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden('volume_extension:type_delete');
    const type = await find(req);
    if (type.id === DEFAULT_TYPE.id) throw new CinderError(400, `The volume type ${type.id} is a default volume type and cannot be deleted.`);
    if (await inUse(type.id)) throw new CinderError(400, 'Target volume type is still in use.');
    await types.delete(type);
    return { status: 202 };
  };

  const specs = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const type = await find(req);
    return { status: 200, body: { extra_specs: visibleSpecs(contextOf(req), type.extra_specs) } };
  };

  const changeSpecs = async (req: VolumeRequest, action: string, change: (specs: Record<string, string>) => void): Promise<VolumeType> => {
    const ctx = contextOf(req);
    if (!ctx.isAdmin) throw forbidden(action);
    const type = await find(req);
    if (await inUse(type.id)) throw new CinderError(400, 'Volume Type is currently in use.');
    const updated = await types.update(type.id, (cur) => {
      const extra = { ...cur.extra_specs };
      change(extra);
      return { ...cur, extra_specs: extra };
    });
    if (!updated) throw new CinderError(404, `Volume type ${type.id} could not be found.`);
    return updated;
  };

  const setSpecs = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || !('extra_specs' in body)) throw new CinderError(400, "Invalid input for field/attribute extra_specs. Value: None. 'extra_specs' is a required property");
    const given = specsOf(body['extra_specs'], 'extra_specs');
    await changeSpecs(req, 'volume_extension:types_extra_specs:create', (s) => Object.assign(s, given));
    return { status: 200, body: { extra_specs: given } };
  };

  const showSpec = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const type = await find(req);
    const key = req.params['key'] as string;
    const visible = visibleSpecs(contextOf(req), type.extra_specs);
    if (!(key in visible)) throw new CinderError(404, `Volume Type ${type.id} has no extra specs with key ${key}.`);
    return { status: 200, body: { [key]: visible[key] } };
  };

  const putSpec = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const key = req.params['key'] as string;
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !(key in body)) {
      if (!contextOf(req).isAdmin) throw forbidden('volume_extension:types_extra_specs:update');
      throw new CinderError(400, 'Request body and URI mismatch');
    }
    const given = specsOf(body, 'extra_specs');
    await changeSpecs(req, 'volume_extension:types_extra_specs:update', (s) => Object.assign(s, given));
    return { status: 200, body: given };
  };

  const deleteSpec = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const key = req.params['key'] as string;
    let missing = false;
    const type = await changeSpecs(req, 'volume_extension:types_extra_specs:delete', (s) => {
      if (!(key in s)) missing = true;
      delete s[key];
    });
    if (missing) throw new CinderError(404, `Volume Type ${type.id} has no extra specs with key ${key}.`);
    return { status: 202 };
  };

  return [
    { method: 'GET', path: '/types', auth: 'token', handler: list },
    { method: 'POST', path: '/types', auth: 'token', handler: create },
    { method: 'GET', path: '/types/{type_id}', auth: 'token', handler: async (req) => ({ status: 200, body: { volume_type: typeView(contextOf(req), await find(req)) } }) },
    { method: 'PUT', path: '/types/{type_id}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/types/{type_id}', auth: 'token', handler: remove },
    { method: 'GET', path: '/types/{type_id}/extra_specs', auth: 'token', handler: specs },
    { method: 'POST', path: '/types/{type_id}/extra_specs', auth: 'token', handler: setSpecs },
    { method: 'GET', path: '/types/{type_id}/extra_specs/{key}', auth: 'token', handler: showSpec },
    { method: 'PUT', path: '/types/{type_id}/extra_specs/{key}', auth: 'token', handler: putSpec },
    { method: 'DELETE', path: '/types/{type_id}/extra_specs/{key}', auth: 'token', handler: deleteSpec },
  ];
}
