import { updateRecord } from '../../client/record-update.ts';
import { badRequest, notFound } from '../errors.ts';
import { requireAdmin } from '../policy.ts';
import { type FlavorRecord, T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, pyRepr } from '../validation.ts';
import { visibleFlavor } from './flavors.ts';

const KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

/**
 * Nova's extra spec values: strings, numbers or booleans, stored as Python's `str` of them
 * (`True`), at most 255 characters; keys of letters, digits and `-_:. `.
 */
function specs(field: string, body: unknown): Record<string, string> {
  if (!isObject(body)) throw fieldError(field, body, `${pyRepr(body)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (!KEY.test(k)) throw badRequest(`Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw fieldError(k, v, `${pyRepr(v)} is not of type 'string', 'number', 'boolean'`);
    const text = typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
    if (text.length > 255) throw fieldError(k, v, `${pyRepr(v)} is too long`);
    out[k] = text;
  }
  return out;
}

async function change(store: ComputeStore, flavorid: string, edit: (specs: Record<string, string>) => Record<string, string>): Promise<FlavorRecord> {
  const updated = await updateRecord<FlavorRecord>(store.records, T.flavors, flavorid, (cur) => ({ ...cur.value, extra_specs: edit({ ...cur.value.extra_specs }) }));
  if (!updated) throw notFound(`Flavor ${flavorid} could not be found.`);
  return updated.value;
}

/** `/v2.1/flavors/{id}/os-extra_specs[/{key}]`: anyone who sees the flavor reads; admins write. */
export function flavorExtraSpecRoutes(store: ComputeStore): ComputeRoute[] {
  const flavorid = (req: ComputeRequest): string => req.params['flavor_id'] as string;
  return [
    {
      method: 'GET',
      path: '/v2.1/flavors/{flavor_id}/os-extra_specs',
      auth: 'token',
      handler: async (req) => ok({ extra_specs: (await visibleFlavor(store, req, flavorid(req))).extra_specs }),
    },
    {
      method: 'POST',
      path: '/v2.1/flavors/{flavor_id}/os-extra_specs',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:create');
        const body = req.body;
        if (!isObject(body) || !('extra_specs' in body)) throw badRequest(`'extra_specs' is a required property`);
        const added = specs('extra_specs', body['extra_specs']);
        await change(store, flavorid(req), (s) => ({ ...s, ...added }));
        return ok({ extra_specs: added });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}',
      auth: 'token',
      handler: async (req) => {
        const f = await visibleFlavor(store, req, flavorid(req));
        const key = req.params['key'] as string;
        const value = f.extra_specs[key];
        if (value === undefined) throw notFound(`Flavor ${f.flavorid} has no extra specs with key ${key}.`);
        return ok({ [key]: value });
      },
    },
    {
      method: 'PUT',
      path: '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:update');
        const key = req.params['key'] as string;
        const given = specs('extra_specs', req.body);
        if (!(key in given)) throw badRequest('Request body and URI mismatch');
        if (Object.keys(given).length > 1) throw badRequest('Request body contains too many items');
        await change(store, flavorid(req), (s) => ({ ...s, ...given }));
        return ok(given);
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:delete');
        const key = req.params['key'] as string;
        const id = flavorid(req);
        let missing = false;
        await change(store, id, (s) => {
          missing = !(key in s);
          delete s[key];
          return s;
        });
        if (missing) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
        return ACCEPTED;
      },
    },
  ];
}
