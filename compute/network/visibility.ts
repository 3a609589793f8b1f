import type { NetworkContext } from './context.ts';
import { NetworkNotFound, PortNotFound, SubnetNotFound } from './errors.ts';
import { isOwner } from './policy.ts';
import type { NetworkRecord, PortRecord, SubnetRecord } from './records.ts';
import type { NetworkStore } from './store.ts';

/** `get_network`: admin, owner, shared or external networks, and those an RBAC entry opens to the caller's project. */
export function canSeeNetwork(ctx: NetworkContext, net: NetworkRecord): boolean {
  return isOwner(ctx, net.project_id) || net.shared || net['router:external'] || (net.rbac ?? []).some((e) => e.target_tenant === ctx.projectId);
}

/** Neutron's `_is_network_shared`: shared with everyone, or by an RBAC entry with the caller's project. */
export function sharedWithCaller(ctx: NetworkContext, net: NetworkRecord): boolean {
  return net.shared || (net.rbac ?? []).some((e) => e.action === 'access_as_shared' && e.target_tenant === ctx.projectId);
}

/** External to everyone, or to the caller's project by an `access_as_external` entry. */
export function externalForCaller(ctx: NetworkContext, net: NetworkRecord): boolean {
  return net['router:external'] || (net.rbac ?? []).some((e) => e.action === 'access_as_external' && e.target_tenant === ctx.projectId);
}

/** A network the caller may see. @throws {NetworkNotFound} */
export async function visibleNetwork(store: NetworkStore, ctx: NetworkContext, id: string): Promise<NetworkRecord> {
  const net = await store.get<NetworkRecord>('networks', id);
  if (!net || !canSeeNetwork(ctx, net)) throw new NetworkNotFound(id);
  return net;
}

/** `get_subnet`: admin, owner, or a subnet of a network shared with or external to the caller's project (RBAC entries included). */
export function canSeeSubnet(ctx: NetworkContext, subnet: SubnetRecord, network: NetworkRecord | undefined): boolean {
  return isOwner(ctx, subnet.project_id) || (network !== undefined && (sharedWithCaller(ctx, network) || externalForCaller(ctx, network) || isOwner(ctx, network.project_id)));
}

export async function visibleSubnet(store: NetworkStore, ctx: NetworkContext, id: string): Promise<SubnetRecord> {
  const subnet = await store.get<SubnetRecord>('subnets', id);
  if (!subnet || !canSeeSubnet(ctx, subnet, await store.get<NetworkRecord>('networks', subnet.network_id))) throw new SubnetNotFound(id);
  return subnet;
}

/** `get_port`: admin, the port's owner or its network's owner. */
export function canSeePort(ctx: NetworkContext, port: PortRecord, network: NetworkRecord | undefined): boolean {
  return isOwner(ctx, port.project_id) || (network !== undefined && isOwner(ctx, network.project_id));
}

export async function visiblePort(store: NetworkStore, ctx: NetworkContext, id: string): Promise<PortRecord> {
  const port = await store.get<PortRecord>('ports', id);
  if (!port || !canSeePort(ctx, port, await store.get<NetworkRecord>('networks', port.network_id))) throw new PortNotFound(id);
  return port;
}
