import { type AttributeMap, parseBody, stringOf, toBoolean, toInt, uuidOrNull } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { NetworkInUse, NetworkNotFound, NeutronError, PolicyNotAuthorized } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject, requireAdmin } from '../policy.ts';
import { defaultQosPolicyId, qosPolicyChange, visibleQosPolicy } from '../qos-policy-access.ts';
import { enforceQuota } from '../quota-check.ts';
import type { NetworkRecord, PortRecord, SubnetPoolRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import { canSeeNetwork, sharedWithCaller, visibleNetwork } from '../visibility.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { ensureDefaultSecurityGroup } from './security-groups.ts';

const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  description: { post: true, put: true, validate: stringOf(255) },
  admin_state_up: { post: true, put: true, convert: toBoolean },
  shared: { post: true, put: true, convert: toBoolean },
  'router:external': { post: true, put: true, convert: toBoolean },
  mtu: { post: true, put: true, convert: toInt, validate: (v) => ((v as number) < 68 ? `'${v}' is too small - must be at least '68'` : undefined) },
  port_security_enabled: { post: true, put: true, convert: toBoolean },
  qos_policy_id: { post: true, put: true, validate: uuidOrNull(true) },
  availability_zone_hints: { post: true, put: false, validate: (v) => (Array.isArray(v) && v.every((z) => typeof z === 'string') ? undefined : `'${String(v)}' is not a list`) },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
  is_default: { post: true, put: true, convert: toBoolean },
  // Set through the `/tags` sub-resource (api/tags.ts), never in the body.
  tags: { post: false, put: false },
};

/** Device owners whose ports do not keep a network in use (Neutron's `_ensure_network_not_in_use` lets DHCP ports go with it). */
const NETWORK_OWNED = new Set(['network:dhcp']);

/**
 * A network as the API shows it to `ctx` (`shared` is whether it is shared with the caller's
 * project); `poolScopes` maps subnet pools to their address scope, which a network's subnets
 * from a pool give it (`ipv4_address_scope`, `ipv6_address_scope`).
 */
export function networkView(ctx: NetworkContext, net: NetworkRecord, subnets: readonly SubnetRecord[], poolScopes: ReadonlyMap<string, string | null> = new Map()): ApiResource {
  const own = subnets.filter((s) => s.network_id === net.id);
  const scopeOf = (version: 4 | 6) => {
    const pooled = own.find((s) => s.ip_version === version && s.subnetpool_id);
    return (pooled && poolScopes.get(pooled.subnetpool_id as string)) ?? null;
  };
  return {
    id: net.id,
    name: net.name,
    tenant_id: net.project_id,
    project_id: net.project_id,
    admin_state_up: net.admin_state_up,
    mtu: net.mtu,
    status: net.status,
    subnets: own.map((s) => s.id),
    shared: sharedWithCaller(ctx, net),
    availability_zone_hints: net.availability_zone_hints,
    availability_zones: ['nova'],
    ipv4_address_scope: scopeOf(4),
    ipv6_address_scope: scopeOf(6),
    'router:external': net['router:external'],
    description: net.description,
    port_security_enabled: net.port_security_enabled,
    qos_policy_id: net.qos_policy_id ?? null,
    l2_adjacency: true,
    tags: net.tags,
    // Only an external network has one (Neutron extends from its externalnetworks row).
    ...(net['router:external'] ? { is_default: net.is_default ?? false } : {}),
    created_at: net.created_at,
    updated_at: net.updated_at,
    revision_number: net.revision_number,
  };
}

/** Admin-only attributes a body sets: `create_network:shared` and the like (on create, not when the body gives the default, false). */
/**
 * auto_allocate/db.py's `_ensure_external_network_default_value_callback`: `is_default` counts
 * only on an external network (elsewhere it is ignored), and only one external network may be
 * the default. Returns the network with it applied.
 * @throws {NeutronError} 409 DefaultExternalNetworkExists
 */
async function applyIsDefault(deps: NetworkDeps, net: NetworkRecord, isDefault: boolean | undefined): Promise<NetworkRecord> {
  if (!net['router:external']) {
    const { is_default: _, ...internal } = net;
    return internal as NetworkRecord;
  }
  if (isDefault === undefined) return net;
  if (isDefault) {
    const other = (await deps.store.scan<NetworkRecord>('networks')).find((n) => n.id !== net.id && n['router:external'] && n.is_default === true);
    if (other) throw new NeutronError('DefaultExternalNetworkExists', 'Conflict', `A default external network already exists: ${other.id}.`);
  }
  return { ...net, is_default: isDefault };
}

function checkAdminAttributes(ctx: NetworkContext, fields: Record<string, unknown>, action: string): void {
  const adminOnly = ['shared', 'router:external', 'is_default'].filter((a) => a in fields && !(action === 'create_network' && fields[a] === false));
  if (adminOnly.length > 0) requireAdmin(ctx, `(rule:${action} and ${adminOnly.map((a) => `rule:${action}:${a}`).join(' and ')})`);
}

export function networkRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  /** The address scope of each pool the subnets came from (no listing when none came from a pool). */
  const poolScopes = async (subnets: readonly SubnetRecord[]): Promise<Map<string, string | null>> => {
    if (!subnets.some((s) => s.subnetpool_id)) return new Map();
    return new Map((await store.scan<SubnetPoolRecord>('subnetpools')).map((p) => [p.id, p.address_scope_id]));
  };
  const viewWithSubnets = async (ctx: NetworkContext, net: NetworkRecord) => {
    const subnets = await store.scan<SubnetRecord>('subnets');
    return networkView(ctx, net, subnets, await poolScopes(subnets.filter((s) => s.network_id === net.id)));
  };
  return [
    {
      method: 'GET',
      path: '/v2.0/networks',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const [nets, subnets] = await Promise.all([store.scan<NetworkRecord>('networks'), store.scan<SubnetRecord>('subnets')]);
        const scopes = await poolScopes(subnets);
        return listResponse(req, 'networks', nets.filter((n) => canSeeNetwork(ctx, n)).map((n) => networkView(ctx, n, subnets, scopes)), ['admin_state_up', 'mtu', 'shared', 'router:external']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/networks',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const fields = parseBody(req.body, 'network', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, fields);
        checkAdminAttributes(ctx, fields, 'create_network');
        await enforceQuota(deps, projectId, 'network');
        // A network naming no QoS policy gets its project's default one (qos-default).
        const qosPolicyId = typeof fields.qos_policy_id === 'string' ? (await visibleQosPolicy(store, ctx, fields.qos_policy_id)).id : ((await defaultQosPolicyId(store, projectId)) ?? null);
        const now = timestamp(deps.clock);
        const asked: NetworkRecord = {
          id: newId(),
          project_id: projectId,
          name: (fields.name as string | undefined) ?? '',
          description: (fields.description as string | undefined) ?? '',
          admin_state_up: (fields.admin_state_up as boolean | undefined) ?? true,
          shared: (fields.shared as boolean | undefined) ?? false,
          'router:external': (fields['router:external'] as boolean | undefined) ?? false,
          mtu: (fields.mtu as number | undefined) ?? deps.settings.mtu,
          status: 'ACTIVE',
          port_security_enabled: (fields.port_security_enabled as boolean | undefined) ?? true,
          availability_zone_hints: (fields.availability_zone_hints as string[] | undefined) ?? [],
          qos_policy_id: qosPolicyId,
          tags: [],
          created_at: now,
          updated_at: now,
          revision_number: 1,
        };
        const net = await applyIsDefault(deps, asked, fields.is_default as boolean | undefined);
        // Neutron makes the project's default group when its first network is made.
        await ensureDefaultSecurityGroup(deps, projectId);
        await store.create('networks', net.id, net);
        return showResponse(req, 'network', networkView(ctx, net, []), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/networks/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const net = await visibleNetwork(store, ctx, req.params.id as string);
        return showResponse(req, 'network', await viewWithSubnets(ctx, net));
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/networks/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const id = req.params.id as string;
        const fields = parseBody(req.body, 'network', ATTRIBUTES, 'update');
        const found = await visibleNetwork(store, ctx, id);
        if (!isOwner(ctx, found.project_id)) throw new PolicyNotAuthorized('rule:update_network');
        checkAdminAttributes(ctx, fields, 'update_network');
        if ('qos_policy_id' in fields) await qosPolicyChange(store, ctx, found.qos_policy_id, fields.qos_policy_id as string | null);
        const { is_default: isDefault, ...rest } = fields;
        const wouldBe = await applyIsDefault(deps, { ...found, ...rest } as NetworkRecord, isDefault as boolean | undefined);
        const updated = await store.update<NetworkRecord>('networks', id, (net) => {
          const { is_default: _, ...current } = net;
          const external = (rest['router:external'] as boolean | undefined) ?? net['router:external'];
          // Becoming internal drops the flag; otherwise the one just checked, or the network's own.
          const flag = !external ? undefined : isDefault !== undefined ? wouldBe.is_default : net.is_default;
          return { ...current, ...rest, ...(flag !== undefined ? { is_default: flag } : {}), updated_at: timestamp(deps.clock), revision_number: net.revision_number + 1 } as NetworkRecord;
        });
        if (!updated) throw new NetworkNotFound(id);
        return showResponse(req, 'network', await viewWithSubnets(ctx, updated));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/networks/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const id = req.params.id as string;
        const net = await visibleNetwork(store, ctx, id);
        if (!isOwner(ctx, net.project_id)) throw new PolicyNotAuthorized('rule:delete_network');
        const ports = (await store.scan<PortRecord>('ports')).filter((p) => p.network_id === id);
        if (ports.some((p) => !NETWORK_OWNED.has(p.device_owner))) throw new NetworkInUse(id);
        for (const subnet of (await store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === id)) await store.delete('subnets', subnet.id);
        await store.delete('networks', id);
        return NO_CONTENT;
      },
    },
  ];
}
