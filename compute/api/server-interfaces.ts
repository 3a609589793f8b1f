import { isIP } from 'node:net';
import { atLeast } from '../api-version.ts';
import { badRequest, invalidState, NovaError, notFound } from '../errors.ts';
import { recordAction } from '../instance-actions.ts';
import type { NetworkApi, NeutronPort } from '../network-api.ts';
import { T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, contextOf, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { checkMembers, fieldError, isObject, pyRepr, uuidParam } from '../validation.ts';
import { awaitReply, enqueue, type InterfaceReply } from '../work-queue.ts';
import { checkInstanceState } from './instance-state.ts';
import { checkLock, visibleServer } from './servers.ts';
import { tagParam } from './tags-param.ts';

/** How long an attach waits for the host's answer (Nova's `rpc_response_timeout` for the call). */
export const ATTACH_WAIT_MS = 60_000;

/** Nova's `check_instance_state` for attach and detach: ACTIVE, PAUSED or SHUTOFF, no task. */
const INTERFACES_FROM: readonly VmState[] = ['active', 'paused', 'stopped'];

/** The create body by Nova's schemas (`tag` from 2.49): the network, the port, one fixed IP. */
function attachArgs(req: ComputeRequest): { netId?: string; portId?: string; ip?: string; tag?: string } {
  const body = req.body;
  if (!isObject(body)) throw badRequest(`${pyRepr(body ?? null)} is not of type 'object'`);
  const extra = Object.keys(body).filter((k) => k !== 'interfaceAttachment');
  if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  const a = body['interfaceAttachment'];
  if (a === undefined) return {};
  if (!isObject(a)) throw fieldError('interfaceAttachment', a, `${pyRepr(a)} is not of type 'object'`);
  checkMembers('interfaceAttachment', a, ['net_id', 'port_id', 'fixed_ips', ...(atLeast(req.version, '2.49') ? ['tag'] : [])], []);
  const netId = a['net_id'] === undefined ? undefined : uuidParam('net_id', a['net_id']);
  const portId = a['port_id'] === undefined ? undefined : uuidParam('port_id', a['port_id']);
  let ip: string | undefined;
  const ips = a['fixed_ips'];
  if (ips !== undefined) {
    if (!Array.isArray(ips)) throw fieldError('fixed_ips', ips, `${pyRepr(ips)} is not of type 'array'`);
    if (ips.length !== 1) throw fieldError('fixed_ips', ips, ips.length === 0 ? '[] should be non-empty' : `${pyRepr(ips)} is too long`);
    const item = ips[0];
    if (!isObject(item)) throw fieldError('0', item, `${pyRepr(item)} is not of type 'object'`);
    checkMembers('0', item, ['ip_address'], ['ip_address']);
    const address = item['ip_address'];
    if (typeof address !== 'string' || isIP(address) === 0) throw fieldError('ip_address', address, `${pyRepr(address)} is not valid under any of the given schemas`);
    ip = address;
  }
  const tag = a['tag'] === undefined ? undefined : tagParam('tag', a['tag']);
  return { ...(netId !== undefined ? { netId } : {}), ...(portId !== undefined ? { portId } : {}), ...(ip !== undefined ? { ip } : {}), ...(tag !== undefined ? { tag } : {}) };
}

/**
 * os-interface (`openstack server add port`, `add network`, `add fixed ip`, `remove port`,
 * `remove network`, `port list --server`), as Nova's: the list and show read the server's
 * ports in Neutron (`device_id`) with the user's token (`tag` from 2.70); create checks what
 * it can here (the network exists and has a subnet, the port exists and is free; without
 * either, the one network the project can use), records `attach_interface` and waits for the
 * host to bind and plug it (Nova's RPC call), then answers 200 with the attachment; delete
 * records `detach_interface` and leaves the unplug to the host (202, as Nova's cast).
 */
export function serverInterfaceRoutes(d: { readonly store: ComputeStore; readonly networks: NetworkApi }): ComputeRoute[] {
  const { store, networks } = d;
  const token = (req: ComputeRequest): string => req.headers['x-auth-token'] ?? '';
  const view = (req: ComputeRequest, s: ServerRecord, port: NeutronPort) => ({
    net_id: port.network_id,
    port_id: port.id,
    mac_addr: port.mac_address,
    port_state: port['status'] ?? null,
    fixed_ips: port.fixed_ips,
    ...(atLeast(req.version, '2.70') ? { tag: s.ports.find((p) => p.portId === port.id)?.tag ?? null } : {}),
  });

  return [
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/os-interface',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        return ok({ interfaceAttachments: (await networks.listPorts(token(req), s.uuid)).map((p) => view(req, s, p)) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/os-interface/{port_id}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const portId = req.params['port_id'] as string;
        const port = await networks.getPort(token(req), portId);
        if (!port) throw notFound(`Port ${portId} could not be found.`);
        if (port.device_id !== s.uuid) throw notFound(`Instance ${s.uuid} does not have a port with id ${portId}`);
        return ok({ interfaceAttachment: view(req, s, port) });
      },
    },
    {
      method: 'POST',
      path: '/v2.1/servers/{server_id}/os-interface',
      auth: 'token',
      handler: async (req) => {
        const args = attachArgs(req);
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        if (args.netId !== undefined && args.portId !== undefined) throw badRequest('Must not input both network_id and port_id');
        if (args.ip !== undefined && args.netId === undefined) throw badRequest('Must input network_id when request IP address');
        const c = contextOf(req);
        checkLock(c, s);
        checkInstanceState(s, 'attach_interface', INTERFACES_FROM);
        let netId = args.netId;
        if (args.portId !== undefined) {
          const port = await networks.getPort(token(req), args.portId);
          if (!port) throw notFound(`Port id ${args.portId} could not be found.`);
          if (port.device_id !== '') throw new NovaError(409, `Port ${args.portId} is still in use.`);
        } else if (netId !== undefined) {
          const network = await networks.getNetwork(token(req), netId);
          if (!network) throw notFound(`Network ${netId} could not be found.`);
          if ((network.subnets ?? []).length === 0) throw badRequest(`Network ${netId} requires a subnet in order to boot instances on.`);
        } else {
          // Nova's allocate_for_instance without a network: the one the project can use, or none.
          const usable = (await networks.listNetworks(token(req))).filter((n) => n['router:external'] !== true);
          if (usable.length === 0) throw badRequest(`No specific network was requested and none are available for project '${s.project_id}'.`);
          if (usable.length > 1) throw badRequest('More than one possible network found. Specify network ID(s) to select which one(s) to connect to.');
          netId = (usable[0] as { id: string }).id;
        }
        if (s.host === null) throw invalidState(s.uuid, 'attach_interface', 'vm_state', s.vm_state);
        await recordAction(store, c, s.uuid, 'attach_interface', req.requestId);
        await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'attach-interface', token: token(req), requestId: req.requestId, ...(args.portId !== undefined ? { portId: args.portId } : { networkId: netId as string }), ...(args.ip !== undefined ? { fixedIp: args.ip } : {}), ...(args.tag !== undefined ? { tag: args.tag } : {}) });
        const reply = await awaitReply<InterfaceReply>(store, T.interfaceReplies, req.requestId, ATTACH_WAIT_MS);
        if (!reply) throw new NovaError(500, `Failed to attach network adapter device to ${s.uuid}`);
        if (reply.error) throw new NovaError(reply.error.code, reply.error.message);
        const port = await networks.getPort(token(req), reply.portId as string);
        const after = (await store.get<ServerRecord>(T.servers, s.uuid)) ?? s;
        if (!port) throw notFound(`Port ${reply.portId} could not be found.`);
        return ok({ interfaceAttachment: view(req, after, port) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/servers/{server_id}/os-interface/{port_id}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const portId = req.params['port_id'] as string;
        const c = contextOf(req);
        checkLock(c, s);
        checkInstanceState(s, 'detach_interface', INTERFACES_FROM);
        if (!s.ports.some((p) => p.portId === portId)) throw notFound(`Port ${portId} is not attached`);
        if (s.host === null) throw invalidState(s.uuid, 'detach_interface', 'vm_state', s.vm_state);
        await recordAction(store, c, s.uuid, 'detach_interface', req.requestId);
        await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'detach-interface', token: token(req), requestId: req.requestId, portId });
        return ACCEPTED;
      },
    },
  ];
}
