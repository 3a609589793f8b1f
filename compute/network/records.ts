import type { AllocationPool, HostRoute, Ipv6Mode } from './subnet.ts';

/**
 * The records the network service keeps (compute/network/store.ts), in Neutron's own field
 * names so a record is close to what the API shows; what the API derives (a network's
 * `subnets`, a subnet's `shared`, a security group's rules) is not stored.
 */
export interface StandardAttributes {
  readonly id: string;
  readonly project_id: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly created_at: string;
  readonly updated_at: string;
  readonly revision_number: number;
}

export interface NetworkRecord extends StandardAttributes {
  readonly name: string;
  readonly admin_state_up: boolean;
  readonly shared: boolean;
  readonly 'router:external': boolean;
  readonly mtu: number;
  readonly status: string;
  readonly port_security_enabled: boolean;
  readonly availability_zone_hints: readonly string[];
  /**
   * `auto-allocated-topology`'s flag on an external network: the one default external network
   * (kept on Neutron's externalnetworks row, so it goes when the network stops being external).
   * Absent: false.
   */
  readonly is_default?: boolean;
  /**
   * Its RBAC entries that name one project (`openstack network rbac create --target-project`);
   * the wildcard ones are `shared` and `router:external` themselves. Absent: none.
   */
  readonly rbac?: readonly RbacEntry[];
  /** The QoS policy bound to it (`network set --qos-policy`); absent or null: none. */
  readonly qos_policy_id?: string | null;
}

/** An RBAC policy on a network or QoS policy for one project (Neutron's networkrbacs and qospolicyrbacs rows). */
export interface RbacEntry {
  readonly id: string;
  /** The project that made it (the network's owner, or an admin's choice). */
  readonly project_id: string;
  readonly action: 'access_as_shared' | 'access_as_external';
  readonly target_tenant: string;
}

export interface SubnetRecord extends StandardAttributes {
  readonly name: string;
  readonly network_id: string;
  readonly ip_version: 4 | 6;
  readonly cidr: string;
  readonly gateway_ip: string | null;
  readonly allocation_pools: readonly AllocationPool[];
  readonly enable_dhcp: boolean;
  readonly dns_nameservers: readonly string[];
  readonly host_routes: readonly HostRoute[];
  readonly ipv6_ra_mode: Ipv6Mode | null;
  readonly ipv6_address_mode: Ipv6Mode | null;
  /** The subnet pool its CIDR came from (absent in records made before pools: none). */
  readonly subnetpool_id?: string | null;
  /** `subnet-service-types`: the device owners whose ports take addresses here (absent or empty: any). */
  readonly service_types?: readonly string[];
}

export interface FixedIp {
  readonly subnet_id: string;
  readonly ip_address: string;
}

export interface AddressPair {
  readonly ip_address: string;
  readonly mac_address: string;
}

export interface PortRecord extends StandardAttributes {
  readonly name: string;
  readonly network_id: string;
  readonly mac_address: string;
  readonly admin_state_up: boolean;
  readonly status: string;
  readonly device_id: string;
  readonly device_owner: string;
  readonly fixed_ips: readonly FixedIp[];
  readonly security_groups: readonly string[];
  readonly port_security_enabled: boolean;
  readonly allowed_address_pairs: readonly AddressPair[];
  readonly 'binding:host_id': string;
  readonly 'binding:vnic_type': string;
  readonly 'binding:profile': Readonly<Record<string, unknown>>;
  /** The QoS policy bound to the port itself (its network's is the network's); absent or null: none. */
  readonly qos_policy_id?: string | null;
}

export interface SecurityGroupRecord extends StandardAttributes {
  readonly name: string;
  readonly stateful: boolean;
}

export interface SecurityGroupRuleRecord extends StandardAttributes {
  readonly security_group_id: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: 'IPv4' | 'IPv6';
  readonly protocol: string | null;
  readonly port_range_min: number | null;
  readonly port_range_max: number | null;
  readonly remote_ip_prefix: string | null;
  readonly remote_group_id: string | null;
  readonly remote_address_group_id: null;
}

export interface ExternalGatewayInfo {
  readonly network_id: string;
  readonly enable_snat: boolean;
  readonly external_fixed_ips: readonly FixedIp[];
}

export interface RouterRecord extends StandardAttributes {
  readonly name: string;
  readonly admin_state_up: boolean;
  readonly status: string;
  readonly external_gateway_info: ExternalGatewayInfo | null;
  /** The gateway port (device_owner `network:router_gateway`), when there is a gateway. */
  readonly gw_port_id: string | null;
  readonly routes: readonly HostRoute[];
}

export interface FloatingIpRecord extends StandardAttributes {
  readonly floating_network_id: string;
  readonly floating_ip_address: string;
  /** The port on the external network holding the address (device_owner `network:floatingip`). */
  readonly floating_port_id: string;
  readonly port_id: string | null;
  readonly fixed_ip_address: string | null;
  readonly router_id: string | null;
  readonly status: string;
}

/** A project's quota overrides (absent keys: the configured defaults). */
export interface QuotaRecord {
  readonly project_id: string;
  readonly limits: Readonly<Record<string, number>>;
}

export interface AddressScopeRecord {
  readonly id: string;
  readonly project_id: string;
  readonly name: string;
  readonly shared: boolean;
  readonly ip_version: 4 | 6;
}

export interface SubnetPoolRecord extends StandardAttributes {
  readonly name: string;
  readonly ip_version: 4 | 6;
  /** Compacted CIDRs (Neutron's `SubnetPoolReader`). */
  readonly prefixes: readonly string[];
  readonly default_prefixlen: number;
  readonly min_prefixlen: number;
  readonly max_prefixlen: number;
  readonly default_quota: number | null;
  readonly is_default: boolean;
  readonly shared: boolean;
  readonly address_scope_id: string | null;
}

export type QosRuleType = 'bandwidth_limit' | 'dscp_marking' | 'minimum_bandwidth' | 'minimum_packet_rate';

/** A rule of a QoS policy: its type and its type's parameters (`max_kbps`, `direction`, ...). */
export interface QosRuleRecord {
  readonly id: string;
  readonly type: QosRuleType;
  readonly params: Readonly<Record<string, string | number>>;
}

/**
 * A QoS policy with its rules inside (a rule change is one compare-and-swap of the policy, so
 * Neutron's one-rule-per-type-and-direction checks cannot race). Whether it is its project's
 * default is the `qos-default-policies/<project>` claim, not a field.
 */
export interface QosPolicyRecord extends StandardAttributes {
  readonly name: string;
  readonly shared: boolean;
  readonly rules: readonly QosRuleRecord[];
  /** Its `access_as_shared` entries naming one project; the wildcard one is `shared` itself. Absent: none. */
  readonly rbac?: readonly RbacEntry[];
}
