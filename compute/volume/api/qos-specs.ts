import { pyRepr } from '../../validation.ts';
import { QOS_CONSUMERS, type QosConsumer, type QosSpec, QosSpecsExists } from '../qos-specs.ts';
import type { VolumeType } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { forbidden } from './forbidden.ts';
import { page, parseBool } from './input.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { additionalProperties, schemaError } from './schema-error.ts';
import { cinderTime } from './views.ts';

/** cinder/policies/qos_specs.py: every rule is `rule:admin_api`. */
const POLICY = { getAll: 'get_all', get: 'get', create: 'create', update: 'update', delete: 'delete' } as const;

/** Cinder's InvalidQoSSpecs for a consumer outside QoSConsumerValues, worded as the object field prints itself. */
const BAD_CONSUMER = "Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>,nullable=False,valid_values=('back-end', 'front-end', 'both'))";

/** A consumer as Cinder's object field takes it: none (or null) is `back-end`. @throws 400 */
function consumerOf(v: unknown): QosConsumer {
  if (v === undefined || v === null) return 'back-end';
  if (typeof v === 'string' && (QOS_CONSUMERS as readonly string[]).includes(v)) return v as QosConsumer;
  throw new CinderError(400, BAD_CONSUMER);
}

/** utils.validate_dictionary_string_length: keys 1..255, values strings of at most 255 or null. @throws 400 InvalidInput */
function checkLengths(specs: Record<string, unknown>): void {
  const check = (value: unknown, name: string, min: number): void => {
    if (typeof value !== 'string') throw new CinderError(400, `Invalid input received: ${name} is not a string or unicode`);
    if (value.length < min) throw new CinderError(400, `Invalid input received: ${name} has ${value.length} characters, less than ${min}.`);
    if (value.length > 255) throw new CinderError(400, `Invalid input received: ${name} has ${value.length} characters, more than 255.`);
  };
  for (const [key, value] of Object.entries(specs)) {
    check(key, `Key "${key}"`, 1);
    if (value !== null) check(value, `Value for key "${key}"`, 0);
  }
}

/** The parameter_types.extra_specs_with_null schema of a `qos_specs` set. @throws 400 */
function specsToSet(body: unknown): Record<string, string | null> {
  const b = body as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new CinderError(400, `${pyRepr(b ?? null)} is not of type 'object'`);
  const extra = Object.keys(b).filter((k) => k !== 'qos_specs');
  if (extra.length > 0) throw new CinderError(400, additionalProperties(extra));
  if (!('qos_specs' in b)) throw new CinderError(400, "'qos_specs' is a required property");
  const specs = b['qos_specs'];
  if (!specs || typeof specs !== 'object' || Array.isArray(specs)) throw schemaError('qos_specs', specs, `${pyRepr(specs)} is not of type 'object'`);
  const badKeys = Object.keys(specs).filter((k) => !/^[a-zA-Z0-9-_:. /]{1,255}$/.test(k));
  if (badKeys.length > 0) throw schemaError('qos_specs', specs, additionalProperties(badKeys));
  for (const [k, v] of Object.entries(specs)) {
    if (v !== null && typeof v !== 'string') throw schemaError(k, v, `${pyRepr(v)} is not of type 'string', 'null'`);
    if (typeof v === 'string' && v.length > 255) throw schemaError(k, v, `${pyRepr(v)} is too long`);
  }
  return specs as Record<string, string | null>;
}

/**
 * QoS specs (cinder/api/contrib/qos_specs_manage.py, `openstack volume qos ...`), admins only:
 * create with a name, a consumer and any specs; list, show; set keys (PUT) and delete some
 * (`delete_keys`); delete (400 while volume types use it, unless `force`, which disassociates
 * them first); and the association with volume types: list, associate (a type has at most one
 * spec), disassociate, disassociate from all.
 */
export function qosSpecRoutes(deps: VolumeApiDeps): Route[] {
  const specs = deps.qosSpecs;
  const { types } = deps;

  const authorize = (req: VolumeRequest, rule: (typeof POLICY)[keyof typeof POLICY]): void => {
    if (!contextOf(req).isAdmin) throw forbidden(`volume_extension:qos_specs_manage:${rule}`);
  };
  const find = async (id: string): Promise<QosSpec> => {
    const found = await specs.get(id);
    if (!found) throw new CinderError(404, `No such QoS spec ${id}.`);
    return found;
  };
  const findType = async (id: string): Promise<VolumeType> => {
    const found = await types.get(id);
    if (!found) throw new CinderError(404, `Volume type ${id} could not be found.`);
    return found;
  };
  const associated = async (id: string): Promise<VolumeType[]> => (await types.list()).filter((t) => t.qos_specs_id === id);
  /** Links as Cinder's view builder makes them: the project in them when the request had it. */
  const view = (req: VolumeRequest, s: QosSpec): Record<string, unknown> => {
    const project = req.params['project_id'] === undefined ? '' : `/${req.params['project_id']}`;
    return {
      qos_specs: { id: s.id, name: s.name, consumer: s.consumer, specs: s.specs },
      links: [
        { rel: 'self', href: `${req.base}/v3${project}/qos-specs/${s.id}` },
        { rel: 'bookmark', href: `${req.base}${project}/qos-specs/${s.id}` },
      ],
    };
  };
  const typeId = (req: VolumeRequest): string => {
    const id = req.query.get('vol_type_id');
    if (!id) throw new CinderError(400, 'Volume Type id must not be None.');
    return id;
  };

  const list = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.getAll);
    let rows = await specs.list();
    for (const key of ['id', 'name', 'consumer'] as const) {
      const want = req.query.get(key);
      if (want !== null) rows = rows.filter((s) => s[key] === want);
    }
    const marker = req.query.get('marker');
    if (marker !== null && !rows.some((s) => s.id === marker)) throw new CinderError(404, `No such QoS spec ${marker}.`);
    return { status: 200, body: { qos_specs: page(req, rows, (m) => `No such QoS spec ${m}.`).map((s) => view(req, s)['qos_specs']) } };
  };

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CinderError(400, `${pyRepr(body ?? null)} is not of type 'object'`);
    const extra = Object.keys(body).filter((k) => k !== 'qos_specs');
    if (extra.length > 0) throw new CinderError(400, additionalProperties(extra));
    if (!('qos_specs' in body)) throw new CinderError(400, "'qos_specs' is a required property");
    const given = body['qos_specs'];
    if (!given || typeof given !== 'object' || Array.isArray(given)) throw schemaError('qos_specs', given, `${pyRepr(given)} is not of type 'object'`);
    const { name, ...rest } = given as Record<string, unknown>;
    if (name === undefined) throw schemaError('qos_specs', given, "'name' is a required property");
    if (typeof name !== 'string') throw schemaError('name', name, `${pyRepr(name)} is not of type 'string'`);
    if (name === '') throw new CinderError(400, "An invalid 'name' value was provided. The 'name' can not be None.");
    if (name.trim() === '') throw new CinderError(400, "An invalid 'name' value was provided. The 'name' can not be empty.");
    if (name.trim().length > 255) throw new CinderError(400, "An invalid 'name' value was provided. The 'name' can not be greater than 255 characters.");
    authorize(req, POLICY.create);
    checkLengths(rest);
    // qos_specs.create: a consumer given (not empty) leaves the specs; an empty one stays a spec.
    const { consumer, ...others } = rest;
    const spec: QosSpec = { id: deps.newId(), name: name.trim(), consumer: consumerOf(consumer || undefined), specs: (consumer ? others : rest) as Record<string, string | null>, created_at: cinderTime(deps.clock.now()) };
    try {
      await specs.create(spec);
    } catch (err) {
      if (err instanceof QosSpecsExists) throw new CinderError(409, err.message);
      throw err;
    }
    return { status: 200, body: view(req, spec) };
  };

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const given = specsToSet(req.body);
    authorize(req, POLICY.update);
    const id = req.params['qos_id'] as string;
    await find(id);
    const { consumer, ...rest } = given;
    const next = 'consumer' in given ? consumerOf(consumer) : undefined;
    const updated = await specs.update(id, (cur) => ({ ...cur, ...(next ? { consumer: next } : {}), specs: { ...cur.specs, ...rest } }));
    if (!updated) throw new CinderError(404, `No such QoS spec ${id}.`);
    return { status: 200, body: { qos_specs: given } };
  };

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.get);
    return { status: 200, body: view(req, await find(req.params['qos_id'] as string)) };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.delete);
    const raw = req.query.get('force');
    const force = raw === null ? false : boolParam(raw, 'force');
    const spec = await find(req.params['qos_id'] as string);
    const users = await associated(spec.id);
    if (users.length > 0 && !force) throw new CinderError(400, 'Qos specs still in use.');
    for (const t of users) await types.update(t.id, (cur) => (cur.qos_specs_id === spec.id ? { ...cur, qos_specs_id: null } : cur));
    await specs.delete(spec);
    return { status: 202 };
  };

  const deleteKeys = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const keys = keysToDelete(req.body);
    authorize(req, POLICY.delete);
    const id = req.params['qos_id'] as string;
    await find(id);
    // Cinder deletes the keys in order up to the first one missing, keeps that, and answers 404.
    let missing: string | undefined;
    const updated = await specs.update(id, (cur) => {
      missing = undefined;
      const next = { ...cur.specs };
      for (const key of keys) {
        if (!(key in next)) {
          missing = key;
          break;
        }
        delete next[key];
      }
      return { ...cur, specs: next };
    });
    if (!updated) throw new CinderError(404, `No such QoS spec ${id}.`);
    if (missing !== undefined) throw new CinderError(404, `QoS spec ${id} has no spec with key ${missing}.`);
    return { status: 202 };
  };

  const associations = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.getAll);
    const spec = await find(req.params['qos_id'] as string);
    return { status: 200, body: { qos_associations: (await associated(spec.id)).map((t) => ({ association_type: 'volume_type', name: t.name, id: t.id })) } };
  };

  const associate = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.update);
    const type = typeId(req);
    const spec = await find(req.params['qos_id'] as string);
    await findType(type);
    let other: string | undefined;
    await types.update(type, (cur) => {
      other = cur.qos_specs_id && cur.qos_specs_id !== spec.id ? cur.qos_specs_id : undefined;
      return other === undefined ? { ...cur, qos_specs_id: spec.id } : cur;
    });
    if (other !== undefined) throw new CinderError(400, `Invalid volume type: Type ${type} is already associated with another qos specs: ${other}`);
    return { status: 202 };
  };

  const disassociate = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.update);
    const type = typeId(req);
    const spec = await find(req.params['qos_id'] as string);
    await findType(type);
    await types.update(type, (cur) => (cur.qos_specs_id === spec.id ? { ...cur, qos_specs_id: null } : cur));
    return { status: 202 };
  };

  const disassociateAll = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, POLICY.update);
    const spec = await find(req.params['qos_id'] as string);
    for (const t of await associated(spec.id)) await types.update(t.id, (cur) => (cur.qos_specs_id === spec.id ? { ...cur, qos_specs_id: null } : cur));
    return { status: 202 };
  };

  return [
    { method: 'GET', path: '/qos-specs', auth: 'token', handler: list },
    { method: 'POST', path: '/qos-specs', auth: 'token', handler: create },
    { method: 'GET', path: '/qos-specs/{qos_id}', auth: 'token', handler: show },
    { method: 'PUT', path: '/qos-specs/{qos_id}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/qos-specs/{qos_id}', auth: 'token', handler: remove },
    { method: 'PUT', path: '/qos-specs/{qos_id}/delete_keys', auth: 'token', handler: deleteKeys },
    { method: 'GET', path: '/qos-specs/{qos_id}/associations', auth: 'token', handler: associations },
    { method: 'GET', path: '/qos-specs/{qos_id}/associate', auth: 'token', handler: associate },
    { method: 'GET', path: '/qos-specs/{qos_id}/disassociate', auth: 'token', handler: disassociate },
    { method: 'GET', path: '/qos-specs/{qos_id}/disassociate_all', auth: 'token', handler: disassociateAll },
  ];
}

/** utils.get_bool_param: a strict boolean string. @throws 400 InvalidParameterValue */
function boolParam(raw: string, name: string): boolean {
  try {
    return parseBool(raw, name);
  } catch {
    throw new CinderError(400, `Value '${raw}' for '${name}' is not a boolean.`);
  }
}

/** The `delete_keys` schema: `keys`, unique strings of 1..255. @throws 400 */
function keysToDelete(body: unknown): string[] {
  const b = body as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new CinderError(400, `${pyRepr(b ?? null)} is not of type 'object'`);
  const extra = Object.keys(b).filter((k) => k !== 'keys');
  if (extra.length > 0) throw new CinderError(400, additionalProperties(extra));
  if (!('keys' in b)) throw new CinderError(400, "'keys' is a required property");
  const keys = b['keys'];
  if (!Array.isArray(keys)) throw schemaError('keys', keys, `${pyRepr(keys)} is not of type 'array'`);
  keys.forEach((k, i) => {
    if (typeof k !== 'string') throw schemaError(String(i), k, `${pyRepr(k)} is not of type 'string'`);
    if (k.length < 1) throw schemaError(String(i), k, `${pyRepr(k)} is too short`);
    if (k.length > 255) throw schemaError(String(i), k, `${pyRepr(k)} is too long`);
  });
  if (new Set(keys).size !== keys.length) throw schemaError('keys', keys, `${pyRepr(keys)} has non-unique elements`);
  return keys as string[];
}
