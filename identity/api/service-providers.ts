import { RecordExistsError } from '../../client/record-store.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, notFound } from '../errors.ts';
import { booleanOf, serviceProviderCreate, serviceProviderUpdate } from '../federation-schema.ts';
import { requireAdmin, requireAdminOrSystemReader } from '../policy.ts';
import { renderList, renderServiceProvider, type ServiceProviderRecord } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { queryBoolean } from '../validation.ts';

/** Keystone's `[saml] relay_state_prefix` default, given to a service provider created without one. */
const RELAY_STATE_PREFIX = 'ss:mem:';

/**
 * OS-FEDERATION service providers (keystone/api/os_federation.py): remote clouds this one's
 * users may go to with a SAML assertion. Records only (no assertions are issued here); the
 * enabled ones are listed in every token's `service_providers` (identity/token-issuer.ts).
 */
export function serviceProviderRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const path = '/v3/OS-FEDERATION/service_providers/{sp_id}';
  const mustFind = async (id: string): Promise<ServiceProviderRecord> => {
    const found = await store.get<ServiceProviderRecord>(T.serviceProviders, id);
    if (!found) throw notFound('Service Provider', id);
    return found;
  };
  return [
    {
      method: 'PUT',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_service_provider');
        const id = req.params['sp_id'] as string;
        const body = serviceProviderCreate(req.body);
        const sp: ServiceProviderRecord = {
          id,
          enabled: booleanOf(body['enabled']) ?? false,
          description: (body['description'] as string | null | undefined) ?? null,
          auth_url: body['auth_url'] as string,
          sp_url: body['sp_url'] as string,
          relay_state_prefix: (body['relay_state_prefix'] as string | null | undefined) ?? RELAY_STATE_PREFIX,
        };
        try {
          await store.records.create(T.serviceProviders, id, sp);
        } catch (err) {
          if (err instanceof RecordExistsError) throw conflict('service_provider', `Duplicate entry found with ID ${id}.`);
          throw err;
        }
        return ok({ service_provider: renderServiceProvider(sp, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/OS-FEDERATION/service_providers',
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:list_service_providers');
        const id = req.query.get('id');
        const enabled = req.query.get('enabled');
        const found = (await store.scan<ServiceProviderRecord>(T.serviceProviders)).filter((s) => (id === null || s.id === id) && (enabled === null || s.enabled === queryBoolean(enabled)));
        return ok(renderList('service_providers', found.map((s) => renderServiceProvider(s, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:get_service_provider');
        return ok({ service_provider: renderServiceProvider(await mustFind(req.params['sp_id'] as string), req.base) });
      },
    },
    {
      method: 'PATCH',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_service_provider');
        const id = req.params['sp_id'] as string;
        const body = serviceProviderUpdate(req.body);
        await mustFind(id);
        const enabled = booleanOf(body['enabled']);
        const updated = await store.update<ServiceProviderRecord>(T.serviceProviders, id, (s) => ({
          ...s,
          ...(enabled !== undefined ? { enabled } : {}),
          ...('description' in body ? { description: (body['description'] as string | null) ?? null } : {}),
          ...(typeof body['auth_url'] === 'string' ? { auth_url: body['auth_url'] } : {}),
          ...(typeof body['sp_url'] === 'string' ? { sp_url: body['sp_url'] } : {}),
          ...(typeof body['relay_state_prefix'] === 'string' ? { relay_state_prefix: body['relay_state_prefix'] } : {}),
        }));
        if (!updated) throw notFound('Service Provider', id);
        return ok({ service_provider: renderServiceProvider(updated, req.base) });
      },
    },
    {
      method: 'DELETE',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_service_provider');
        const sp = await mustFind(req.params['sp_id'] as string);
        await store.records.delete(T.serviceProviders, sp.id);
        return NO_CONTENT;
      },
    },
  ];
}
