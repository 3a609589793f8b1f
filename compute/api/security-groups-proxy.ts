import { atLeast } from '../api-version.ts';
import { notFound } from '../errors.ts';
import type { NetworkApi, NeutronSecurityGroup, NeutronSecurityGroupRule } from '../network-api.ts';
import { type ComputeRequest, type ComputeRoute, contextOf, ok } from '../request.ts';

/**
 * Nova's `os-security-groups` proxy to Neutron, read side (deprecated at 2.36, gone after it: 404),
 * which openstackclient 6's `server add/remove security group` still uses to find a group: the
 * caller's groups (every project's for an admin asking `all_tenants`), and one by id, in Nova's
 * format (`_convert_to_nova_security_group_format`, then `_format_security_group`): ingress rules
 * only, `ip_range` or the remote `group` by name. Creating and deleting groups through it is not
 * offered (`openstack security group create` goes to Neutron).
 */
export function securityGroupProxyRoutes(d: { readonly networks: NetworkApi }): ComputeRoute[] {
  const token = (req: ComputeRequest): string => req.headers['x-auth-token'] ?? '';
  const proxied = (req: ComputeRequest): void => {
    if (atLeast(req.version, '2.36')) throw notFound('The resource could not be found.');
  };
  /** The rules' remote groups, by id: the listed ones, then any other asked of Neutron (a group gone since is left out, as Nova does). */
  const remoteGroups = async (req: ComputeRequest, groups: readonly NeutronSecurityGroup[]): Promise<Map<string, NeutronSecurityGroup | undefined>> => {
    const known = new Map<string, NeutronSecurityGroup | undefined>(groups.map((g) => [g.id, g]));
    for (const g of groups) {
      for (const r of g.security_group_rules ?? []) {
        if (r.remote_group_id !== null && !known.has(r.remote_group_id)) known.set(r.remote_group_id, await d.networks.getSecurityGroup(token(req), r.remote_group_id));
      }
    }
    return known;
  };
  const view = (g: NeutronSecurityGroup, remote: ReadonlyMap<string, NeutronSecurityGroup | undefined>) => ({
    id: g.id,
    description: g.description ?? '',
    name: g.name,
    tenant_id: g.project_id,
    rules: (g.security_group_rules ?? []).filter((r) => r.direction === 'ingress' && (r.remote_group_id === null || remote.get(r.remote_group_id) !== undefined)).map((r) => ruleView(r, remote)),
  });
  return [
    {
      method: 'GET',
      path: '/v2.1/os-security-groups',
      auth: 'token',
      handler: async (req) => {
        proxied(req);
        const c = contextOf(req);
        const allTenants = c.isAdmin && req.query.has('all_tenants');
        const groups = await d.networks.listSecurityGroups(token(req), allTenants ? {} : { project_id: c.projectId });
        const remote = await remoteGroups(req, groups);
        return ok({ security_groups: groups.map((g) => view(g, remote)) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-security-groups/{id}',
      auth: 'token',
      handler: async (req) => {
        proxied(req);
        const id = req.params['id'] as string;
        const group = await d.networks.getSecurityGroup(token(req), id);
        if (!group) throw notFound(`Security group ${id} does not exist`);
        return ok({ security_group: view(group, await remoteGroups(req, [group])) });
      },
    },
  ];
}

/** One Neutron rule as Nova shows it: a protocol without ports spans them all (TCP/UDP 1-65535, else -1). */
function ruleView(r: NeutronSecurityGroupRule, remote: ReadonlyMap<string, NeutronSecurityGroup | undefined>) {
  const allPorts = r.protocol !== null && r.port_range_min === null && r.port_range_max === null;
  const tcpUdp = r.protocol !== null && ['TCP', 'UDP'].includes(r.protocol.toUpperCase());
  const source = r.remote_group_id === null ? undefined : remote.get(r.remote_group_id);
  return {
    id: r.id,
    parent_group_id: r.security_group_id,
    ip_protocol: r.protocol,
    from_port: allPorts ? (tcpUdp ? 1 : -1) : r.port_range_min,
    to_port: allPorts ? (tcpUdp ? 65535 : -1) : r.port_range_max,
    group: source ? { name: source.name, tenant_id: source.project_id } : {},
    ip_range: source ? {} : { cidr: r.remote_ip_prefix || '0.0.0.0/0' },
  };
}
