import { pyRepr } from '../../validation.ts';
import type { TypeEncryption, VolumeType } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { forbidden } from './forbidden.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { schemaError } from './schema-error.ts';
import { typeInUse } from './type-in-use.ts';
import { cinderTime } from './views.ts';

/** Cinder's DB_MAX_INT, key_size's maximum. */
const DB_MAX_INT = 0x7fffffff;

/** What a create or update asks, as its schema (cinder/api/schemas/volume_type_encryption.py) lets it through. */
interface EncryptionBody {
  /** The request's `encryption` object, `key_size` made an int: what Cinder answers with. */
  readonly given: Record<string, unknown>;
  readonly fields: Partial<Pick<TypeEncryption, 'provider' | 'control_location' | 'cipher' | 'key_size'>>;
}

/** The schema's checks, in its order: each property, then the required ones. @throws 400 */
function encryptionBody(body: unknown, required: boolean): EncryptionBody {
  const b = body as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new CinderError(400, `${pyRepr(b ?? null)} is not of type 'object'`);
  const e = b['encryption'];
  if (e !== undefined && (!e || typeof e !== 'object' || Array.isArray(e))) throw schemaError('encryption', e, `${pyRepr(e)} is not of type 'object'`);
  if (e === undefined) throw new CinderError(400, "'encryption' is a required property");
  const extra = Object.keys(b).filter((k) => k !== 'encryption');
  if (extra.length > 0) throw new CinderError(400, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  const given = { ...(e as Record<string, unknown>) };
  const fields: EncryptionBody['fields'] = {};
  if ('key_size' in given) {
    const v = given['key_size'];
    if (v !== null && typeof v !== 'string' && !Number.isInteger(v)) throw schemaError('key_size', v, `${pyRepr(v)} is not of type 'string', 'integer', 'null'`);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
    if (n !== undefined && n < 0) throw schemaError('key_size', v, `${pyRepr(v)} is less than the minimum of 0`);
    if (n !== undefined && n > DB_MAX_INT) throw schemaError('key_size', v, `${pyRepr(v)} is greater than the maximum of ${DB_MAX_INT}`);
    // strutils.is_int_like: the string of the int is the string given.
    if (v !== null && String(Number.parseInt(String(v), 10)) !== String(v)) throw new CinderError(400, 'Invalid input received: key_size must be an integer.');
    given['key_size'] = v === null ? null : Number.parseInt(String(v), 10);
    fields.key_size = given['key_size'] as number | null;
  }
  if ('provider' in given) {
    const v = given['provider'];
    if (typeof v !== 'string') throw schemaError('provider', v, `${pyRepr(v)} is not of type 'string'`);
    if (v.length > 255) throw schemaError('provider', v, `${pyRepr(v)} is too long`);
    fields.provider = v;
  }
  if ('control_location' in given) {
    const v = given['control_location'];
    if (v !== 'front-end' && v !== 'back-end') throw schemaError('control_location', v, `${pyRepr(v)} is not one of ['front-end', 'back-end']`);
    fields.control_location = v;
  }
  if ('cipher' in given) {
    const v = given['cipher'];
    if (v !== null && typeof v !== 'string') throw schemaError('cipher', v, `${pyRepr(v)} is not of type 'string', 'null'`);
    if (typeof v === 'string' && v.length > 255) throw schemaError('cipher', v, `${pyRepr(v)} is too long`);
    fields.cipher = v;
  }
  if (required) {
    for (const key of ['provider', 'control_location']) if (!(key in given)) throw schemaError('encryption', e, `'${key}' is a required property`);
  }
  return { given, fields };
}

/** The encryption as Cinder's index shows it: every column of its row. */
function encryptionView(type: VolumeType): Record<string, unknown> {
  const e = type.encryption;
  if (!e) return {};
  return { volume_type_id: type.id, encryption_id: e.encryption_id, provider: e.provider, control_location: e.control_location, cipher: e.cipher, key_size: e.key_size, created_at: e.created_at, updated_at: e.updated_at, deleted: false, deleted_at: null };
}

/**
 * Volume type encryption (cinder/api/contrib/volume_type_encryption.py; `openstack volume type
 * create/set/unset/show --encryption-*`), admins only: show all or one key, create, update,
 * delete; none of them while volumes of the type exist (Cinder's 400). This service has no key
 * manager and cannot encrypt a volume: a volume of an encrypted type is refused at create and
 * retype (no-key-manager.ts); the encryption is recorded so types read as Cinder's do.
 */
export function typeEncryptionRoutes(deps: VolumeApiDeps): Route[] {
  const { types } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const authorize = (req: VolumeRequest, action: 'get' | 'create' | 'update' | 'delete'): void => {
    if (!contextOf(req).isAdmin) throw forbidden(`volume_extension:volume_type_encryption:${action}`);
  };
  const findType = async (req: VolumeRequest): Promise<VolumeType> => {
    const id = req.params['type_id'] as string;
    const found = await types.get(id);
    if (!found) throw new CinderError(404, `Volume type ${id} could not be found.`);
    return found;
  };
  const notFound = (typeId: string): CinderError => new CinderError(404, `Volume type encryption for type ${typeId} does not exist.`);

  const index = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, 'get');
    return { status: 200, body: encryptionView(await findType(req)) };
  };

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, 'get');
    const type = await findType(req);
    const key = req.params['key'] as string;
    const view = encryptionView(type);
    if (!(key in view)) throw notFound(type.id);
    return { status: 200, body: { [key]: view[key] } };
  };

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const { given, fields } = encryptionBody(req.body, true);
    authorize(req, 'create');
    const typeId = req.params['type_id'] as string;
    if (await typeInUse(deps.records, typeId)) throw new CinderError(400, 'Cannot create encryption specs. Volume type in use.');
    await findType(req);
    const encryption: TypeEncryption = { encryption_id: deps.newId(), provider: fields.provider as string, control_location: fields.control_location as TypeEncryption['control_location'], cipher: fields.cipher ?? null, key_size: fields.key_size ?? null, created_at: now(), updated_at: null };
    let exists = false;
    await types.update(typeId, (cur) => {
      exists = cur.encryption !== undefined;
      return exists ? cur : { ...cur, encryption };
    });
    if (exists) throw new CinderError(400, `Volume type encryption for type ${typeId} already exists.`);
    return { status: 200, body: { encryption: { ...given, volume_type_id: typeId, encryption_id: encryption.encryption_id } } };
  };

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const { given, fields } = encryptionBody(req.body, false);
    authorize(req, 'update');
    const type = await findType(req);
    if (await typeInUse(deps.records, type.id)) throw new CinderError(400, 'Cannot update encryption specs. Volume type in use.');
    let missing = false;
    await types.update(type.id, (cur) => {
      missing = cur.encryption === undefined;
      return cur.encryption === undefined ? cur : { ...cur, encryption: { ...cur.encryption, ...fields, updated_at: now() } };
    });
    if (missing) throw notFound(type.id);
    return { status: 200, body: { encryption: given } };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    authorize(req, 'delete');
    const typeId = req.params['type_id'] as string;
    if (await typeInUse(deps.records, typeId)) throw new CinderError(400, 'Cannot delete encryption specs. Volume type in use.');
    // No type check first: an unknown type has no encryption either (Cinder's 404 says so).
    const type = await types.get(typeId);
    let missing = type?.encryption === undefined;
    if (type && !missing) {
      await types.update(type.id, (cur) => {
        missing = cur.encryption === undefined;
        const { encryption: _gone, ...rest } = cur;
        return rest;
      });
    }
    if (missing) throw notFound(typeId);
    return { status: 202 };
  };

  return [
    { method: 'GET', path: '/types/{type_id}/encryption', auth: 'token', handler: index },
    { method: 'POST', path: '/types/{type_id}/encryption', auth: 'token', handler: create },
    { method: 'GET', path: '/types/{type_id}/encryption/{key}', auth: 'token', handler: show },
    { method: 'PUT', path: '/types/{type_id}/encryption/{key}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/types/{type_id}/encryption/{key}', auth: 'token', handler: remove },
  ];
}
