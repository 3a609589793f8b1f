import { pyText } from './attributes.ts';
import { contains, parseCidr } from './cidr.ts';
import { InvalidAttribute, NeutronError } from './errors.ts';
import { formatIp, parseIp } from './ip-address.ts';
import type { HostRoute } from './subnet.ts';

/**
 * A router's extra routes (neutron/db/extraroute_db.py, the `extraroute` and `extraroute-atomic`
 * extensions): `routes` is a list of `{destination, nexthop}` checked as neutron-lib's
 * `type:hostroutes`, each nexthop an address on a subnet the router has an interface on (and not
 * the router's own), at most the `router_route` quota of them.
 */

/** Neutron's `quota_router_route` default: routes per router. */
export const DEFAULT_ROUTER_ROUTES = 30;

/** "Invalid format for routes: %(routes)s, %(reason)s" (an InvalidInput, 400). */
export class InvalidRoutes extends NeutronError {
  constructor(routes: readonly HostRoute[], reason: string) {
    super('InvalidRoutes', 'BadRequest', `Invalid format for routes: ${pyText(routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })))}, ${reason}`);
  }
}

/** 409 on removing the interface a route's nexthop goes through. */
export class RouterInterfaceInUseByRoute extends NeutronError {
  constructor(routerId: string, subnetId: string) {
    super('RouterInterfaceInUseByRoute', 'Conflict', `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more routes.`);
  }
}

/** `validate_route_cidr`: a CIDR written with its host bits clear, not loopback. */
function routeCidrProblem(data: unknown): string | undefined {
  const invalid = `'${pyText(data)}' is not a valid CIDR`;
  if (typeof data !== 'string' || /\s/.test(data)) return invalid;
  const slash = data.indexOf('/');
  const ip = slash < 0 ? undefined : parseIp(data.slice(0, slash));
  let cidr: ReturnType<typeof parseCidr>;
  try {
    cidr = parseCidr(data);
  } catch {
    return invalid;
  }
  if (ip === undefined || ip.value !== cidr.first) return invalid;
  const loopback = cidr.version === 4 ? cidr.first >> 24n === 127n : cidr.prefixlen === 128 && cidr.first === 1n;
  return loopback ? `'${data}' is not a routable CIDR` : undefined;
}

/** neutron-lib's `validate_hostroutes`: the reason `data` is refused, or undefined. */
export function hostRoutesProblem(data: unknown): string | undefined {
  if (!Array.isArray(data)) return `Invalid data format for hostroute: '${pyText(data)}'`;
  const seen: string[] = [];
  for (const route of data) {
    if (typeof route !== 'object' || route === null || Array.isArray(route)) return `Invalid input. '${pyText(route)}' must be a dictionary with keys: ['destination', 'nexthop']`;
    const keys = Object.keys(route).sort();
    if (keys.join() !== 'destination,nexthop') {
      const set = (k: readonly string[]) => (k.length === 0 ? 'set()' : `{${k.map((x) => `'${x}'`).join(', ')}}`);
      return `Validation of dictionary's keys failed. Expected keys: ${set(['destination', 'nexthop'])} Provided keys: ${set(keys)}`;
    }
    const { destination, nexthop } = route as { destination: unknown; nexthop: unknown };
    const cidrProblem = routeCidrProblem(destination);
    if (cidrProblem !== undefined) return cidrProblem;
    if (typeof nexthop !== 'string' || parseIp(nexthop) === undefined) return `'${pyText(nexthop)}' is not a valid IP address`;
    const key = `${destination} ${nexthop}`;
    if (seen.includes(key)) return `Duplicate hostroute '${pyText(route)}'`;
    seen.push(key);
  }
  return undefined;
}

/** The `routes` attribute as a body gives it: `convert_none_to_empty_list`, then `type:hostroutes`. */
export function parseRoutes(value: unknown): HostRoute[] {
  const routes = value === null ? [] : value;
  const problem = hostRoutesProblem(routes);
  if (problem !== undefined) throw new InvalidAttribute('routes', problem);
  return (routes as HostRoute[]).map((r) => ({ destination: r.destination, nexthop: r.nexthop }));
}

/**
 * `_validate_routes`: each nexthop must be on one of the router's interface subnets (`cidrs`)
 * and not one of its own addresses (`ips`).
 * @throws {InvalidRoutes}
 */
export function checkNexthops(routes: readonly HostRoute[], cidrs: readonly string[], ips: readonly string[]): void {
  const networks = cidrs.map((c) => parseCidr(c));
  for (const route of routes) {
    const hop = parseIp(route.nexthop);
    if (hop === undefined || !networks.some((n) => contains(n, hop))) throw new InvalidRoutes(routes, 'the nexthop is not connected with router');
    if (ips.some((ip) => parseIp(ip)?.value === hop.value && parseIp(ip)?.version === hop.version)) throw new InvalidRoutes(routes, 'the nexthop is used by router');
  }
}

/** `_add_extra_routes`: the union, exact duplicates merged (same destination with other nexthops kept). */
export function addRoutes(old: readonly HostRoute[], add: readonly HostRoute[]): HostRoute[] {
  const out: HostRoute[] = [];
  for (const r of [...old, ...add]) if (!out.some((o) => sameRoute(o, r))) out.push(r);
  return out;
}

/** `_remove_extra_routes`: those of `old` not in `remove` (removing one that is absent is no error). */
export function removeRoutes(old: readonly HostRoute[], remove: readonly HostRoute[]): HostRoute[] {
  return old.filter((o) => !remove.some((r) => sameRoute(o, r)));
}

/** Neutron stores routes as netaddr values, so `10.0.0.1` and `10.000.0.1` are one nexthop. */
function sameRoute(a: HostRoute, b: HostRoute): boolean {
  return canonicalCidr(a.destination) === canonicalCidr(b.destination) && canonicalIp(a.nexthop) === canonicalIp(b.nexthop);
}

function canonicalIp(text: string): string {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : text;
}

function canonicalCidr(text: string): string {
  const slash = text.indexOf('/');
  return slash < 0 ? text : `${canonicalIp(text.slice(0, slash))}/${text.slice(slash + 1)}`;
}
