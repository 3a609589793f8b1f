import { type AttributeMap, parseBody, stringOf, uuidOrNull } from '../attributes.ts';
import type { NetworkContext } from '../context.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { BadRequest, ExternalGatewayForFloatingIPNotFound, FloatingIPNotFound, FloatingIPPortAlreadyAssociated, NetworkNotFound } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject, requireAdmin } from '../policy.ts';
import { enforceQuota } from '../quota-check.ts';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRequest, type NetworkRoute } from '../request.ts';
import { externalForCaller, visiblePort } from '../visibility.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { createServicePort, deletePort } from './ports.ts';

const ATTRIBUTES: AttributeMap = {
  floating_network_id: { post: true, put: false, required: true, validate: uuidOrNull(false) },
  floating_ip_address: { post: true, put: false, validate: stringOf(64) },
  subnet_id: { post: true, put: false, validate: uuidOrNull(true) },
  port_id: { post: true, put: true, validate: uuidOrNull(true) },
  fixed_ip_address: { post: true, put: true },
  description: { post: true, put: true, validate: stringOf(255) },
  dns_name: { post: true, put: false },
  dns_domain: { post: true, put: false },
  qos_policy_id: { post: true, put: true, validate: (v) => (v === null ? undefined : 'QoS policies are not supported') },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
  // Set through the `/tags` sub-resource (api/tags.ts), never in the body.
  tags: { post: false, put: false },
};

export function floatingIpView(f: FloatingIpRecord, _network?: NetworkRecord): ApiResource {
  return {
    id: f.id,
    tenant_id: f.project_id,
    project_id: f.project_id,
    floating_network_id: f.floating_network_id,
    floating_ip_address: f.floating_ip_address,
    router_id: f.router_id,
    port_id: f.port_id,
    fixed_ip_address: f.fixed_ip_address,
    status: f.status,
    description: f.description,
    port_details: null,
    qos_policy_id: null,
    qos_network_policy_id: null,
    port_forwardings: [],
    tags: f.tags,
    created_at: f.created_at,
    updated_at: f.updated_at,
    revision_number: f.revision_number,
  };
}

/**
 * What associating with `portId` means (`_get_assoc_data`): the port (the caller's), its fixed
 * IP (the one asked for or its first IPv4 one), and the caller's router joining that IP's subnet
 * to the floating network.
 */
async function association(deps: NetworkDeps, ctx: NetworkContext, fip: Pick<FloatingIpRecord, 'id' | 'floating_network_id' | 'floating_ip_address'>, portId: string, fixedIp: unknown): Promise<Pick<FloatingIpRecord, 'port_id' | 'fixed_ip_address' | 'router_id'>> {
  const port = await visiblePort(deps.store, ctx, portId);
  const v4 = port.fixed_ips.filter((ip) => !ip.ip_address.includes(':'));
  const chosen = typeof fixedIp === 'string' ? port.fixed_ips.find((ip) => ip.ip_address === fixedIp) : v4[0];
  if (!chosen) throw new BadRequest('floatingip', typeof fixedIp === 'string' ? `Port ${port.id} does not have fixed ip ${fixedIp}` : `Port ${port.id} does not have any IPv4 address`);
  const ports = await deps.store.scan<PortRecord>('ports');
  const routers = await deps.store.scan<RouterRecord>('routers');
  const router = routers.find(
    (r) => r.external_gateway_info?.network_id === fip.floating_network_id && ports.some((p) => p.device_id === r.id && p.device_owner === 'network:router_interface' && p.fixed_ips.some((ip) => ip.subnet_id === chosen.subnet_id)),
  );
  if (!router) throw new ExternalGatewayForFloatingIPNotFound(fip.floating_network_id, chosen.subnet_id, port.id);
  const taken = (await deps.store.scan<FloatingIpRecord>('floatingips')).find((f) => f.id !== fip.id && f.port_id === port.id && f.fixed_ip_address === chosen.ip_address && f.floating_network_id === fip.floating_network_id);
  if (taken) throw new FloatingIPPortAlreadyAssociated(fip.floating_ip_address, fip.id, port.id, chosen.ip_address, fip.floating_network_id);
  return { port_id: port.id, fixed_ip_address: chosen.ip_address, router_id: router.id };
}

export function floatingIpRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const visible = async (req: NetworkRequest): Promise<FloatingIpRecord> => {
    const id = req.params.id as string;
    const fip = await store.get<FloatingIpRecord>('floatingips', id);
    if (!fip || !isOwner(ctxOf(req), fip.project_id)) throw new FloatingIPNotFound(id);
    return fip;
  };
  const view = async (f: FloatingIpRecord) => floatingIpView(f, await store.get<NetworkRecord>('networks', f.floating_network_id));
  return [
    {
      method: 'GET',
      path: '/v2.0/floatingips',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const items = (await store.scan<FloatingIpRecord>('floatingips')).filter((f) => isOwner(ctx, f.project_id)).map((f) => floatingIpView(f, undefined));
        return listResponse(req, 'floatingips', items, ['floating_ip_address', 'floating_network_id', 'fixed_ip_address', 'port_id', 'router_id']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/floatingips',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'floatingip', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, f);
        if (f.floating_ip_address !== undefined) requireAdmin(ctx, 'rule:create_floatingip:floating_ip_address');
        const networkId = f.floating_network_id as string;
        const network = await store.get<NetworkRecord>('networks', networkId);
        if (!network || !(externalForCaller(ctx, network) || isOwner(ctx, network.project_id))) throw new NetworkNotFound(networkId);
        if (!externalForCaller(ctx, network)) throw new BadRequest('floatingip', `Network ${networkId} is not a valid external network`);
        await enforceQuota(deps, projectId, 'floatingip');
        const id = newId();
        const subnets = (await store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === networkId && s.ip_version === 4);
        const subnet = typeof f.subnet_id === 'string' ? subnets.find((s) => s.id === f.subnet_id) : undefined;
        const asked = f.floating_ip_address !== undefined || subnet ? [{ subnet: subnet ?? (subnets[0] as SubnetRecord), ...(f.floating_ip_address !== undefined ? { ipAddress: f.floating_ip_address as string } : {}) }] : undefined;
        if (subnets.length === 0) throw new BadRequest('floatingip', `Network ${networkId} does not contain any IPv4 subnet`);
        const port = await createServicePort(deps, { network, projectId: '', deviceOwner: 'network:floatingip', deviceId: id, ...(asked ? { fixedIps: asked } : {}) });
        try {
          const address = (port.fixed_ips.find((ip) => !ip.ip_address.includes(':')) ?? port.fixed_ips[0])?.ip_address as string;
          const assoc = typeof f.port_id === 'string' ? await association(deps, ctx, { id, floating_network_id: networkId, floating_ip_address: address }, f.port_id, f.fixed_ip_address) : { port_id: null, fixed_ip_address: null, router_id: null };
          const now = timestamp(deps.clock);
          const fip: FloatingIpRecord = {
            id,
            project_id: projectId,
            description: (f.description as string | undefined) ?? '',
            floating_network_id: networkId,
            floating_ip_address: address,
            floating_port_id: port.id,
            ...assoc,
            status: assoc.port_id !== null ? 'ACTIVE' : 'DOWN',
            tags: [],
            created_at: now,
            updated_at: now,
            revision_number: 0,
          };
          await store.create('floatingips', id, fip);
          return showResponse(req, 'floatingip', floatingIpView(fip, network), 201);
        } catch (err) {
          await deletePort(deps, port);
          throw err;
        }
      },
    },
    {
      method: 'GET',
      path: '/v2.0/floatingips/{id}',
      auth: 'token',
      handler: async (req) => showResponse(req, 'floatingip', await view(await visible(req))),
    },
    {
      method: 'PUT',
      path: '/v2.0/floatingips/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'floatingip', ATTRIBUTES, 'update');
        const found = await visible(req);
        const assoc = 'port_id' in f ? (typeof f.port_id === 'string' ? await association(deps, ctx, found, f.port_id, f.fixed_ip_address) : { port_id: null, fixed_ip_address: null, router_id: null }) : undefined;
        const updated = await store.update<FloatingIpRecord>('floatingips', found.id, (r) => ({
          ...r,
          ...(f.description !== undefined ? { description: f.description as string } : {}),
          ...(assoc ? { ...assoc, status: assoc.port_id !== null ? 'ACTIVE' : 'DOWN' } : {}),
          updated_at: timestamp(deps.clock),
          revision_number: r.revision_number + 1,
        }));
        if (!updated) throw new FloatingIPNotFound(found.id);
        return showResponse(req, 'floatingip', await view(updated));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/floatingips/{id}',
      auth: 'token',
      handler: async (req) => {
        const fip = await visible(req);
        await store.delete('floatingips', fip.id);
        const port = await store.get<PortRecord>('ports', fip.floating_port_id);
        if (port) await deletePort(deps, port);
        return NO_CONTENT;
      },
    },
  ];
}
