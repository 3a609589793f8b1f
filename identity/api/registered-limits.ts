import type { IdentityDeps } from '../deps.ts';
import { conflict } from '../errors.ts';
import { registeredLimitsCreate, registeredLimitUpdate, limitFilters } from '../limit-schema.ts';
import { newId } from '../lookup.ts';
import { caller, requireAdmin } from '../policy.ts';
import { type RegisteredLimitRecord, renderList, renderRegisteredLimit } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { assertResourcesExist, registeredLimitInUse, registeredLimitInUseBy, registeredLimitKey, registeredLimitNotFound } from '../unified-limits.ts';

const duplicate = (): Error => conflict('registered_limit', 'Duplicate entry.');

/**
 * Registered limits (keystone/api/registered_limits.py): a resource's default limit for a
 * service, optionally in one region. Anyone with a token reads them; admins write them. One
 * per service, region and resource (409); one that limits use can be neither changed nor
 * deleted (403).
 */
export function registeredLimitRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const mustGet = async (id: string): Promise<RegisteredLimitRecord> => {
    const found = await store.get<RegisteredLimitRecord>(T.registeredLimits, id);
    if (!found) throw registeredLimitNotFound(id);
    return found;
  };
  return [
    {
      method: 'POST',
      path: '/v3/registered_limits',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_registered_limits');
        const inputs = registeredLimitsCreate(req.body);
        for (const input of inputs) await assertResourcesExist(store, input, 'registered_limit');
        const keys = inputs.map(registeredLimitKey);
        if (new Set(keys).size !== keys.length) throw duplicate();
        // All or none, as Keystone's one transaction: a conflict half way takes back what was made.
        const made: RegisteredLimitRecord[] = [];
        try {
          for (const input of inputs) {
            const record: RegisteredLimitRecord = { id: newId(), ...input };
            await store.createNamed(T.registeredLimits, T.registeredLimitKeys, registeredLimitKey(record), record, duplicate);
            made.push(record);
          }
        } catch (err) {
          for (const r of made) await store.deleteNamed(T.registeredLimits, T.registeredLimitKeys, registeredLimitKey(r), r.id).catch(() => undefined);
          throw err;
        }
        return ok({ registered_limits: made.map((r) => renderRegisteredLimit(r, req.base)) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/registered_limits',
      auth: 'token',
      handler: async (req) => {
        caller(req);
        const f = limitFilters(req.query, ['service_id', 'region_id', 'resource_name']);
        const found = (await store.scan<RegisteredLimitRecord>(T.registeredLimits)).filter(
          (r) => (f['service_id'] === undefined || r.service_id === f['service_id']) && (f['region_id'] === undefined || r.region_id === f['region_id']) && (f['resource_name'] === undefined || r.resource_name === f['resource_name']),
        );
        return ok(renderList('registered_limits', found.map((r) => renderRegisteredLimit(r, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/registered_limits/{registered_limit_id}',
      auth: 'token',
      handler: async (req) => {
        caller(req);
        return ok({ registered_limit: renderRegisteredLimit(await mustGet(req.params['registered_limit_id'] as string), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/registered_limits/{registered_limit_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_registered_limit');
        const id = req.params['registered_limit_id'] as string;
        const patch = registeredLimitUpdate(req.body);
        await assertResourcesExist(store, patch, 'registered_limit');
        await mustGet(id);
        if (await registeredLimitInUseBy(store, id)) throw registeredLimitInUse(id);
        const updated = await store.update<RegisteredLimitRecord>(T.registeredLimits, id, (r) => ({ ...r, ...patch }), { nameType: T.registeredLimitKeys, keyOf: registeredLimitKey, conflict: duplicate });
        if (!updated) throw registeredLimitNotFound(id);
        return ok({ registered_limit: renderRegisteredLimit(updated, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/registered_limits/{registered_limit_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_registered_limit');
        const found = await mustGet(req.params['registered_limit_id'] as string);
        if (await registeredLimitInUseBy(store, found.id)) throw registeredLimitInUse(found.id);
        await store.deleteNamed(T.registeredLimits, T.registeredLimitKeys, registeredLimitKey(found), found.id);
        return NO_CONTENT;
      },
    },
  ];
}
