import type { NetworkDeps } from './deps.ts';
import { IpAddressAlreadyAllocated, IpAddressGenerationFailure, MacAddressGenerationFailure, MacAddressInUse, NetworkIpAddressGenerationFailure, NeutronError } from './errors.ts';
import { allocateAddress } from './ipam.ts';
import { isAutoAddressSubnet } from './subnet.ts';
import { generateMac, MAC_GENERATION_RETRIES } from './mac-address.ts';
import type { FixedIp, SubnetRecord } from './records.ts';

/**
 * Addresses and MACs, never given twice (docs/decisions.md, "Compute and network foundations"):
 * each is a record of its own, `ip-allocations/<subnet>/<address>` and
 * `mac-allocations/<network>/<mac>`, created only if absent. The draw is Neutron's
 * (`allocateAddress`) over the subnet's listed claims; a draw another writer took first is added
 * to the taken set and drawn again, a fixed IP someone holds is 409 IpAddressAlreadyAllocated.
 */
export interface IpRequest {
  readonly subnet: SubnetRecord;
  readonly ipAddress?: string;
}

interface AllocationClaim {
  readonly port_id: string;
  readonly network_id: string;
}

function toIpamSubnet(s: SubnetRecord) {
  return { id: s.id, cidr: s.cidr, ipVersion: s.ip_version, allocationPools: s.allocation_pools, ipv6AddressMode: s.ipv6_address_mode, ipv6RaMode: s.ipv6_ra_mode };
}

/**
 * One address of `subnet` for `portId`, claimed. The draw is over this process's view of the
 * subnet's claims (`ClaimedAddresses`), listed again before giving up and after losing a race.
 */
export async function claimAddress(deps: NetworkDeps, request: IpRequest, portId: string, mac: string, deviceOwner: string): Promise<string> {
  const { subnet } = request;
  const view = deps.claimed;
  const lost = new Set<string>();
  let relisted = false;
  for (;;) {
    const taken = await view.taken(subnet.id, !relisted && lost.size > 0);
    if (lost.size > 0) relisted = true;
    let ip: string;
    try {
      ip = allocateAddress(toIpamSubnet(subnet), lost.size > 0 ? [...taken, ...lost] : taken, { ...(request.ipAddress !== undefined ? { ipAddress: request.ipAddress } : {}), mac, deviceOwner }, deps.random);
    } catch (err) {
      // The view may hold addresses freed by another process: the cluster says no, not the view.
      if (!relisted && (err instanceof IpAddressGenerationFailure || err instanceof IpAddressAlreadyAllocated)) {
        await view.taken(subnet.id, true);
        relisted = true;
        continue;
      }
      throw err;
    }
    view.drawn(subnet.id, ip);
    const claim: AllocationClaim = { port_id: portId, network_id: subnet.network_id };
    try {
      if (await deps.store.claim('ip-allocations', `${subnet.id}/${ip}`, claim)) return ip;
    } finally {
      view.settled(subnet.id, ip);
    }
    // Someone else took it between our view and our claim.
    if (request.ipAddress !== undefined || isAutoAddressSubnet(toIpamSubnet(subnet))) throw new IpAddressAlreadyAllocated(ip, subnet.id);
    lost.add(ip);
  }
}

/**
 * The subnets a port of `deviceOwner` takes addresses from (ipam_backend_mixin's
 * `_ipam_get_subnets`, `subnet-service-types`): those without service types, those naming the
 * owner, and any with DHCP for the DHCP port; the service subnets first.
 * @throws {NeutronError} 409 IpAddressGenerationFailureNoMatchingSubnet when the network has subnets but none serves the owner.
 */
function servingSubnets(networkId: string, subnets: readonly SubnetRecord[], deviceOwner: string): SubnetRecord[] {
  const typed = (s: SubnetRecord) => (s.service_types ?? []).length > 0;
  const serving = subnets.filter((s) => !typed(s) || (s.service_types ?? []).includes(deviceOwner) || (s.enable_dhcp && deviceOwner === 'network:dhcp'));
  if (serving.length === 0 && subnets.length > 0) throw new NeutronError('IpAddressGenerationFailureNoMatchingSubnet', 'Conflict', `No valid service subnet for the given device owner, network ${networkId}, service type ${deviceOwner}.`);
  return [...serving.filter(typed), ...serving.filter((s) => !typed(s))];
}

/**
 * The port's addresses: the fixed IPs asked for, or (none asked) Neutron's choice: one address
 * from the first IPv4 subnet with room, one from the first stateful IPv6 subnet with room, and
 * one on every SLAAC/stateless subnet. On any failure the addresses already claimed are let go.
 */
export async function claimAddresses(deps: NetworkDeps, networkId: string, subnets: readonly SubnetRecord[], asked: readonly IpRequest[] | undefined, portId: string, mac: string, deviceOwner: string): Promise<FixedIp[]> {
  const got: FixedIp[] = [];
  try {
    if (asked !== undefined) {
      for (const request of asked) got.push({ subnet_id: request.subnet.id, ip_address: await claimAddress(deps, request, portId, mac, deviceOwner) });
      return got;
    }
    const serving = servingSubnets(networkId, subnets, deviceOwner);
    const auto = serving.filter((s) => isAutoAddressSubnet(toIpamSubnet(s)));
    for (const version of [4, 6] as const) {
      const candidates = serving.filter((s) => s.ip_version === version && !auto.includes(s));
      if (candidates.length === 0) continue;
      let done = false;
      for (const subnet of candidates) {
        try {
          got.push({ subnet_id: subnet.id, ip_address: await claimAddress(deps, { subnet }, portId, mac, deviceOwner) });
          done = true;
          break;
        } catch (err) {
          if (!(err instanceof IpAddressGenerationFailure)) throw err;
        }
      }
      if (!done) throw new NetworkIpAddressGenerationFailure(networkId);
    }
    for (const subnet of auto) got.push({ subnet_id: subnet.id, ip_address: await claimAddress(deps, { subnet }, portId, mac, deviceOwner) });
    return got;
  } catch (err) {
    await releaseAddresses(deps, got);
    throw err;
  }
}

/**
 * A new port's MAC and addresses. The MAC is claimed first only when a subnet derives addresses
 * from it (SLAAC, stateless DHCPv6); otherwise both claims go at once. On any failure what was
 * claimed is let go.
 */
export async function claimPortAddresses(deps: NetworkDeps, networkId: string, subnets: readonly SubnetRecord[], asked: readonly IpRequest[] | undefined, portId: string, askedMac: string | undefined, deviceOwner: string): Promise<{ mac: string; fixedIps: FixedIp[] }> {
  const macFirst = subnets.some((s) => isAutoAddressSubnet(toIpamSubnet(s)));
  if (macFirst) {
    const mac = await claimMac(deps, networkId, askedMac, portId);
    try {
      return { mac, fixedIps: await claimAddresses(deps, networkId, subnets, asked, portId, mac, deviceOwner) };
    } catch (err) {
      await releaseMac(deps, networkId, mac);
      throw err;
    }
  }
  // No address here depends on the MAC (allocateAddress reads it on auto-address subnets only).
  const [mac, fixedIps] = await Promise.allSettled([claimMac(deps, networkId, askedMac, portId), claimAddresses(deps, networkId, subnets, asked, portId, '', deviceOwner)]);
  if (mac.status === 'fulfilled' && fixedIps.status === 'fulfilled') return { mac: mac.value, fixedIps: fixedIps.value };
  if (mac.status === 'fulfilled') await releaseMac(deps, networkId, mac.value);
  if (fixedIps.status === 'fulfilled') await releaseAddresses(deps, fixedIps.value);
  throw mac.status === 'rejected' ? mac.reason : (fixedIps as PromiseRejectedResult).reason;
}

export async function releaseAddresses(deps: NetworkDeps, ips: readonly FixedIp[]): Promise<void> {
  await Promise.all(
    ips.map(async (ip) => {
      await deps.store.delete('ip-allocations', `${ip.subnet_id}/${ip.ip_address}`);
      deps.claimed.released(ip.subnet_id, ip.ip_address);
    }),
  );
}

/** The port's MAC: the one asked for (409 MacAddressInUse when taken) or a new one of `base_mac`. */
export async function claimMac(deps: NetworkDeps, networkId: string, asked: string | undefined, portId: string): Promise<string> {
  if (asked !== undefined) {
    if (!(await deps.store.claim('mac-allocations', `${networkId}/${asked}`, { port_id: portId }))) throw new MacAddressInUse(networkId, asked);
    return asked;
  }
  const tried = new Set<string>();
  for (let i = 0; i < MAC_GENERATION_RETRIES; i++) {
    const mac = generateMac(networkId, tried, deps.random, deps.settings.baseMac);
    if (await deps.store.claim('mac-allocations', `${networkId}/${mac}`, { port_id: portId })) return mac;
    tried.add(mac);
  }
  throw new MacAddressGenerationFailure(networkId);
}

export async function releaseMac(deps: NetworkDeps, networkId: string, mac: string): Promise<void> {
  await deps.store.delete('mac-allocations', `${networkId}/${mac}`);
}
