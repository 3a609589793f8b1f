import { KeyedLock } from '../../../common/keyed-lock.ts';
import { type AttributeMap, parseBody, pyText, stringOf, toBoolean, toInt, uuidOrNull } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { BadRequest, HttpBadRequest, NeutronError, PolicyNotAuthorized, SubnetInUse, SubnetNotFound } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject } from '../policy.ts';
import { enforceQuota } from '../quota-check.ts';
import type { NetworkRecord, PortRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import { type AllocationPool, type HostRoute, type Ipv6Mode, type SubnetRequest, validateSubnet } from '../subnet.ts';
import { canSeeSubnet, visibleNetwork, visibleSubnet } from '../visibility.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { allocateFromPool, checkPoolAffinity, requestedPool } from './subnet-allocation.ts';

const listOf = (what: string) => (v: unknown) => (Array.isArray(v) ? undefined : `'${pyText(v)}' is not a list${what}`);

/**
 * neutron-lib's `validate_subnet_service_types`, whose errors are its own: a list of strings,
 * each a device owner's prefix. (Neutron's prefix list takes `compute:` letter by letter, so a
 * type starting with any of `c o m p u t e :` passes too; kept, as clients see it.)
 */
function serviceTypes(value: unknown): string[] {
  if (value === null || (Array.isArray(value) && value.length === 0)) return [];
  if (!Array.isArray(value)) throw new HttpBadRequest('Subnet service types must be a list.');
  const prefixes = ['network:', 'neutron:', ...'compute:'];
  for (const type of value) {
    if (typeof type !== 'string') throw new NeutronError('InvalidInputSubnetServiceType', 'BadRequest', `Subnet service type ${pyText(type)} is not a string.`);
    if (!prefixes.some((p) => type.startsWith(p))) throw new NeutronError('InvalidSubnetServiceType', 'BadRequest', `Subnet service type ${type} does not correspond to a valid device owner.`);
  }
  return value as string[];
}

const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  description: { post: true, put: true, validate: stringOf(255) },
  network_id: { post: true, put: false, required: true, validate: uuidOrNull(false) },
  ip_version: { post: true, put: false, required: true, convert: toInt, validate: (v) => (v === 4 || v === 6 ? undefined : `${v} is not in [4, 6]`) },
  cidr: { post: true, put: false, validate: (v) => (v === null ? undefined : stringOf(64)(v)) },
  prefixlen: { post: true, put: false, convert: toInt, validate: (v) => ((v as number) < 0 ? `'${v}' should be non-negative` : undefined) },
  gateway_ip: { post: true, put: true, validate: (v) => (v === null || typeof v === 'string' ? undefined : `'${pyText(v)}' is not a valid IP address`) },
  allocation_pools: { post: true, put: true, validate: listOf('') },
  dns_nameservers: { post: true, put: true, validate: listOf('') },
  host_routes: { post: true, put: true, validate: listOf('') },
  enable_dhcp: { post: true, put: true, convert: toBoolean },
  ipv6_ra_mode: { post: true, put: false },
  ipv6_address_mode: { post: true, put: false },
  subnetpool_id: { post: true, put: false, validate: uuidOrNull(true) },
  use_default_subnetpool: { post: true, put: false, convert: toBoolean },
  service_types: { post: true, put: true, convert: serviceTypes },
  segment_id: { post: true, put: true, validate: (v) => (v === null ? undefined : 'segments are not supported') },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
  // Set through the `/tags` sub-resource (api/tags.ts), never in the body.
  tags: { post: false, put: false },
};

/** Device owners whose addresses do not keep a subnet in use. */
const SUBNET_OWNED = new Set(['network:dhcp']);

export function subnetView(s: SubnetRecord, network: NetworkRecord | undefined): ApiResource {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    project_id: s.project_id,
    network_id: s.network_id,
    ip_version: s.ip_version,
    subnetpool_id: s.subnetpool_id ?? null,
    enable_dhcp: s.enable_dhcp,
    ipv6_ra_mode: s.ipv6_ra_mode,
    ipv6_address_mode: s.ipv6_address_mode,
    gateway_ip: s.gateway_ip,
    cidr: s.cidr,
    allocation_pools: s.allocation_pools,
    host_routes: s.host_routes,
    dns_nameservers: s.dns_nameservers,
    description: s.description,
    service_types: s.service_types ?? [],
    tags: s.tags,
    created_at: s.created_at,
    updated_at: s.updated_at,
    revision_number: s.revision_number,
    segment_id: null,
    shared: network?.shared ?? false,
    router_external: network?.['router:external'] ?? false,
  };
}

/** `admin_or_network_owner` for creating, changing or removing a network's subnets. */
function requireNetworkOwner(ctx: NetworkContext, network: NetworkRecord, action: string): void {
  if (!isOwner(ctx, network.project_id)) throw new PolicyNotAuthorized(`rule:${action}`);
}

function subnetRequest(id: string, networkId: string, f: Record<string, unknown>): SubnetRequest {
  return {
    id,
    networkId,
    ipVersion: f.ip_version as 4 | 6,
    cidr: f.cidr as string,
    ...(f.gateway_ip !== undefined ? { gatewayIp: f.gateway_ip as string | null } : {}),
    ...(f.allocation_pools !== undefined ? { allocationPools: f.allocation_pools as AllocationPool[] } : {}),
    ...(f.enable_dhcp !== undefined ? { enableDhcp: f.enable_dhcp as boolean } : {}),
    ...(f.ipv6_ra_mode !== undefined ? { ipv6RaMode: f.ipv6_ra_mode as Ipv6Mode | null } : {}),
    ...(f.ipv6_address_mode !== undefined ? { ipv6AddressMode: f.ipv6_address_mode as Ipv6Mode | null } : {}),
    ...(f.dns_nameservers !== undefined ? { dnsNameservers: f.dns_nameservers as string[] } : {}),
    ...(f.host_routes !== undefined ? { hostRoutes: f.host_routes as HostRoute[] } : {}),
  };
}

export function subnetRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const poolLock = new KeyedLock();
  const networksById = async () => new Map((await store.scan<NetworkRecord>('networks')).map((n) => [n.id, n]));
  return [
    {
      method: 'GET',
      path: '/v2.0/subnets',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const [subnets, nets] = await Promise.all([store.scan<SubnetRecord>('subnets'), networksById()]);
        const items = subnets.filter((s) => canSeeSubnet(ctx, s, nets.get(s.network_id))).map((s) => subnetView(s, nets.get(s.network_id)));
        return listResponse(req, 'subnets', items, ['network_id', 'ip_version', 'cidr', 'gateway_ip', 'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/subnets',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'subnet', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, f);
        const network = await visibleNetwork(store, ctx, f.network_id as string);
        requireNetworkOwner(ctx, network, 'create_subnet');
        const hasCidr = f.cidr !== undefined && f.cidr !== null;
        if (hasCidr && f.prefixlen !== undefined) throw new BadRequest('subnets', 'cidr and prefixlen must not be supplied together');
        const pool = await requestedPool(store, ctx, f, hasCidr);
        if (!pool && !hasCidr) throw new BadRequest('subnets', 'a subnetpool must be specified in the absence of a cidr');
        if (pool && !hasCidr && f.allocation_pools !== undefined) throw new BadRequest('subnets', 'allocation_pools allowed only for specific subnet requests.');
        const create = async (): Promise<SubnetRecord> => {
          const all = await store.scan<SubnetRecord>('subnets');
          const others = all.filter((s) => s.network_id === network.id);
          checkPoolAffinity(others, pool, f.ip_version as number);
          const cidr = pool ? allocateFromPool(pool, all, projectId, f, hasCidr) : (f.cidr as string);
          const settled = validateSubnet(subnetRequest(newId(), network.id, { ...f, cidr }), others);
          await enforceQuota(deps, projectId, 'subnet');
          const now = timestamp(deps.clock);
          const subnet: SubnetRecord = {
            id: settled.id,
            project_id: projectId,
            name: (f.name as string | undefined) ?? '',
            description: (f.description as string | undefined) ?? '',
            network_id: network.id,
            ip_version: settled.ipVersion,
            cidr: settled.cidr,
            gateway_ip: settled.gatewayIp,
            allocation_pools: settled.allocationPools,
            enable_dhcp: settled.enableDhcp,
            dns_nameservers: settled.dnsNameservers,
            host_routes: settled.hostRoutes,
            ipv6_ra_mode: settled.ipv6RaMode,
            ipv6_address_mode: settled.ipv6AddressMode,
            subnetpool_id: pool?.id ?? null,
            service_types: (f.service_types as string[] | undefined) ?? [],
            tags: [],
            created_at: now,
            updated_at: now,
            revision_number: 0,
          };
          await store.create('subnets', subnet.id, subnet);
          return subnet;
        };
        // A pool's allocations are its subnets: one allocation at a time per pool (Neutron locks the pool's row).
        const subnet = pool ? await poolLock.run(pool.id, create) : await create();
        return showResponse(req, 'subnet', subnetView(subnet, network), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/subnets/{id}',
      auth: 'token',
      handler: async (req) => {
        const subnet = await visibleSubnet(store, ctxOf(req), req.params.id as string);
        return showResponse(req, 'subnet', subnetView(subnet, await store.get<NetworkRecord>('networks', subnet.network_id)));
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/subnets/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'subnet', ATTRIBUTES, 'update');
        const found = await visibleSubnet(store, ctx, req.params.id as string);
        const network = (await store.get<NetworkRecord>('networks', found.network_id)) as NetworkRecord;
        requireNetworkOwner(ctx, network, 'update_subnet');
        const others = (await store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === network.id && s.id !== found.id);
        const updated = await store.update<SubnetRecord>('subnets', found.id, (s) => {
          const settled = validateSubnet(
            subnetRequest(s.id, s.network_id, {
              ip_version: s.ip_version,
              cidr: s.cidr,
              gateway_ip: 'gateway_ip' in f ? f.gateway_ip : s.gateway_ip,
              allocation_pools: f.allocation_pools ?? s.allocation_pools,
              enable_dhcp: f.enable_dhcp ?? s.enable_dhcp,
              ipv6_ra_mode: s.ipv6_ra_mode,
              ipv6_address_mode: s.ipv6_address_mode,
              dns_nameservers: f.dns_nameservers ?? s.dns_nameservers,
              host_routes: f.host_routes ?? s.host_routes,
            }),
            others,
          );
          return {
            ...s,
            name: (f.name as string | undefined) ?? s.name,
            description: (f.description as string | undefined) ?? s.description,
            gateway_ip: settled.gatewayIp,
            allocation_pools: settled.allocationPools,
            enable_dhcp: settled.enableDhcp,
            dns_nameservers: settled.dnsNameservers,
            host_routes: settled.hostRoutes,
            service_types: (f.service_types as string[] | undefined) ?? s.service_types ?? [],
            updated_at: timestamp(deps.clock),
            revision_number: s.revision_number + 1,
          };
        });
        if (!updated) throw new SubnetNotFound(found.id);
        return showResponse(req, 'subnet', subnetView(updated, network));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/subnets/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const subnet = await visibleSubnet(store, ctx, req.params.id as string);
        const network = await store.get<NetworkRecord>('networks', subnet.network_id);
        if (network) requireNetworkOwner(ctx, network, 'delete_subnet');
        const ports = await store.scan<PortRecord>('ports');
        if (ports.some((p) => !SUBNET_OWNED.has(p.device_owner) && p.fixed_ips.some((ip) => ip.subnet_id === subnet.id))) throw new SubnetInUse(subnet.id);
        await store.delete('subnets', subnet.id);
        // Claims a crashed port create left behind go with the subnet.
        for (const key of await store.keys('ip-allocations', `${subnet.id}/`)) await store.delete('ip-allocations', key);
        deps.claimed.forget(subnet.id);
        return NO_CONTENT;
      },
    },
  ];
}
