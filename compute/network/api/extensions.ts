import { HttpNotFound } from '../errors.ts';
import { ok, type NetworkRoute } from '../request.ts';
import { TAGGABLE_MEMBERS } from './tags.ts';

/** The API extensions this service has, as `GET /v2.0/extensions` lists them (clients check aliases before using a feature). */
const EXTENSIONS: readonly { alias: string; name: string; description: string }[] = [
  { alias: 'address-scope', name: 'Address scope', description: 'Address scopes extension.' },
  { alias: 'allowed-address-pairs', name: 'Allowed Address Pairs', description: 'Provides allowed address pairs' },
  { alias: 'binding', name: 'Port Binding', description: 'Expose port bindings of a virtual port to external application' },
  { alias: 'default-subnetpools', name: 'Default Subnetpools', description: 'Provides ability to mark and use a subnetpool as the default.' },
  { alias: 'external-net', name: 'Neutron external network', description: 'Adds external network attribute to network resource.' },
  { alias: 'extraroute', name: 'Neutron Extra Route', description: 'Extra routes configuration for L3 router' },
  { alias: 'extraroute-atomic', name: 'Atomically add/remove extra routes', description: 'Edit extra routes of a router on server side by atomically adding/removing extra routes' },
  { alias: 'fields', name: 'fields', description: 'Fields selection of the resource attributes' },
  { alias: 'ip-substring-filtering', name: 'IP address substring filtering', description: 'Provides IP address substring filtering when listing ports' },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  { alias: 'net-mtu-writable', name: 'Network MTU (writable)', description: 'Provides a writable MTU attribute for a network resource.' },
  { alias: 'network-ip-availability', name: 'Network IP Availability', description: 'Provides IP availability data for each network and subnet.' },
  { alias: 'pagination', name: 'Pagination support', description: 'Extension that indicates that pagination is enabled.' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  { alias: 'project-id', name: 'project_id field enabled', description: 'Extension that indicates that project_id field is enabled.' },
  { alias: 'qos', name: 'Quality of Service', description: 'The Quality of Service extension.' },
  { alias: 'qos-bw-limit-direction', name: 'Direction for QoS bandwidth limit rule', description: 'Allow to configure QoS bandwidth limit rule with specific direction: ingress or egress' },
  { alias: 'qos-bw-minimum-ingress', name: 'Ingress direction for QoS minimum bandwidth rule', description: 'Allow to configure QoS minumum bandwidth rule with ingress direction.' },
  { alias: 'qos-default', name: 'QoS default policy', description: 'Expose the QoS default policy per project' },
  { alias: 'qos-port-network-policy', name: 'QoS port network policy ID', description: 'Adds a the QoS network ID to the port definition' },
  { alias: 'qos-pps-minimum', name: 'QoS minimum packet rate rule', description: 'Allow to configure QoS minimum packet rate rule.' },
  { alias: 'qos-rule-type-details', name: 'Details of QoS rule types', description: 'Expose details about QoS rule types supported by loaded backend drivers' },
  { alias: 'quotas', name: 'Quota management support', description: 'Expose functions for quotas management per project' },
  { alias: 'quota_details', name: 'Quota details management support', description: 'Expose functions for quotas usage statistics per project' },
  { alias: 'rbac-policies', name: 'RBAC Policies', description: 'Allows creation and modification of policies that control tenant access to resources.' },
  { alias: 'router', name: 'Neutron L3 Router', description: 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.' },
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  { alias: 'sorting', name: 'Sorting support', description: 'Extension that indicates that sorting is enabled.' },
  { alias: 'subnet_allocation', name: 'Subnet Allocation', description: 'Enables allocation of subnets from a subnet pool' },
  { alias: 'subnetpool-prefix-ops', name: 'Subnet Pool Prefix Operations', description: 'Provides support for adjusting the prefix list of subnet pools' },
  { alias: 'standard-attr-description', name: 'standard-attr-description', description: 'Extension to add descriptions to standard attributes' },
  { alias: 'standard-attr-revisions', name: 'Resource revision numbers', description: 'This extension will display the revision number of neutron resources.' },
  { alias: 'standard-attr-tag', name: `Tag support for resources with standard attribute: ${TAGGABLE_MEMBERS.join(', ')}`, description: 'Enables to set tag on resources with standard attribute.' },
  { alias: 'standard-attr-timestamp', name: 'Resource timestamps', description: 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.' },
  { alias: 'stateful-security-group', name: 'Stateful security group', description: 'Indicates if the security group is stateful or not' },
  { alias: 'subnet-service-types', name: 'Subnet service types', description: 'Provides ability to set the subnet service_types field' },
  { alias: 'tag-creation', name: 'Tag creation extension', description: 'Allow to create multiple tags for a resource' },
  { alias: 'tag-ports-during-bulk-creation', name: 'Tag Ports During Bulk Creation', description: 'Allow to tag ports during bulk creation' },
];

const UPDATED = '2026-01-01T00:00:00-00:00';

export function extensionRoutes(): NetworkRoute[] {
  const view = (e: (typeof EXTENSIONS)[number]) => ({ name: e.name, alias: e.alias, description: e.description, updated: UPDATED, links: [] });
  return [
    { method: 'GET', path: '/v2.0/extensions', auth: 'token', handler: async () => ok({ extensions: EXTENSIONS.map(view) }) },
    {
      method: 'GET',
      path: '/v2.0/extensions/{alias}',
      auth: 'token',
      handler: async (req) => {
        const found = EXTENSIONS.find((e) => e.alias === req.params.alias);
        if (!found) throw new HttpNotFound(`Extension with alias ${req.params.alias} does not exist`);
        return ok({ extension: view(found) });
      },
    },
  ];
}

/** Version discovery (`GET /`, no token) and the v2.0 resource index. */
export function versionRoutes(): NetworkRoute[] {
  const collections = ['subnets', 'subnetpools', 'networks', 'ports', 'routers', 'floatingips', 'security-groups', 'security-group-rules', 'address-scopes', 'quotas', 'extensions'];
  return [
    { method: 'GET', path: '/', auth: 'none', handler: async (req) => ok({ versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${req.base}/v2.0/`, rel: 'self' }] }] }) },
    {
      method: 'GET',
      path: '/v2.0',
      auth: 'token',
      handler: async (req) => ok({ resources: collections.map((c) => ({ name: c.replace(/s$/, '').replaceAll('-', '_'), collection: c.replaceAll('-', '_'), links: [{ href: `${req.base}/v2.0/${c}`, rel: 'self' }] })) }),
    },
  ];
}
