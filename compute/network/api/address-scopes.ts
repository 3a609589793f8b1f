import { type AttributeMap, parseBody, stringOf, toBoolean, toInt } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import type { NetworkDeps } from '../deps.ts';
import { AddressScopeInUse, AddressScopeNotFound, AddressScopeUpdateError, PolicyNotAuthorized } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject, requireAdmin } from '../policy.ts';
import type { AddressScopeRecord, SubnetPoolRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import type { NetworkStore } from '../store.ts';
import { listResponse, newId, showResponse } from './collection.ts';

/** neutron-lib's api/definitions/address_scope.py. */
const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  shared: { post: true, put: true, convert: toBoolean },
  ip_version: { post: true, put: false, required: true, convert: toInt, validate: (v) => (v === 4 || v === 6 ? undefined : `${v} is not in [4, 6]`) },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
};

export function addressScopeView(s: AddressScopeRecord): ApiResource {
  return { id: s.id, name: s.name, tenant_id: s.project_id, project_id: s.project_id, shared: s.shared, ip_version: s.ip_version };
}

/** `get_address_scope`: admin, owner, or a shared scope. */
export function canSeeAddressScope(ctx: NetworkContext, s: AddressScopeRecord): boolean {
  return isOwner(ctx, s.project_id) || s.shared;
}

/** An address scope the caller may see. @throws {AddressScopeNotFound} */
export async function visibleAddressScope(store: NetworkStore, ctx: NetworkContext, id: string): Promise<AddressScopeRecord> {
  const scope = await store.get<AddressScopeRecord>('address-scopes', id);
  if (!scope || !canSeeAddressScope(ctx, scope)) throw new AddressScopeNotFound(id);
  return scope;
}

/**
 * Address scopes (`openstack address scope create/list/show/set/delete`), as Neutron's
 * address_scope_db: a name, an ip_version, and `shared` (admins only; a shared scope cannot be
 * unshared). A scope a subnet pool uses cannot be deleted (409 AddressScopeInUse).
 */
export function addressScopeRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  return [
    {
      method: 'GET',
      path: '/v2.0/address-scopes',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const items = (await store.scan<AddressScopeRecord>('address-scopes')).filter((s) => canSeeAddressScope(ctx, s)).map(addressScopeView);
        return listResponse(req, 'address_scopes', items, ['shared', 'ip_version']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/address-scopes',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'address_scope', ATTRIBUTES, 'create');
        if (f.shared === true) requireAdmin(ctx, '(rule:create_address_scope and rule:create_address_scope:shared)');
        const projectId = owningProject(ctx, f);
        const scope: AddressScopeRecord = { id: newId(), project_id: projectId, name: (f.name as string | undefined) ?? '', shared: (f.shared as boolean | undefined) ?? false, ip_version: f.ip_version as 4 | 6 };
        await store.create('address-scopes', scope.id, scope);
        return showResponse(req, 'address_scope', addressScopeView(scope), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/address-scopes/{id}',
      auth: 'token',
      handler: async (req) => showResponse(req, 'address_scope', addressScopeView(await visibleAddressScope(store, ctxOf(req), req.params.id as string))),
    },
    {
      method: 'PUT',
      path: '/v2.0/address-scopes/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'address_scope', ATTRIBUTES, 'update');
        const found = await visibleAddressScope(store, ctx, req.params.id as string);
        if (!isOwner(ctx, found.project_id)) throw new PolicyNotAuthorized('rule:update_address_scope');
        if ('shared' in f) requireAdmin(ctx, '(rule:update_address_scope and rule:update_address_scope:shared)');
        const updated = await store.update<AddressScopeRecord>('address-scopes', found.id, (s) => {
          if (s.shared && f.shared === false) throw new AddressScopeUpdateError(s.id, "Shared address scope can't be unshared");
          return { ...s, name: (f.name as string | undefined) ?? s.name, shared: (f.shared as boolean | undefined) ?? s.shared };
        });
        if (!updated) throw new AddressScopeNotFound(found.id);
        return showResponse(req, 'address_scope', addressScopeView(updated));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/address-scopes/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const scope = await visibleAddressScope(store, ctx, req.params.id as string);
        if (!isOwner(ctx, scope.project_id)) throw new PolicyNotAuthorized('rule:delete_address_scope');
        if ((await store.scan<SubnetPoolRecord>('subnetpools')).some((p) => p.address_scope_id === scope.id)) throw new AddressScopeInUse(scope.id);
        await store.delete('address-scopes', scope.id);
        return NO_CONTENT;
      },
    },
  ];
}
