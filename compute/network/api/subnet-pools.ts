import { type AttributeMap, parseBody, pyText, stringOf, toBoolean, toInt, uuidOrNull } from '../attributes.ts';
import { formatCidr, parseCidr } from '../cidr.ts';
import type { NetworkContext } from '../context.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import {
  AddressScopePrefixConflict,
  HttpBadRequest,
  IllegalSubnetPoolIpVersionAssociationToAddressScope,
  IllegalSubnetPoolPrefixUpdate,
  IllegalSubnetPoolUpdate,
  InvalidInput,
  NeutronError,
  PolicyNotAuthorized,
  SubnetPoolDeleteError,
  SubnetPoolNotFound,
} from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject, requireAdmin } from '../policy.ts';
import { cidrsOf, difference, intersects, isSubset, prefixSetOf } from '../prefix-set.ts';
import { enforceQuota } from '../quota-check.ts';
import type { AddressScopeRecord, SubnetPoolRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute, ok } from '../request.ts';
import type { NetworkStore } from '../store.ts';
import { compactPrefixes, readPool } from '../subnet-pool.ts';
import { visibleAddressScope } from './address-scopes.ts';
import { listResponse, newId, showResponse } from './collection.ts';

const nonNegative = (v: unknown) => (typeof v === 'number' && v < 0 ? `'${v}' should be non-negative` : undefined);

/** `type:subnet_list`: a list of CIDRs, no duplicates. */
function subnetList(v: unknown): string | undefined {
  if (!Array.isArray(v)) return `'${pyText(v)}' is not a list`;
  const dups = v.filter((x, i) => v.indexOf(x) !== i);
  if (dups.length > 0) return `Duplicate items in the list: '${dups.join(', ')}'`;
  for (const item of v) {
    try {
      parseCidr(item as string, 'prefixes');
    } catch {
      return `'${pyText(item)}' is not a valid IP subnet`;
    }
  }
  return undefined;
}

/** neutron-lib's api/definitions/subnetpool.py (with address-scope's `address_scope_id` and standard-attr `description`). */
const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, required: true, validate: (v) => (typeof v === 'string' && v.trim() === '' ? `'${v}' Blank strings are not permitted` : stringOf(255)(v)) },
  description: { post: true, put: true, validate: stringOf(255) },
  prefixes: { post: true, put: true, required: true, validate: subnetList },
  default_quota: { post: true, put: true, convert: toInt, validate: nonNegative },
  default_prefixlen: { post: true, put: true, convert: toInt, validate: nonNegative },
  min_prefixlen: { post: true, put: true, convert: toInt, validate: nonNegative },
  max_prefixlen: { post: true, put: true, convert: toInt, validate: nonNegative },
  is_default: { post: true, put: true, convert: toBoolean },
  shared: { post: true, put: false, convert: toBoolean },
  address_scope_id: { post: true, put: true, validate: uuidOrNull(true) },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
};

export function subnetPoolView(p: SubnetPoolRecord): ApiResource {
  return {
    id: p.id,
    name: p.name,
    tenant_id: p.project_id,
    project_id: p.project_id,
    prefixes: p.prefixes,
    ip_version: p.ip_version,
    default_prefixlen: p.default_prefixlen,
    min_prefixlen: p.min_prefixlen,
    max_prefixlen: p.max_prefixlen,
    default_quota: p.default_quota,
    is_default: p.is_default,
    shared: p.shared,
    address_scope_id: p.address_scope_id,
    description: p.description,
    tags: p.tags,
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
  };
}

/** `get_subnetpool`: admin, owner, or a shared pool. */
export function canSeeSubnetPool(ctx: NetworkContext, p: SubnetPoolRecord): boolean {
  return isOwner(ctx, p.project_id) || p.shared;
}

/** @throws {SubnetPoolNotFound} */
export async function visibleSubnetPool(store: NetworkStore, ctx: NetworkContext, id: string): Promise<SubnetPoolRecord> {
  const pool = await store.get<SubnetPoolRecord>('subnetpools', id);
  if (!pool || !canSeeSubnetPool(ctx, pool)) throw new SubnetPoolNotFound(id);
  return pool;
}

/** The default pool of `ipVersion` the caller may use (`get_default_subnetpool`). */
export async function defaultSubnetPool(store: NetworkStore, ctx: NetworkContext, ipVersion: number): Promise<SubnetPoolRecord | undefined> {
  return (await store.scan<SubnetPoolRecord>('subnetpools')).find((p) => p.is_default && p.ip_version === ipVersion && canSeeSubnetPool(ctx, p));
}

/** Admin-only attributes a body sets (`create_subnetpool:shared`, `update_subnetpool:is_default`). */
function checkAdminAttributes(ctx: NetworkContext, f: Record<string, unknown>, action: string): void {
  const adminOnly = ['shared', 'is_default'].filter((a) => a in f && !(action === 'create_subnetpool' && f[a] === false));
  if (adminOnly.length > 0) requireAdmin(ctx, `(rule:${action} and ${adminOnly.map((a) => `rule:${action}:${a}`).join(' and ')})`);
}

/**
 * Subnet pools (`openstack subnet pool create/list/show/set/delete`), as Neutron's
 * db_base_plugin_v2 and ipam/subnet_alloc.py keep them: prefixes compacted, prefix length bounds
 * checked, one default pool per ip_version, the address scope of the same ip_version and without
 * another pool's prefixes, prefixes only grown by an update (`add_prefixes`, `remove_prefixes`
 * of unallocated space), and no delete while a subnet holds an allocation.
 */
export function subnetPoolRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;

  /** `_check_default_subnetpool_exists`. */
  const checkNoDefault = async (ipVersion: number, except?: string) => {
    if ((await store.scan<SubnetPoolRecord>('subnetpools')).some((p) => p.is_default && p.ip_version === ipVersion && p.id !== except)) {
      throw new InvalidInput('A default subnetpool for this IP family has already been set. Only one default may exist per IP family');
    }
  };

  /** `_validate_address_scope_id`: a scope the caller may see, of the pool's ip_version, without another pool's prefixes. */
  const checkAddressScope = async (ctx: NetworkContext, scopeId: string | null, poolId: string, prefixes: readonly string[], ipVersion: number) => {
    if (scopeId === null) return;
    const scope: AddressScopeRecord = await visibleAddressScope(store, ctx, scopeId);
    if (scope.ip_version !== ipVersion) throw new IllegalSubnetPoolIpVersionAssociationToAddressScope(poolId, scopeId, scope.ip_version);
    const mine = prefixSetOf(prefixes);
    for (const other of await store.scan<SubnetPoolRecord>('subnetpools')) {
      if (other.id !== poolId && other.address_scope_id === scopeId && intersects(prefixSetOf(other.prefixes), mine)) throw new AddressScopePrefixConflict();
    }
  };

  /** `update_subnetpool`: the pool's settled fields after `f`. */
  const updatePool = async (ctx: NetworkContext, orig: SubnetPoolRecord, f: Record<string, unknown>): Promise<SubnetPoolRecord> => {
    let prefixes = orig.prefixes;
    if (f.prefixes !== undefined) {
      const asked = f.prefixes as string[];
      if (!isSubset(prefixSetOf(orig.prefixes), prefixSetOf(asked))) throw new IllegalSubnetPoolPrefixUpdate('Existing prefixes must be a subset of the new prefixes');
      prefixes = compactPrefixes(asked);
    }
    const read = readPool({
      prefixes,
      min_prefixlen: (f.min_prefixlen as number | undefined) ?? orig.min_prefixlen,
      max_prefixlen: (f.max_prefixlen as number | undefined) ?? orig.max_prefixlen,
      default_prefixlen: (f.default_prefixlen as number | undefined) ?? orig.default_prefixlen,
    });
    const isDefault = (f.is_default as boolean | undefined) ?? orig.is_default;
    if (isDefault && !orig.is_default) await checkNoDefault(read.ip_version, orig.id);
    if (orig.address_scope_id !== null) {
      const scope = await store.get<AddressScopeRecord>('address-scopes', orig.address_scope_id);
      if (scope && !isOwner(ctx, scope.project_id)) {
        throw new IllegalSubnetPoolUpdate(`subnetpool ${orig.id} cannot be updated when associated with shared address scope ${orig.address_scope_id}`);
      }
    }
    const scopeId = f.address_scope_id !== undefined ? (f.address_scope_id as string | null) : orig.address_scope_id;
    await checkAddressScope(ctx, scopeId, orig.id, read.prefixes, read.ip_version);
    return {
      ...orig,
      ...read,
      name: (f.name as string | undefined) ?? orig.name,
      description: (f.description as string | undefined) ?? orig.description,
      default_quota: f.default_quota !== undefined ? (f.default_quota as number) : orig.default_quota,
      is_default: isDefault,
      address_scope_id: scopeId,
      updated_at: timestamp(deps.clock),
      revision_number: orig.revision_number + 1,
    };
  };

  /** Writes `next` over the pool unless it changed since it was read (a racing update then gets a 409 to retry). */
  const writePool = async (orig: SubnetPoolRecord, next: SubnetPoolRecord): Promise<SubnetPoolRecord> => {
    const written = await store.update<SubnetPoolRecord>('subnetpools', orig.id, (current) => {
      if (current.revision_number !== orig.revision_number) throw new NeutronError('SubnetPoolInUse', 'Conflict', `Unable to complete operation on subnet pool ${orig.id}. Two or more concurrent updates of the subnet pool.`);
      return next;
    });
    if (!written) throw new SubnetPoolNotFound(orig.id);
    return written;
  };

  const ownedPool = async (ctx: NetworkContext, id: string, action: string): Promise<SubnetPoolRecord> => {
    const pool = await visibleSubnetPool(store, ctx, id);
    if (!isOwner(ctx, pool.project_id)) throw new PolicyNotAuthorized(`rule:${action}`);
    return pool;
  };

  /** `get_operation_request_body`. */
  const prefixesOf = (body: unknown): string[] => {
    const prefixes = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { prefixes?: unknown }).prefixes : undefined;
    if (!Array.isArray(prefixes) || prefixes.length === 0) throw new HttpBadRequest('Request body contains invalid data');
    const reason = subnetList(prefixes);
    if (reason !== undefined) throw new HttpBadRequest(`Invalid input for prefixes. Reason: ${reason}.`);
    return prefixes as string[];
  };

  return [
    {
      method: 'GET',
      path: '/v2.0/subnetpools',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const items = (await store.scan<SubnetPoolRecord>('subnetpools')).filter((p) => canSeeSubnetPool(ctx, p)).map(subnetPoolView);
        return listResponse(req, 'subnetpools', items, ['ip_version', 'default_prefixlen', 'min_prefixlen', 'max_prefixlen', 'default_quota', 'is_default', 'shared', 'address_scope_id']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/subnetpools',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'subnetpool', ATTRIBUTES, 'create');
        checkAdminAttributes(ctx, f, 'create_subnetpool');
        const projectId = owningProject(ctx, f);
        const id = newId();
        const read = readPool({
          prefixes: f.prefixes as string[],
          ...(f.min_prefixlen !== undefined ? { min_prefixlen: f.min_prefixlen as number } : {}),
          ...(f.max_prefixlen !== undefined ? { max_prefixlen: f.max_prefixlen as number } : {}),
          ...(f.default_prefixlen !== undefined ? { default_prefixlen: f.default_prefixlen as number } : {}),
        });
        const isDefault = (f.is_default as boolean | undefined) ?? false;
        if (isDefault) await checkNoDefault(read.ip_version);
        const scopeId = (f.address_scope_id as string | null | undefined) ?? null;
        await checkAddressScope(ctx, scopeId, id, read.prefixes, read.ip_version);
        await enforceQuota(deps, projectId, 'subnetpool');
        const now = timestamp(deps.clock);
        const pool: SubnetPoolRecord = {
          id,
          project_id: projectId,
          name: f.name as string,
          description: (f.description as string | undefined) ?? '',
          ...read,
          // `default_quota` 0 is "no quota", as Neutron's `if quota:` reads it, but it is shown as given.
          default_quota: (f.default_quota as number | undefined) ?? null,
          is_default: isDefault,
          shared: (f.shared as boolean | undefined) ?? false,
          address_scope_id: scopeId,
          tags: [],
          created_at: now,
          updated_at: now,
          revision_number: 0,
        };
        await store.create('subnetpools', pool.id, pool);
        return showResponse(req, 'subnetpool', subnetPoolView(pool), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/subnetpools/{id}',
      auth: 'token',
      handler: async (req) => showResponse(req, 'subnetpool', subnetPoolView(await visibleSubnetPool(store, ctxOf(req), req.params.id as string))),
    },
    {
      method: 'PUT',
      path: '/v2.0/subnetpools/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'subnetpool', ATTRIBUTES, 'update');
        const orig = await ownedPool(ctx, req.params.id as string, 'update_subnetpool');
        checkAdminAttributes(ctx, f, 'update_subnetpool');
        return showResponse(req, 'subnetpool', subnetPoolView(await writePool(orig, await updatePool(ctx, orig, f))));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/subnetpools/{id}',
      auth: 'token',
      handler: async (req) => {
        const pool = await ownedPool(ctxOf(req), req.params.id as string, 'delete_subnetpool');
        if ((await store.scan<SubnetRecord>('subnets')).some((s) => s.subnetpool_id === pool.id)) throw new SubnetPoolDeleteError('Subnet pool has existing allocations');
        await store.delete('subnetpools', pool.id);
        return NO_CONTENT;
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/subnetpools/{id}/add_prefixes',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const prefixes = prefixesOf(req.body);
        const orig = await ownedPool(ctx, req.params.id as string, 'add_prefixes');
        const updated = await writePool(orig, await updatePool(ctx, orig, { prefixes: [...orig.prefixes, ...prefixes] }));
        return ok({ prefixes: updated.prefixes });
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/subnetpools/{id}/remove_prefixes',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const prefixes = prefixesOf(req.body);
        const orig = await ownedPool(ctx, req.params.id as string, 'remove_prefixes');
        const all = prefixSetOf(orig.prefixes);
        const removal = prefixSetOf(prefixes);
        // Prefixes outside the pool: nothing to do.
        if (!intersects(all, removal)) return ok({ prefixes: orig.prefixes });
        const allocated = prefixSetOf((await store.scan<SubnetRecord>('subnets')).filter((s) => s.subnetpool_id === orig.id).map((s) => s.cidr));
        if (intersects(allocated, removal)) throw new IllegalSubnetPoolPrefixUpdate('One or more the prefixes to be removed is in use by a subnet');
        const remaining = cidrsOf(difference(all, removal)).map(formatCidr);
        const updated = await writePool(orig, { ...orig, prefixes: remaining, updated_at: timestamp(deps.clock), revision_number: orig.revision_number + 1 });
        return ok({ prefixes: updated.prefixes });
      },
    },
  ];
}
