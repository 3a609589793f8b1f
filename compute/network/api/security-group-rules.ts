import { type AttributeMap, parseBody, pyText, stringOf, toInt, uuidOrNull } from '../attributes.ts';
import { formatCidr, parseCidr } from '../cidr.ts';
import type { NetworkDeps } from '../deps.ts';
import { timestamp } from '../deps.ts';
import { InvalidInput, SecurityGroupNotFound, SecurityGroupRuleExists, SecurityGroupRuleInvalid, SecurityGroupRuleNotFound } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject } from '../policy.ts';
import { enforceQuota } from '../quota-check.ts';
import type { PortRecord, SecurityGroupRecord, SecurityGroupRuleRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import { listResponse, newId, showResponse } from './collection.ts';

/** neutron-lib's IP_PROTOCOL_MAP names and numbers. */
const PROTOCOLS: Readonly<Record<string, number>> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4, 'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58, icmpv6: 58,
  'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17, udplite: 136, vrrp: 112,
};
/** `sg_supported_protocols` as Python prints the tuple in the error. */
const SUPPORTED = `(None, 'any', ${Object.keys(PROTOCOLS).map((p) => `'${p}'`).join(', ')})`;
/** SG_PORT_PROTO_NAMES, and their numbers. */
const PORT_PROTOCOLS = ['dccp', 'sctp', 'tcp', 'udp', 'udplite'];
const PORT_PROTOCOL_NUMBERS = PORT_PROTOCOLS.map((p) => PROTOCOLS[p] as number);

/** `convert_protocol`: null for any, a known name lower-cased, or a number 0-255 as text. */
function convertProtocol(value: unknown): string | null {
  if (value === null || value === 'any') return null;
  const invalid = () => new SecurityGroupRuleInvalid('SecurityGroupRuleInvalidProtocol', `Security group rule protocol ${pyText(value)} not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`);
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value))) {
    const n = Number(value);
    if (Number.isInteger(n) && n >= 0 && n <= 255) return String(value);
    throw invalid();
  }
  if (typeof value === 'string' && value.toLowerCase() in PROTOCOLS) return value.toLowerCase();
  throw invalid();
}

function convertEthertype(value: unknown): 'IPv4' | 'IPv6' {
  if (typeof value === 'string') {
    if (value.toLowerCase() === 'ipv4') return 'IPv4';
    if (value.toLowerCase() === 'ipv6') return 'IPv6';
  }
  throw new SecurityGroupRuleInvalid('SecurityGroupRuleInvalidEtherType', `Security group rule for ethertype '${pyText(value)}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
}

function portValue(v: unknown): unknown {
  return v === null ? null : toInt(v);
}

const ATTRIBUTES: AttributeMap = {
  security_group_id: { post: true, put: false, required: true, validate: uuidOrNull(false) },
  direction: { post: true, put: false, required: true, validate: (v) => (v === 'ingress' || v === 'egress' ? undefined : `${pyText(v)} is not in ['ingress', 'egress']`) },
  ethertype: { post: true, put: false, convert: convertEthertype },
  protocol: { post: true, put: false, convert: convertProtocol },
  port_range_min: { post: true, put: false, convert: portValue, validate: (v) => (v === null || ((v as number) >= 0 && (v as number) <= 65535) ? undefined : `Invalid port '${v}'`) },
  port_range_max: { post: true, put: false, convert: portValue, validate: (v) => (v === null || ((v as number) >= 0 && (v as number) <= 65535) ? undefined : `Invalid port '${v}'`) },
  remote_ip_prefix: { post: true, put: false },
  remote_group_id: { post: true, put: false, validate: uuidOrNull(true) },
  remote_address_group_id: { post: true, put: false, validate: (v) => (v === null ? undefined : 'address groups are not supported') },
  description: { post: true, put: true, validate: stringOf(255) },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
};

export function ruleView(r: SecurityGroupRuleRecord): ApiResource {
  return {
    id: r.id,
    project_id: r.project_id,
    tenant_id: r.project_id,
    security_group_id: r.security_group_id,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    remote_group_id: r.remote_group_id,
    remote_address_group_id: r.remote_address_group_id,
    normalized_cidr: r.remote_ip_prefix,
    description: r.description,
    tags: r.tags,
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
    belongs_to_default_sg: false,
  };
}

/** `_validate_port_range` (securitygroups_db.py), in its order. */
function validatePortRange(protocol: string | null, min: number | null, max: number | null): void {
  if (min === null && max === null) return;
  if (protocol === null) throw new SecurityGroupRuleInvalid('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  const number = /^\d+$/.test(protocol) ? Number(protocol) : (PROTOCOLS[protocol] as number);
  if (PORT_PROTOCOL_NUMBERS.includes(number)) {
    if (min === 0 || max === 0) throw new SecurityGroupRuleInvalid('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
    if (!(min !== null && max !== null && min <= max)) throw new SecurityGroupRuleInvalid('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
  } else if (number === 1 || number === 58) {
    for (const [value, attr, field] of [[min, 'port_range_min', 'type'], [max, 'port_range_max', 'code']] as const) {
      if (value !== null && !(value >= 0 && value <= 255)) throw new SecurityGroupRuleInvalid('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`);
    }
    if (min === null && max !== null) throw new SecurityGroupRuleInvalid('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
  } else {
    throw new SecurityGroupRuleInvalid('SecurityGroupInvalidProtocolForPort', `Ports cannot be specified for protocol ${number}. Ports are only supported for ${PORT_PROTOCOLS.map((p) => p.toUpperCase()).join(', ')}.`);
  }
}

export function securityGroupRuleRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  return [
    {
      method: 'GET',
      path: '/v2.0/security-group-rules',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const rules = await store.scan<SecurityGroupRuleRecord>('security-group-rules');
        return listResponse(req, 'security_group_rules', rules.filter((r) => isOwner(ctx, r.project_id)).map(ruleView), ['direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'security_group_id', 'remote_ip_prefix', 'remote_group_id']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/security-group-rules',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const f = parseBody(req.body, 'security_group_rule', ATTRIBUTES, 'create');
        const groupId = f.security_group_id as string;
        const group = await store.get<SecurityGroupRecord>('security-groups', groupId);
        if (!group || !isOwner(ctx, group.project_id)) throw new SecurityGroupNotFound(groupId);
        const projectId = f.project_id === undefined && f.tenant_id === undefined ? group.project_id : owningProject(ctx, f);
        const ethertype = (f.ethertype as 'IPv4' | 'IPv6' | undefined) ?? 'IPv4';
        const protocol = (f.protocol as string | null | undefined) ?? null;
        let min = (f.port_range_min as number | null | undefined) ?? null;
        let max = (f.port_range_max as number | null | undefined) ?? null;
        const remoteGroup = (f.remote_group_id as string | null | undefined) ?? null;
        let prefix = (f.remote_ip_prefix as string | null | undefined) ?? null;
        if (remoteGroup !== null && prefix !== null) throw new SecurityGroupRuleInvalid('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
        validatePortRange(protocol, min, max);
        // `_make_canonical_port_range`: a full TCP/UDP range is no range.
        if (protocol !== null && PORT_PROTOCOLS.includes(protocol) && min === 1 && max === 65535) min = max = null;
        if (prefix !== null) {
          let cidr: ReturnType<typeof parseCidr>;
          try {
            cidr = parseCidr(String(prefix));
          } catch {
            throw new InvalidInput(`'${pyText(prefix)}' is not a valid IP subnet`);
          }
          if ((cidr.version === 4) !== (ethertype === 'IPv4')) throw new SecurityGroupRuleInvalid('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${prefix}`);
          prefix = formatCidr(cidr);
        }
        if (remoteGroup !== null) {
          const remote = await store.get<SecurityGroupRecord>('security-groups', remoteGroup);
          if (!remote || !isOwner(ctx, remote.project_id)) throw new SecurityGroupNotFound(remoteGroup);
        }
        const existing = (await store.scan<SecurityGroupRuleRecord>('security-group-rules')).find(
          (r) => r.security_group_id === groupId && r.direction === f.direction && r.ethertype === ethertype && r.protocol === protocol && r.port_range_min === min && r.port_range_max === max && r.remote_group_id === remoteGroup && r.remote_ip_prefix === prefix,
        );
        if (existing) throw new SecurityGroupRuleExists(existing.id);
        await enforceQuota(deps, projectId, 'security_group_rule');
        const now = timestamp(deps.clock);
        const rule: SecurityGroupRuleRecord = {
          id: newId(),
          project_id: projectId,
          security_group_id: groupId,
          direction: f.direction as 'ingress' | 'egress',
          ethertype,
          protocol,
          port_range_min: min,
          port_range_max: max,
          remote_ip_prefix: prefix,
          remote_group_id: remoteGroup,
          remote_address_group_id: null,
          description: (f.description as string | undefined) ?? '',
          tags: [],
          created_at: now,
          updated_at: now,
          revision_number: 0,
        };
        await store.create('security-group-rules', rule.id, rule);
        await notifyGroupHosts(deps, groupId);
        return showResponse(req, 'security_group_rule', ruleView(rule), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/security-group-rules/{id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params.id as string;
        const rule = await store.get<SecurityGroupRuleRecord>('security-group-rules', id);
        if (!rule || !isOwner(ctxOf(req), rule.project_id)) throw new SecurityGroupRuleNotFound(id);
        return showResponse(req, 'security_group_rule', ruleView(rule));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/security-group-rules/{id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params.id as string;
        const rule = await store.get<SecurityGroupRuleRecord>('security-group-rules', id);
        if (!rule || !isOwner(ctxOf(req), rule.project_id)) throw new SecurityGroupRuleNotFound(id);
        await store.delete('security-group-rules', id);
        await notifyGroupHosts(deps, rule.security_group_id);
        return NO_CONTENT;
      },
    },
  ];
}

/** The hosts whose bound ports use `groupId` get their firewall again. */
async function notifyGroupHosts(deps: NetworkDeps, groupId: string): Promise<void> {
  const hosts = new Set((await deps.store.scan<PortRecord>('ports')).filter((p) => p.security_groups.includes(groupId) && p['binding:host_id'] !== '').map((p) => p['binding:host_id']));
  for (const host of hosts) await deps.hosts.changed(host);
}
