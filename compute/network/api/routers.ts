import { type AttributeMap, parseBody, pyText, stringOf, toBoolean } from '../attributes.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { BadRequest, HttpBadRequest, NetworkNotFound, NeutronError, OverQuota, PolicyNotAuthorized, RouterInUse, RouterInterfaceNotFound, RouterInterfaceNotFoundForSubnet, RouterNotFound } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject } from '../policy.ts';
import { enforceQuota, projectQuotas } from '../quota-check.ts';
import type { ExternalGatewayInfo, NetworkRecord, PortRecord, RouterRecord, SubnetRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, ok, type NetworkRequest, type NetworkRoute } from '../request.ts';
import type { NetworkContext } from '../context.ts';
import { canSeeNetwork, externalForCaller, visiblePort, visibleSubnet } from '../visibility.ts';
import { addRoutes, checkNexthops, DEFAULT_ROUTER_ROUTES, parseRoutes, removeRoutes, RouterInterfaceInUseByRoute } from '../extra-routes.ts';
import { contains, parseCidr } from '../cidr.ts';
import { parseIp } from '../ip-address.ts';
import type { HostRoute } from '../subnet.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { createServicePort, deletePort } from './ports.ts';

const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  description: { post: true, put: true, validate: stringOf(255) },
  admin_state_up: { post: true, put: true, convert: toBoolean },
  external_gateway_info: { post: true, put: true, validate: (v) => (v === null || (typeof v === 'object' && !Array.isArray(v)) ? undefined : `'${pyText(v)}' is not a dictionary`) },
  distributed: { post: true, put: true, convert: toBoolean },
  ha: { post: true, put: true, convert: toBoolean },
  availability_zone_hints: { post: true, put: false },
  routes: { post: false, put: true, convert: parseRoutes },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
  // Set through the `/tags` sub-resource (api/tags.ts), never in the body.
  tags: { post: false, put: false },
};

const INTERFACE_OWNER = 'network:router_interface';

export function routerView(r: RouterRecord): ApiResource {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    project_id: r.project_id,
    admin_state_up: r.admin_state_up,
    status: r.status,
    external_gateway_info: r.external_gateway_info,
    description: r.description,
    availability_zone_hints: [],
    availability_zones: ['nova'],
    distributed: false,
    ha: false,
    flavor_id: null,
    routes: r.routes,
    tags: r.tags,
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
  };
}

/** The gateway a body asks for: an external network and its gateway port. */
async function makeGateway(deps: NetworkDeps, routerId: string, info: Record<string, unknown>, ctx: NetworkContext): Promise<{ info: ExternalGatewayInfo; portId: string }> {
  const isAdmin = ctx.isAdmin;
  const networkId = info.network_id;
  if (typeof networkId !== 'string') throw new HttpBadRequest("Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: set().");
  const network = await deps.store.get<NetworkRecord>('networks', networkId);
  if (!network || !canSeeNetwork(ctx, network)) throw new NetworkNotFound(networkId);
  if (!externalForCaller(ctx, network)) throw new BadRequest('router', `Network ${networkId} is not an external network`);
  if (info.external_fixed_ips !== undefined && !isAdmin) throw new PolicyNotAuthorized('rule:create_router:external_gateway_info:external_fixed_ips');
  if (info.enable_snat !== undefined && !isAdmin) throw new PolicyNotAuthorized('rule:create_router:external_gateway_info:enable_snat');
  const subnets = (await deps.store.scan<SubnetRecord>('subnets')).filter((s) => s.network_id === networkId);
  const asked = Array.isArray(info.external_fixed_ips)
    ? (info.external_fixed_ips as { subnet_id?: string; ip_address?: string }[]).map((x) => {
        const subnet = subnets.find((s) => s.id === x.subnet_id) ?? subnets[0];
        if (!subnet) throw new BadRequest('router', `No subnets on network ${networkId}`);
        return { subnet, ...(x.ip_address !== undefined ? { ipAddress: x.ip_address } : {}) };
      })
    : undefined;
  const port = await createServicePort(deps, { network, projectId: '', deviceOwner: 'network:router_gateway', deviceId: routerId, ...(asked ? { fixedIps: asked } : {}) });
  return { info: { network_id: networkId, enable_snat: info.enable_snat === undefined ? true : Boolean(info.enable_snat), external_fixed_ips: port.fixed_ips }, portId: port.id };
}

async function dropGateway(deps: NetworkDeps, router: RouterRecord): Promise<void> {
  if (router.gw_port_id === null) return;
  const port = await deps.store.get<PortRecord>('ports', router.gw_port_id);
  if (port) await deletePort(deps, port);
}

/**
 * `_update_extra_routes`' checks: every nexthop on a subnet of one of the router's ports (its
 * gateway's included) and none of its addresses, then the `router_route` quota.
 */
async function checkRoutes(deps: NetworkDeps, router: RouterRecord, routes: readonly HostRoute[]): Promise<void> {
  const ports = (await deps.store.scan<PortRecord>('ports')).filter((p) => p.device_id === router.id);
  const subnets = await deps.store.scan<SubnetRecord>('subnets');
  const fixedIps = ports.flatMap((p) => p.fixed_ips);
  const cidrs = fixedIps.flatMap((ip) => subnets.filter((s) => s.id === ip.subnet_id).map((s) => s.cidr));
  checkNexthops(routes, cidrs, fixedIps.map((ip) => ip.ip_address));
  const limit = (await projectQuotas(deps, router.project_id)).router_route ?? DEFAULT_ROUTER_ROUTES;
  if (limit >= 0 && routes.length > limit) throw new OverQuota(['router_route']);
}

/** `{"router": {"routes": [...]}}`, the body of `add_extraroutes` and `remove_extraroutes`. */
function actionRoutes(body: unknown): HostRoute[] {
  const f = parseBody(body, 'router', { routes: { post: true, put: true, required: true, convert: parseRoutes } }, 'create');
  return f.routes as HostRoute[];
}

export function routerRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const visible = async (req: NetworkRequest): Promise<RouterRecord> => {
    const id = req.params.id as string;
    const router = await store.get<RouterRecord>('routers', id);
    if (!router || !isOwner(ctxOf(req), router.project_id)) throw new RouterNotFound(id);
    return router;
  };
  const interfaceInfo = (router: RouterRecord, port: PortRecord) => ({
    network_id: port.network_id,
    tenant_id: router.project_id,
    project_id: router.project_id,
    subnet_id: port.fixed_ips[0]?.subnet_id,
    subnet_ids: port.fixed_ips.map((ip) => ip.subnet_id),
    port_id: port.id,
    id: router.id,
  });
  return [
    {
      method: 'GET',
      path: '/v2.0/routers',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        return listResponse(req, 'routers', (await store.scan<RouterRecord>('routers')).filter((r) => isOwner(ctx, r.project_id)).map(routerView), ['admin_state_up']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/routers',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'router', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, f);
        for (const attr of ['distributed', 'ha'] as const) if (attr in f) throw new PolicyNotAuthorized(`rule:create_router:${attr}`);
        await enforceQuota(deps, projectId, 'router');
        const id = newId();
        const gateway = f.external_gateway_info ? await makeGateway(deps, id, f.external_gateway_info as Record<string, unknown>, ctx) : undefined;
        const now = timestamp(deps.clock);
        const router: RouterRecord = {
          id,
          project_id: projectId,
          name: (f.name as string | undefined) ?? '',
          description: (f.description as string | undefined) ?? '',
          admin_state_up: (f.admin_state_up as boolean | undefined) ?? true,
          status: 'ACTIVE',
          external_gateway_info: gateway?.info ?? null,
          gw_port_id: gateway?.portId ?? null,
          routes: [],
          tags: [],
          created_at: now,
          updated_at: now,
          revision_number: 1,
        };
        await store.create('routers', id, router);
        return showResponse(req, 'router', routerView(router), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/routers/{id}',
      auth: 'token',
      handler: async (req) => showResponse(req, 'router', routerView(await visible(req))),
    },
    {
      method: 'PUT',
      path: '/v2.0/routers/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'router', ATTRIBUTES, 'update');
        const found = await visible(req);
        let gatewayChange: { info: ExternalGatewayInfo | null; portId: string | null } | undefined;
        if ('external_gateway_info' in f) {
          const wanted = f.external_gateway_info as Record<string, unknown> | null;
          if (wanted === null || Object.keys(wanted).length === 0) gatewayChange = { info: null, portId: null };
          else if (wanted.network_id !== found.external_gateway_info?.network_id) gatewayChange = await makeGateway(deps, found.id, wanted, ctx);
        }
        if (f.routes !== undefined) await checkRoutes(deps, found, f.routes as HostRoute[]);
        const { external_gateway_info: _, ...rest } = f;
        const updated = await store.update<RouterRecord>('routers', found.id, (r) => ({
          ...r,
          ...(rest as Partial<RouterRecord>),
          ...(gatewayChange ? { external_gateway_info: gatewayChange.info, gw_port_id: gatewayChange.portId } : {}),
          updated_at: timestamp(deps.clock),
          revision_number: r.revision_number + 1,
        }));
        if (!updated) throw new RouterNotFound(found.id);
        if (gatewayChange) await dropGateway(deps, found);
        return showResponse(req, 'router', routerView(updated));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/routers/{id}',
      auth: 'token',
      handler: async (req) => {
        const router = await visible(req);
        if ((await store.scan<PortRecord>('ports')).some((p) => p.device_id === router.id && p.device_owner === INTERFACE_OWNER)) throw new RouterInUse(router.id, `still has ports`);
        await store.delete('routers', router.id);
        await dropGateway(deps, router);
        return NO_CONTENT;
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/routers/{id}/add_router_interface',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const router = await visible(req);
        const body = (req.body ?? {}) as { subnet_id?: string; port_id?: string };
        if ((body.subnet_id === undefined) === (body.port_id === undefined)) throw new BadRequest('router', 'Either subnet_id or port_id must be specified');
        if (body.port_id !== undefined) {
          const port = await visiblePort(store, ctx, body.port_id);
          if (port.device_id !== '' || port.device_owner !== '') throw new NeutronError('PortInUse', 'Conflict', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
          await deps.portIndex.add({ ...port, device_id: router.id });
          const attached = await store.update<PortRecord>('ports', port.id, (p) => ({ ...p, device_id: router.id, device_owner: INTERFACE_OWNER, status: 'ACTIVE', revision_number: p.revision_number + 1 }));
          return ok(interfaceInfo(router, attached as PortRecord));
        }
        const subnet = await visibleSubnet(store, ctx, body.subnet_id as string);
        if (subnet.gateway_ip === null) throw new BadRequest('router', 'Subnet for router interface must have a gateway IP');
        const ports = await store.scan<PortRecord>('ports');
        if (ports.some((p) => p.device_id === router.id && p.device_owner === INTERFACE_OWNER && p.fixed_ips.some((ip) => ip.subnet_id === subnet.id))) {
          throw new BadRequest('router', `Router already has a port on subnet ${subnet.id}`);
        }
        const network = (await store.get<NetworkRecord>('networks', subnet.network_id)) as NetworkRecord;
        const port = await createServicePort(deps, { network, projectId: router.project_id, deviceOwner: INTERFACE_OWNER, deviceId: router.id, fixedIps: [{ subnet, ipAddress: subnet.gateway_ip }] });
        return ok(interfaceInfo(router, port));
      },
    },
    ...(['add_extraroutes', 'remove_extraroutes'] as const).map(
      (action): NetworkRoute => ({
        method: 'PUT',
        path: `/v2.0/routers/{id}/${action}`,
        auth: 'token',
        handler: async (req) => {
          const asked = actionRoutes(req.body);
          const found = await visible(req);
          // Computed from the routes as they are when written, so two concurrent adds both land.
          for (;;) {
            const current = (await store.get<RouterRecord>('routers', found.id)) ?? found;
            const routes = action === 'add_extraroutes' ? addRoutes(current.routes, asked) : removeRoutes(current.routes, asked);
            await checkRoutes(deps, current, routes);
            let stale = false;
            const updated = await store.update<RouterRecord>('routers', found.id, (r) => {
              if (r.revision_number !== current.revision_number) {
                stale = true;
                return undefined;
              }
              return { ...r, routes, updated_at: timestamp(deps.clock), revision_number: r.revision_number + 1 };
            });
            if (!updated) throw new RouterNotFound(found.id);
            if (!stale) return ok({ router: routerView(updated) });
          }
        },
      }),
    ),
    {
      method: 'PUT',
      path: '/v2.0/routers/{id}/remove_router_interface',
      auth: 'token',
      handler: async (req) => {
        const router = await visible(req);
        const body = (req.body ?? {}) as { subnet_id?: string; port_id?: string };
        if (body.subnet_id === undefined && body.port_id === undefined) throw new BadRequest('router', 'Either subnet_id or port_id must be specified');
        const ports = (await store.scan<PortRecord>('ports')).filter((p) => p.device_id === router.id && p.device_owner === INTERFACE_OWNER);
        const port = body.port_id !== undefined ? ports.find((p) => p.id === body.port_id) : ports.find((p) => p.fixed_ips.some((ip) => ip.subnet_id === body.subnet_id));
        if (!port) throw body.port_id !== undefined ? new RouterInterfaceNotFound(router.id, body.port_id) : new RouterInterfaceNotFoundForSubnet(router.id, body.subnet_id as string);
        // `_confirm_router_interface_not_in_use`: a route's nexthop keeps its subnet's interface.
        for (const ip of port.fixed_ips) {
          const subnet = await store.get<SubnetRecord>('subnets', ip.subnet_id);
          const cidr = subnet ? parseCidr(subnet.cidr) : undefined;
          if (cidr && router.routes.some((r) => { const hop = parseIp(r.nexthop); return hop !== undefined && contains(cidr, hop); })) throw new RouterInterfaceInUseByRoute(router.id, ip.subnet_id);
        }
        await deletePort(deps, port);
        return ok(interfaceInfo(router, port));
      },
    },
  ];
}
