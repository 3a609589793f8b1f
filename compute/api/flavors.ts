import { randomUUID } from 'node:crypto';
import { RecordExistsError } from '../../client/record-store.ts';
import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, conflict, NovaError, notFound } from '../errors.ts';
import { flavorBasic, flavorDetail, flavorVisible } from '../flavor-view.ts';
import { requireAdmin } from '../policy.ts';
import { type FlavorRecord, T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, contextOf, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import { booleanParam, bodyMember, fieldError, integerParam, nameParam, pyRepr, queryError } from '../validation.ts';
import { nextLink } from './next-link.ts';

/** Nova's `osapi_max_limit`: the most items one list answers. */
export const MAX_LIMIT = 1000;

const SORT_KEYS: Readonly<Record<string, (f: FlavorRecord) => string | number | boolean | null>> = {
  flavorid: (f) => f.flavorid,
  id: (f) => f.flavorid,
  name: (f) => f.name,
  memory_mb: (f) => f.memory_mb,
  vcpus: (f) => f.vcpus,
  root_gb: (f) => f.root_gb,
  ephemeral_gb: (f) => f.ephemeral_gb,
  swap: (f) => f.swap,
  rxtx_factor: (f) => f.rxtx_factor,
  is_public: (f) => f.is_public,
  disabled: (f) => f.disabled,
  description: (f) => f.description,
  created_at: (f) => f.created_at,
};

/** A flavor the caller may see. @throws {NovaError} 404 "Flavor <id> could not be found." */
export async function visibleFlavor(store: ComputeStore, req: ComputeRequest, flavorid: string): Promise<FlavorRecord> {
  const c = contextOf(req);
  const f = await store.get<FlavorRecord>(T.flavors, flavorid);
  if (!f || !flavorVisible(f, c.projectId, c.isAdmin)) throw notFound(`Flavor ${flavorid} could not be found.`);
  return f;
}

/**
 * `/v2.1/flavors`: list (index and detail, with `is_public`, `minRam`, `minDisk`, sorting and
 * limit/marker paging), show, create and delete (admin), update of the description (2.55).
 */
export function flavorRoutes(store: ComputeStore): ComputeRoute[] {
  const list = async (req: ComputeRequest, detail: boolean) => {
    const c = contextOf(req);
    const q = req.query;
    let isPublic: boolean | undefined = true;
    if (c.isAdmin && q.has('is_public')) {
      const v = (q.get('is_public') as string).toLowerCase();
      if (v === 'none') isPublic = undefined;
      else if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) isPublic = true;
      else if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) isPublic = false;
      else throw badRequest(`Invalid is_public filter [${q.get('is_public')}]`);
    }
    let flavors = (await store.scan<FlavorRecord>(T.flavors)).filter((f) => {
      if (!c.isAdmin && f.disabled) return false;
      if (isPublic === undefined) return true;
      // Nova's query: public flavors, and (when asking for public ones) those shared with the project.
      return isPublic ? f.is_public || f.projects.includes(c.projectId) : !f.is_public;
    });
    for (const [param, field] of [['minRam', 'memory_mb'], ['minDisk', 'root_gb']] as const) {
      const raw = q.get(param);
      if (raw === null) continue;
      if (!/^\d+$/.test(raw)) throw badRequest(`Invalid ${param} filter [${raw}]`);
      flavors = flavors.filter((f) => f[field] >= Number(raw));
    }
    const sortKey = q.get('sort_key') ?? 'flavorid';
    const key = SORT_KEYS[sortKey];
    if (!key) throw queryError('sort_key', sortKey, `${pyRepr(sortKey)} is not one of ${pyRepr(Object.keys(SORT_KEYS))}`);
    const dir = q.get('sort_dir') ?? 'asc';
    if (dir !== 'asc' && dir !== 'desc') throw queryError('sort_dir', dir, `${pyRepr(dir)} is not one of ['asc', 'desc']`);
    flavors.sort((a, b) => {
      const x = key(a) ?? '';
      const y = key(b) ?? '';
      const order = x < y ? -1 : x > y ? 1 : a.flavorid < b.flavorid ? -1 : a.flavorid > b.flavorid ? 1 : 0;
      return dir === 'asc' ? order : -order;
    });
    const marker = q.get('marker');
    if (marker !== null) {
      const at = flavors.findIndex((f) => f.flavorid === marker);
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      flavors = flavors.slice(at + 1);
    }
    const limitText = q.get('limit');
    const limit = limitText === null ? MAX_LIMIT : Math.min(MAX_LIMIT, integerQuery('limit', limitText));
    const page = flavors.slice(0, limit);
    const body: Record<string, unknown> = { flavors: page.map((f) => (detail ? flavorDetail(req, f) : flavorBasic(req, f))) };
    if (page.length > 0 && page.length === limit) {
      body['flavors_links'] = [nextLink(req, detail ? 'flavors/detail' : 'flavors', (page.at(-1) as FlavorRecord).flavorid)];
    }
    return ok(body);
  };

  return [
    { method: 'GET', path: '/v2.1/flavors', auth: 'token', handler: (req) => list(req, false) },
    { method: 'GET', path: '/v2.1/flavors/detail', auth: 'token', handler: (req) => list(req, true) },
    {
      method: 'GET',
      path: '/v2.1/flavors/{flavor_id}',
      auth: 'token',
      handler: async (req) => ok({ flavor: flavorDetail(req, await visibleFlavor(store, req, req.params['flavor_id'] as string)) }),
    },
    {
      method: 'POST',
      path: '/v2.1/flavors',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-flavor-manage:create');
        const allowed = ['name', 'id', 'ram', 'vcpus', 'disk', 'OS-FLV-EXT-DATA:ephemeral', 'swap', 'rxtx_factor', 'os-flavor-access:is_public', ...(atLeast(req.version, '2.55') ? ['description'] : [])];
        const f = bodyMember(req.body, 'flavor', allowed, ['name', 'ram', 'vcpus', 'disk']);
        const name = nameParam('name', f['name']);
        let flavorid: string = randomUUID();
        const id = f['id'];
        if (id !== undefined && id !== null) {
          if (typeof id !== 'string' && typeof id !== 'number') throw fieldError('id', id, `${pyRepr(id)} is not of type 'string', 'number', 'null'`);
          flavorid = String(id);
          if (flavorid.length > 255 || !/^(?! )[a-zA-Z0-9. _-]+$/.test(flavorid) || flavorid.endsWith(' ')) throw fieldError('id', id, `${pyRepr(id)} does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'`);
        }
        let rxtx = 1;
        if (f['rxtx_factor'] !== undefined) {
          rxtx = Number(f['rxtx_factor']);
          if (!(typeof f['rxtx_factor'] === 'number' || /^[0-9]+(\.[0-9]+)?$/.test(String(f['rxtx_factor']))) || !(rxtx > 0)) throw fieldError('rxtx_factor', f['rxtx_factor'], `${pyRepr(f['rxtx_factor'])} is less than or equal to the minimum of 0`);
        }
        const description = f['description'];
        if (description !== undefined && description !== null && (typeof description !== 'string' || description.length > 65535)) throw fieldError('description', description, `${pyRepr(description)} is not of type 'string', 'null'`);
        const record: FlavorRecord = {
          flavorid,
          name,
          memory_mb: integerParam('ram', f['ram'], 1),
          vcpus: integerParam('vcpus', f['vcpus'], 1),
          root_gb: integerParam('disk', f['disk'], 0),
          ephemeral_gb: f['OS-FLV-EXT-DATA:ephemeral'] === undefined ? 0 : integerParam('OS-FLV-EXT-DATA:ephemeral', f['OS-FLV-EXT-DATA:ephemeral'], 0),
          swap: f['swap'] === undefined ? 0 : integerParam('swap', f['swap'], 0),
          rxtx_factor: rxtx,
          is_public: f['os-flavor-access:is_public'] === undefined ? true : booleanParam('os-flavor-access:is_public', f['os-flavor-access:is_public']),
          disabled: false,
          description: typeof description === 'string' ? description : null,
          extra_specs: {},
          projects: [],
          created_at: store.isoSeconds(),
        };
        // The name is claimed first, so two creators of one name cannot both win.
        try {
          await store.records.create(T.flavorNames, name, { flavorid });
        } catch (err) {
          if (err instanceof RecordExistsError) throw conflict(`Flavor with name ${name} already exists.`);
          throw err;
        }
        try {
          await store.records.create(T.flavors, flavorid, record);
        } catch (err) {
          await store.records.delete(T.flavorNames, name);
          if (err instanceof RecordExistsError) throw conflict(`Flavor with ID ${flavorid} already exists.`);
          throw err;
        }
        return ok({ flavor: flavorDetail(req, record) });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/flavors/{flavor_id}',
      auth: 'token',
      handler: async (req) => {
        if (!atLeast(req.version, '2.55')) throw new NovaError(405, 'The method is not allowed for this resource.');
        requireAdmin(req, 'os_compute_api:os-flavor-manage:update');
        const f = bodyMember(req.body, 'flavor', ['description'], ['description']);
        const description = f['description'];
        if (description !== null && (typeof description !== 'string' || description.length > 65535)) throw fieldError('description', description, `${pyRepr(description)} is not of type 'string', 'null'`);
        const flavorid = req.params['flavor_id'] as string;
        const updated = await updateRecord<FlavorRecord>(store.records, T.flavors, flavorid, (cur) => ({ ...cur.value, description: description as string | null }));
        if (!updated) throw notFound(`Flavor ${flavorid} could not be found.`);
        return ok({ flavor: flavorDetail(req, updated.value) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/flavors/{flavor_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-flavor-manage:delete');
        const flavorid = req.params['flavor_id'] as string;
        const found = await store.records.get<FlavorRecord>(T.flavors, flavorid);
        if (!found) throw notFound(`Flavor ${flavorid} could not be found.`);
        await store.records.delete(T.flavors, flavorid);
        await store.records.delete(T.flavorNames, found.value.name);
        return ACCEPTED;
      },
    },
  ];
}

function integerQuery(param: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) throw queryError(param, value, `${pyRepr(value)} does not match '^[0-9]*$'`);
  return Number(value);
}
