/**
 * The network driver of a host (the L2 agent's side of Neutron): given the ports bound to the
 * host and their security groups, it makes the host's bridges, tap/veth devices and iptables
 * rules what they must be. Two implementations pass one conformance suite
 * (`test/conformance/network-driver.ts`): `linux.ts` (computes the plan Neutron's linuxbridge
 * agent and iptables firewall would carry out, and carries it out where it runs as root and
 * is allowed to) and `recording.ts` (the twin: keeps the plans it was given).
 */

/** A port bound to this host (`binding:host_id`), with what its wiring needs. */
export interface PortBinding {
  readonly id: string;
  readonly networkId: string;
  readonly macAddress: string;
  readonly fixedIps: readonly string[];
  /** `compute:<zone>` for a server's NIC; `network:dhcp`, `network:router_interface`, ... are Neutron's own. */
  readonly deviceOwner: string;
  /** The server, DHCP service or router the port belongs to. */
  readonly deviceId: string;
  readonly securityGroups: readonly string[];
  /** `port_security_enabled`: off means no filtering and no anti-spoofing. */
  readonly portSecurityEnabled: boolean;
  readonly allowedAddressPairs?: readonly { readonly ipAddress: string; readonly macAddress?: string }[];
}

/** A security group rule as the API shows it. */
export interface SecurityGroupRule {
  readonly id: string;
  readonly securityGroupId: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: 'IPv4' | 'IPv6';
  /** A name (`tcp`, `icmp`, ...), a number as text, or null for any. */
  readonly protocol: string | null;
  readonly portRangeMin: number | null;
  readonly portRangeMax: number | null;
  readonly remoteIpPrefix: string | null;
  readonly remoteGroupId: string | null;
}

/** Everything the host must reflect. */
export interface HostNetworkConfig {
  readonly ports: readonly PortBinding[];
  /** The rules of every security group the ports use. */
  readonly rules: readonly SecurityGroupRule[];
  /** The fixed IPs of each security group's ports (cloud-wide), for rules naming a remote group. */
  readonly members: Readonly<Record<string, readonly string[]>>;
}

/** A network device the host must have. */
export interface PlannedDevice {
  readonly name: string;
  /** `tap`: a guest's NIC, created by the hypervisor and joined to the bridge; `veth`: a pair into a namespace. */
  readonly kind: 'tap' | 'veth';
  readonly bridge: string;
  readonly mac: string;
  /** The veth's other end and the namespace it lives in (DHCP and router ports). */
  readonly peer?: string;
  readonly namespace?: string;
}

/** What the host must have, in a form that compares and prints. */
export interface NetworkPlan {
  /** Linux bridges, one per network with ports here (`brq` + network id), sorted. */
  readonly bridges: readonly string[];
  /** Sorted by name. */
  readonly devices: readonly PlannedDevice[];
  /** The filter table for `iptables-restore` and `ip6tables-restore`, line by line. */
  readonly iptables: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
}

/** How a plan differs from the one before it. */
export interface PlanChanges {
  readonly addedBridges: readonly string[];
  readonly removedBridges: readonly string[];
  readonly addedDevices: readonly string[];
  readonly removedDevices: readonly string[];
  readonly firewallChanged: boolean;
}

export interface SyncResult {
  readonly plan: NetworkPlan;
  readonly changes: PlanChanges;
  /** Whether the host itself was changed (else the plan is only shown). */
  readonly applied: boolean;
}

export interface NetworkDriverSupports {
  /** The driver changes the host (root, and allowed by config). */
  readonly applies: boolean;
}

export interface NetworkDriver {
  readonly supports: NetworkDriverSupports;
  /**
   * Makes the host match `config` (converging: the same config twice changes nothing the
   * second time) and says what it did.
   */
  sync(config: HostNetworkConfig): Promise<SyncResult>;
  /** The plan the host was last brought to (empty before the first sync). */
  current(): Promise<NetworkPlan>;
}
