import type { NetworkDeps } from '../deps.ts';
import { NetworkNotFound } from '../errors.ts';
import { parseIp } from '../ip-address.ts';
import { requireAdmin } from '../policy.ts';
import type { NetworkRecord, SubnetRecord } from '../records.ts';
import { ctxOf, type NetworkRequest, type NetworkRoute } from '../request.ts';
import { listResponse, showResponse } from './collection.ts';

/**
 * A count as JSON: a number, or the exact digits where a double would round them (an IPv6
 * pool's size), as Neutron's Python integers print.
 */
function count(n: bigint): unknown {
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(n);
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(n.toString());
}

/** The addresses a subnet's allocation pools hold (Neutron's `total_ips`). */
function poolSize(s: SubnetRecord): bigint {
  let total = 0n;
  for (const pool of s.allocation_pools) {
    const start = parseIp(pool.start);
    const end = parseIp(pool.end);
    if (start && end && end.value >= start.value) total += end.value - start.value + 1n;
  }
  return total;
}

/**
 * network-ip-availabilities (`openstack ip availability list/show`), admins only as Neutron's
 * default policy: per network and per subnet, the addresses its allocation pools hold and those
 * taken (`used_ips`: every address claimed on the subnet, ports', router interfaces' and
 * floating IPs' alike, as Neutron counts IP allocations). Filters `network_id`, `network_name`,
 * `project_id`/`tenant_id` and `ip_version` (networks with no subnet of that version left out).
 */
export function ipAvailabilityRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const view = async (net: NetworkRecord, subnets: readonly SubnetRecord[], ipVersion: number | undefined) => {
    const mine = subnets.filter((s) => s.network_id === net.id && (ipVersion === undefined || s.ip_version === ipVersion));
    const perSubnet = await Promise.all(mine.map(async (s) => ({ s, total: poolSize(s), used: BigInt((await store.keys('ip-allocations', `${s.id}/`)).length) })));
    return {
      network_id: net.id,
      network_name: net.name,
      tenant_id: net.project_id,
      project_id: net.project_id,
      total_ips: count(perSubnet.reduce((n, x) => n + x.total, 0n)),
      used_ips: count(perSubnet.reduce((n, x) => n + x.used, 0n)),
      subnet_ip_availability: perSubnet.map(({ s, total, used }) => ({ subnet_id: s.id, subnet_name: s.name, cidr: s.cidr, ip_version: s.ip_version, total_ips: count(total), used_ips: count(used) })),
    };
  };
  const version = (req: NetworkRequest): number | undefined => {
    const v = req.query.get('ip_version');
    return v === null ? undefined : Number(v);
  };
  return [
    {
      method: 'GET',
      path: '/v2.0/network-ip-availabilities',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(ctxOf(req), 'get_network_ip_availability');
        const ipVersion = version(req);
        const [nets, subnets] = await Promise.all([store.scan<NetworkRecord>('networks'), store.scan<SubnetRecord>('subnets')]);
        const shown = nets.filter((n) => ipVersion === undefined || subnets.some((s) => s.network_id === n.id && s.ip_version === ipVersion));
        const items = await Promise.all(shown.map((n) => view(n, subnets, ipVersion)));
        // ip_version picks subnets, not a network attribute: the listing's own filters must not see it.
        const query = new URLSearchParams(req.query);
        query.delete('ip_version');
        return listResponse({ ...req, query }, 'network_ip_availabilities', items);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/network-ip-availabilities/{id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(ctxOf(req), 'get_network_ip_availability');
        const id = req.params['id'] as string;
        const net = await store.get<NetworkRecord>('networks', id);
        if (!net) throw new NetworkNotFound(id);
        return showResponse(req, 'network_ip_availability', await view(net, await store.scan<SubnetRecord>('subnets'), undefined));
      },
    },
  ];
}
