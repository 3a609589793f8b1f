import { claimAddresses, claimMac, claimPortAddresses, type IpRequest, releaseAddresses, releaseMac } from '../address-claims.ts';
import { type AttributeMap, type Fields, parseBody, pyText, stringOf, toBoolean, uuidOrNull } from '../attributes.ts';
import { contains, parseCidr } from '../cidr.ts';
import type { NetworkContext } from '../context.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { InvalidInput, NeutronError, PolicyNotAuthorized, PortNotFound, SecurityGroupNotFound, SubnetNotFound } from '../errors.ts';
import { parseIp } from '../ip-address.ts';
import type { ApiResource } from '../listing.ts';
import { normalizeMac } from '../mac-address.ts';
import { isOwner, owningProject, requireAdmin } from '../policy.ts';
import { qosPolicyChange, visibleQosPolicy } from '../qos-policy-access.ts';
import { enforcePortQuota } from '../quota-check.ts';
import type { AddressPair, FixedIp, NetworkRecord, PortRecord, SecurityGroupRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRequest, type NetworkRoute } from '../request.ts';
import { canSeePort, visibleNetwork, visiblePort } from '../visibility.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { ensureDefaultSecurityGroup } from './security-groups.ts';
import { tagListProblem } from './tags.ts';

const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  description: { post: true, put: true, validate: stringOf(255) },
  network_id: { post: true, put: false, required: true, validate: uuidOrNull(false) },
  admin_state_up: { post: true, put: true, convert: toBoolean },
  mac_address: { post: true, put: true, convert: (v) => normalizeMac(v as string) },
  fixed_ips: { post: true, put: true, validate: (v) => (Array.isArray(v) ? undefined : `Invalid data format for fixed IP: '${pyText(v)}'`) },
  device_id: { post: true, put: true, validate: stringOf(255) },
  device_owner: { post: true, put: true, validate: stringOf(255) },
  security_groups: { post: true, put: true, validate: (v) => (Array.isArray(v) ? undefined : `'${pyText(v)}' is not a list`) },
  port_security_enabled: { post: true, put: true, convert: toBoolean },
  allowed_address_pairs: { post: true, put: true, validate: (v) => (Array.isArray(v) ? undefined : `Allowed address pairs must be a list.`) },
  'binding:host_id': { post: true, put: true, validate: stringOf(255) },
  'binding:vnic_type': { post: true, put: true, validate: (v) => (['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'remote-managed', 'vdpa'].includes(v as string) ? undefined : `${pyText(v)} is not in valid vnic types`) },
  'binding:profile': { post: true, put: true, validate: (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : `'${pyText(v)}' is not a dictionary`) },
  qos_policy_id: { post: true, put: true, validate: uuidOrNull(true) },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
  // `tag-ports-during-bulk-creation`: only ports take tags in their POST.
  tags: { post: true, put: false, validate: tagListProblem },
};

/** Owners whose ports Neutron manages itself (routers, floating IPs): not deleted through the port API. */
const SERVICE_OWNERS = new Set(['network:router_interface', 'network:router_gateway', 'network:floatingip']);

/** A port as `ctx` sees it; `network` (its network) gives `qos_network_policy_id`. */
export function portView(p: PortRecord, ctx: NetworkContext, network: NetworkRecord | undefined): ApiResource {
  const view: ApiResource = {
    id: p.id,
    name: p.name,
    network_id: p.network_id,
    tenant_id: p.project_id,
    project_id: p.project_id,
    mac_address: p.mac_address,
    admin_state_up: p.admin_state_up,
    status: p.status,
    device_id: p.device_id,
    device_owner: p.device_owner,
    fixed_ips: p.fixed_ips,
    allowed_address_pairs: p.allowed_address_pairs,
    extra_dhcp_opts: [],
    security_groups: p.security_groups,
    description: p.description,
    port_security_enabled: p.port_security_enabled,
    qos_policy_id: p.qos_policy_id ?? null,
    qos_network_policy_id: network?.qos_policy_id ?? null,
    resource_request: null,
    ip_allocation: 'immediate',
    propagate_uplink_status: false,
    tags: p.tags,
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
  };
  // `get_port:binding:*` is admin only (the vnic type is everyone's).
  view['binding:vnic_type'] = p['binding:vnic_type'];
  if (ctx.isAdmin) {
    const bound = p['binding:host_id'] !== '';
    view['binding:host_id'] = p['binding:host_id'];
    view['binding:profile'] = p['binding:profile'];
    view['binding:vif_type'] = bound ? 'bridge' : 'unbound';
    view['binding:vif_details'] = bound ? { connectivity: 'l2', port_filter: true } : {};
  }
  return view;
}

/** The subnets and addresses a `fixed_ips` list asks for (`_get_subnet_for_fixed_ip`). */
function ipRequests(fixedIps: unknown[], subnets: readonly SubnetRecord[]): IpRequest[] {
  return fixedIps.map((entry) => {
    if (typeof entry !== 'object' || entry === null) throw new InvalidInput(`Invalid data format for fixed IP: '${pyText(entry)}'`);
    const { subnet_id: subnetId, ip_address: ipAddress } = entry as { subnet_id?: string; ip_address?: string };
    if (subnetId !== undefined) {
      const subnet = subnets.find((s) => s.id === subnetId);
      if (!subnet) throw new SubnetNotFound(String(subnetId));
      if (ipAddress !== undefined && parseIp(ipAddress) === undefined) throw new InvalidInput(`${ipAddress} is not a valid IP address`);
      return { subnet, ...(ipAddress !== undefined ? { ipAddress } : {}) };
    }
    if (ipAddress === undefined) throw new InvalidInput('IP allocation requires subnet_id or ip_address');
    const ip = parseIp(ipAddress);
    if (ip === undefined) throw new InvalidInput(`${ipAddress} is not a valid IP address`);
    const subnet = subnets.find((s) => contains(parseCidr(s.cidr), ip));
    if (!subnet) throw new InvalidInput(`IP address ${ipAddress} is not a valid IP for any of the subnets on the specified network.`);
    return { subnet, ipAddress };
  });
}

function addressPairs(value: unknown, mac: string): AddressPair[] {
  return (value as { ip_address?: string; mac_address?: string }[]).map((pair) => {
    if (typeof pair?.ip_address !== 'string') throw new InvalidInput('AllowedAddressPair must contain ip_address');
    return { ip_address: pair.ip_address, mac_address: pair.mac_address !== undefined ? normalizeMac(pair.mac_address) : mac };
  });
}

async function checkGroups(deps: NetworkDeps, ctx: NetworkContext, ids: unknown[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    const group = typeof id === 'string' ? await deps.store.get<SecurityGroupRecord>('security-groups', id) : undefined;
    if (!group || !isOwner(ctx, group.project_id)) throw new SecurityGroupNotFound(String(id));
    if (!out.includes(group.id)) out.push(group.id);
  }
  return out;
}

/** What non-admins and non-network-owners may not set (`create_port:<attr>` rules). */
function checkPortAttributes(ctx: NetworkContext, fields: Fields, network: NetworkRecord, action: 'create_port' | 'update_port'): void {
  for (const attr of ['binding:host_id', 'binding:profile']) if (attr in fields) requireAdmin(ctx, `rule:${action}:${attr}`);
  // `update_port:mac_address`: an admin, or a manager of the network's project (a network owner may only choose one at create).
  if (action === 'update_port' && 'mac_address' in fields && !(ctx.isAdmin || (ctx.roles.includes('manager') && isOwner(ctx, network.project_id)))) throw new PolicyNotAuthorized(`rule:${action}:mac_address`);
  if (isOwner(ctx, network.project_id)) return;
  for (const attr of ['mac_address', 'port_security_enabled', 'allowed_address_pairs']) if (attr in fields) throw new PolicyNotAuthorized(`rule:${action}:${attr}`);
  if (Array.isArray(fields.fixed_ips) && fields.fixed_ips.some((ip) => typeof ip === 'object' && ip !== null && 'ip_address' in ip)) throw new PolicyNotAuthorized(`rule:${action}:fixed_ips:ip_address`);
  if (typeof fields.device_owner === 'string' && fields.device_owner.startsWith('network:')) throw new PolicyNotAuthorized(`rule:${action}:device_owner`);
}

/**
 * A new `mac_address` for a port (db_base_plugin_v2's `_check_mac_addr_update` and ML2's
 * `_check_mac_update_allowed`): not on a port Neutron owns (`network:*`), not while the port is
 * bound to a host, and claimed on the network first (409 MacAddressInUse). Returns the MAC now
 * claimed, or undefined when the body keeps the port's own.
 */
async function changeMac(deps: NetworkDeps, port: PortRecord, fields: Fields): Promise<string | undefined> {
  const mac = fields.mac_address as string | undefined;
  if (mac === undefined || mac === port.mac_address) return undefined;
  const owner = (fields.device_owner as string | undefined) ?? port.device_owner;
  if (owner.startsWith('network:')) throw new NeutronError('UnsupportedPortDeviceOwner', 'Conflict', `Operation mac address update is not supported for device_owner ${owner} on port ${port.id}.`);
  if (port['binding:host_id'] !== '') throw new NeutronError('PortBound', 'Conflict', `Unable to complete operation on port ${port.id}, port is already bound, port type: bridge, old_mac ${port.mac_address}, new_mac ${mac}.`);
  return claimMac(deps, port.network_id, mac, port.id);
}

/** `?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=<id>`: every condition must hold of one of the port's addresses. */
function fixedIpFilter(req: NetworkRequest): { keep: (p: PortRecord) => boolean; rest: NetworkRequest } {
  const wanted = req.query.getAll('fixed_ips').map((f) => {
    const eq = f.indexOf('=');
    return [f.slice(0, eq), f.slice(eq + 1)] as const;
  });
  const query = new URLSearchParams(req.query);
  query.delete('fixed_ips');
  return {
    keep: (p) => wanted.every(([k, v]) => p.fixed_ips.some((ip) => (k === 'ip_address_substr' ? ip.ip_address.includes(v) : ip[k as keyof typeof ip] === v))),
    rest: { ...req, query },
  };
}

export function portRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const notify = async (...hosts: string[]) => {
    for (const host of new Set(hosts)) if (host !== '') await deps.hosts.changed(host);
  };
  return [
    {
      method: 'GET',
      path: '/v2.0/ports',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        // What compute asks at every boot and delete: one server's ports, from the index.
        const devices = req.query.getAll('device_id');
        const [ports, nets] = await Promise.all([devices.length === 1 ? deps.portIndex.ofDevice(devices[0] as string) : store.scan<PortRecord>('ports'), store.scan<NetworkRecord>('networks')]);
        const byId = new Map(nets.map((n) => [n.id, n]));
        const { keep, rest } = fixedIpFilter(req);
        const items = ports.filter((p) => canSeePort(ctx, p, byId.get(p.network_id)) && keep(p)).map((p) => portView(p, ctx, byId.get(p.network_id)));
        return listResponse(rest, 'ports', items, ['network_id', 'mac_address', 'admin_state_up', 'device_id', 'device_owner']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/ports',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'port', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, f);
        const network = await visibleNetwork(store, ctx, f.network_id as string);
        checkPortAttributes(ctx, f, network, 'create_port');
        if (typeof f.qos_policy_id === 'string') await visibleQosPolicy(store, ctx, f.qos_policy_id);
        const deviceOwner = (f.device_owner as string | undefined) ?? '';
        const portSecurity = (f.port_security_enabled as boolean | undefined) ?? network.port_security_enabled;
        let groups: string[] = [];
        if (Array.isArray(f.security_groups)) groups = await checkGroups(deps, ctx, f.security_groups);
        else if (portSecurity && !deviceOwner.startsWith('network:')) groups = [await ensureDefaultSecurityGroup(deps, projectId)];
        if (!portSecurity && groups.length > 0) throw new NeutronError('PortSecurityAndIPRequiredForSecurityGroups', 'BadRequest', 'Port security must be enabled and port must have an IP address in order to use security groups.');
        const subnets = (await store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === network.id);
        const asked = Array.isArray(f.fixed_ips) ? ipRequests(f.fixed_ips, subnets) : undefined;
        const id = newId();
        const indexed = { id, project_id: projectId, device_id: (f.device_id as string | undefined) ?? '' };
        // The quota (counted after this port's own index entry) and the claims go at once.
        const [quota, claimed] = await Promise.allSettled([
          (async () => {
            await deps.portIndex.add(indexed);
            await enforcePortQuota(deps, projectId);
          })(),
          claimPortAddresses(deps, network.id, subnets, asked, id, f.mac_address as string | undefined, deviceOwner),
        ]);
        if (quota.status === 'rejected' || claimed.status === 'rejected') {
          if (claimed.status === 'fulfilled') await releaseClaims(deps, network.id, claimed.value);
          await deps.portIndex.remove(indexed);
          throw quota.status === 'rejected' ? quota.reason : (claimed as PromiseRejectedResult).reason;
        }
        const { mac, fixedIps } = claimed.value;
        const host = (f['binding:host_id'] as string | undefined) ?? '';
        const now = timestamp(deps.clock);
        const port: PortRecord = {
          id,
          project_id: projectId,
          name: (f.name as string | undefined) ?? '',
          description: (f.description as string | undefined) ?? '',
          network_id: network.id,
          mac_address: mac,
          admin_state_up: (f.admin_state_up as boolean | undefined) ?? true,
          status: host !== '' ? 'ACTIVE' : 'DOWN',
          device_id: indexed.device_id,
          device_owner: deviceOwner,
          fixed_ips: fixedIps,
          security_groups: groups,
          port_security_enabled: portSecurity,
          allowed_address_pairs: f.allowed_address_pairs !== undefined ? addressPairs(f.allowed_address_pairs, mac) : [],
          'binding:host_id': host,
          'binding:vnic_type': (f['binding:vnic_type'] as string | undefined) ?? 'normal',
          'binding:profile': (f['binding:profile'] as Record<string, unknown> | undefined) ?? {},
          qos_policy_id: (f.qos_policy_id as string | null | undefined) ?? null,
          tags: (f.tags as string[] | undefined) ?? [],
          created_at: now,
          updated_at: now,
          revision_number: 1,
        };
        try {
          await store.create('ports', id, port);
        } catch (err) {
          await releaseClaims(deps, network.id, { mac, fixedIps });
          await deps.portIndex.remove(indexed);
          throw err;
        }
        await notify(host);
        return showResponse(req, 'port', portView(port, ctx, network), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/ports/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const port = await visiblePort(store, ctx, req.params.id as string);
        return showResponse(req, 'port', portView(port, ctx, await store.get<NetworkRecord>('networks', port.network_id)));
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/ports/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'port', ATTRIBUTES, 'update');
        const found = await visiblePort(store, ctx, req.params.id as string);
        const network = (await store.get<NetworkRecord>('networks', found.network_id)) as NetworkRecord;
        checkPortAttributes(ctx, f, network, 'update_port');
        if ('qos_policy_id' in f) await qosPolicyChange(store, ctx, found.qos_policy_id, f.qos_policy_id as string | null);
        const groups = Array.isArray(f.security_groups) ? await checkGroups(deps, ctx, f.security_groups) : undefined;
        const newMac = await changeMac(deps, found, f);
        const change = Array.isArray(f.fixed_ips)
          ? await changeAddresses(deps, found, f.fixed_ips).catch(async (err: unknown) => {
              if (newMac) await releaseMac(deps, found.network_id, newMac);
              throw err;
            })
          : undefined;
        const newDevice = typeof f.device_id === 'string' && f.device_id !== found.device_id ? { ...found, device_id: f.device_id } : undefined;
        if (newDevice) await deps.portIndex.add(newDevice);
        const updating = store.update<PortRecord>('ports', found.id, (p) => {
          const portSecurity = (f.port_security_enabled as boolean | undefined) ?? p.port_security_enabled;
          const securityGroups = groups ?? p.security_groups;
          if (!portSecurity && securityGroups.length > 0) throw new NeutronError('PortSecurityPortHasSecurityGroup', 'Conflict', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
          const host = (f['binding:host_id'] as string | undefined) ?? p['binding:host_id'];
          return {
            ...p,
            ...(f as Partial<PortRecord>),
            fixed_ips: change?.fixedIps ?? p.fixed_ips,
            security_groups: securityGroups,
            port_security_enabled: portSecurity,
            allowed_address_pairs: f.allowed_address_pairs !== undefined ? addressPairs(f.allowed_address_pairs, p.mac_address) : p.allowed_address_pairs,
            status: host !== '' ? 'ACTIVE' : 'DOWN',
            updated_at: timestamp(deps.clock),
            revision_number: p.revision_number + 1,
          };
        });
        const updated = await updating.catch(async (err: unknown) => {
          if (newDevice) await deps.portIndex.remove(newDevice);
          if (newMac) await releaseMac(deps, found.network_id, newMac);
          throw err;
        });
        if (!updated) {
          if (change) await releaseAddresses(deps, change.added);
          if (newDevice) await deps.portIndex.remove(newDevice);
          if (newMac) await releaseMac(deps, found.network_id, newMac);
          throw new PortNotFound(found.id);
        }
        if (newMac) await releaseMac(deps, found.network_id, found.mac_address);
        await deps.portIndex.remove(found, updated);
        // The addresses the port no longer has are free only once the port says so.
        if (change) await releaseAddresses(deps, change.removed);
        await notify(found['binding:host_id'], updated['binding:host_id']);
        return showResponse(req, 'port', portView(updated, ctx, network));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/ports/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const port = await visiblePort(store, ctx, req.params.id as string);
        if (SERVICE_OWNERS.has(port.device_owner)) {
          throw new NeutronError('ServicePortInUse', 'Conflict', `Port ${port.id} cannot be deleted directly via the port API: has device owner ${port.device_owner}.`);
        }
        await deletePort(deps, port);
        await notify(port['binding:host_id']);
        return NO_CONTENT;
      },
    },
  ];
}

/**
 * A port's new `fixed_ips` (`_get_changed_ips_for_port`): entries naming an address the port
 * has keep it, the others are claimed as a create's are, and the port's addresses not named are
 * let go after the port is written.
 */
async function changeAddresses(deps: NetworkDeps, port: PortRecord, requested: unknown[]): Promise<{ fixedIps: FixedIp[]; added: FixedIp[]; removed: FixedIp[] }> {
  const subnets = (await deps.store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === port.network_id);
  const kept: FixedIp[] = [];
  const wanted: unknown[] = [];
  for (const entry of requested) {
    const ip = typeof entry === 'object' && entry !== null ? (entry as { ip_address?: unknown; subnet_id?: unknown }) : undefined;
    const same = ip && port.fixed_ips.find((x) => x.ip_address === ip.ip_address && (ip.subnet_id === undefined || ip.subnet_id === x.subnet_id));
    if (same) kept.push(same);
    else wanted.push(entry);
  }
  const added = wanted.length > 0 ? await claimAddresses(deps, port.network_id, subnets, ipRequests(wanted, subnets), port.id, port.mac_address, port.device_owner) : [];
  const removed = port.fixed_ips.filter((x) => !kept.includes(x));
  return { fixedIps: [...kept, ...added], added, removed };
}

/** Removes a port, then its claims (a crash in between leaves an address unused, never given twice). */
export async function deletePort(deps: NetworkDeps, port: PortRecord): Promise<void> {
  await deps.store.delete('ports', port.id);
  await Promise.all([releaseClaims(deps, port.network_id, { mac: port.mac_address, fixedIps: port.fixed_ips }), deps.portIndex.remove(port)]);
}

async function releaseClaims(deps: NetworkDeps, networkId: string, claims: { mac: string; fixedIps: readonly FixedIp[] }): Promise<void> {
  await Promise.all([releaseAddresses(deps, claims.fixedIps), releaseMac(deps, networkId, claims.mac)]);
}

/** Used by routers and floating IPs: a port Neutron makes for itself, addresses claimed as any port's. */
export async function createServicePort(deps: NetworkDeps, options: { network: NetworkRecord; projectId: string; deviceOwner: string; deviceId: string; fixedIps?: IpRequest[] }): Promise<PortRecord> {
  const id = newId();
  const indexed = { id, project_id: options.projectId, device_id: options.deviceId };
  const subnets = (await deps.store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === options.network.id);
  await deps.portIndex.add(indexed);
  let claims: { mac: string; fixedIps: FixedIp[] } | undefined;
  try {
    claims = await claimPortAddresses(deps, options.network.id, subnets, options.fixedIps, id, undefined, options.deviceOwner);
    const now = timestamp(deps.clock);
    const port: PortRecord = {
      id,
      project_id: options.projectId,
      name: '',
      description: '',
      network_id: options.network.id,
      mac_address: claims.mac,
      admin_state_up: true,
      status: 'ACTIVE',
      device_id: options.deviceId,
      device_owner: options.deviceOwner,
      fixed_ips: claims.fixedIps,
      security_groups: [],
      port_security_enabled: false,
      allowed_address_pairs: [],
      'binding:host_id': '',
      'binding:vnic_type': 'normal',
      'binding:profile': {},
      tags: [],
      created_at: now,
      updated_at: now,
      revision_number: 1,
    };
    await deps.store.create('ports', id, port);
    return port;
  } catch (err) {
    if (claims) await releaseClaims(deps, options.network.id, claims);
    await deps.portIndex.remove(indexed);
    throw err;
  }
}
