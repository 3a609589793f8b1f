import type { Logger } from '../../common/logger.ts';
import type { HostNetworkConfig, NetworkDriver, PortBinding, SecurityGroupRule } from './driver/types.ts';
import type { PortRecord, SecurityGroupRuleRecord } from './records.ts';
import type { NetworkStore } from './store.ts';

/**
 * The agent side, kept small: the API tells `changed(host)` after a port bound to `host` (by
 * `binding:host_id`, which compute sets at boot) is created, changed, unbound or deleted, or a
 * security group its ports use changes; the host's network driver is then brought to
 * `hostNetworkConfig(store, host)`, the whole truth for that host, so a missed or repeated
 * call is harmless (the driver converges).
 */
export interface HostPorts {
  changed(host: string): Promise<void>;
}

/** The fields of a port a host's configuration reads (a record, or the port as the API shows it to an admin). */
export type HostPortFields = Pick<PortRecord, 'id' | 'network_id' | 'mac_address' | 'fixed_ips' | 'device_owner' | 'device_id' | 'security_groups' | 'port_security_enabled' | 'allowed_address_pairs'>;

/** The fields of a rule a host's configuration reads. */
export type HostRuleFields = Pick<SecurityGroupRuleRecord, 'id' | 'security_group_id' | 'direction' | 'ethertype' | 'protocol' | 'port_range_min' | 'port_range_max' | 'remote_ip_prefix' | 'remote_group_id'>;

/**
 * A host's configuration from its bound ports (`here`), the rules of their groups, and the ports
 * of the groups those rules name as remote (`members`, cloud-wide).
 */
export function hostConfigFrom(here: readonly HostPortFields[], rules: readonly HostRuleFields[], members: readonly HostPortFields[]): HostNetworkConfig {
  const remote = new Set(rules.map((r) => r.remote_group_id).filter((g): g is string => g !== null));
  const addresses: Record<string, string[]> = {};
  for (const port of members) {
    for (const group of port.security_groups) {
      if (!remote.has(group)) continue;
      addresses[group] = [...(addresses[group] ?? []), ...port.fixed_ips.map((ip) => ip.ip_address)];
    }
  }
  return {
    ports: here.map(
      (p): PortBinding => ({
        id: p.id,
        networkId: p.network_id,
        macAddress: p.mac_address,
        fixedIps: p.fixed_ips.map((ip) => ip.ip_address),
        deviceOwner: p.device_owner,
        deviceId: p.device_id,
        securityGroups: p.security_groups,
        portSecurityEnabled: p.port_security_enabled,
        allowedAddressPairs: p.allowed_address_pairs.map((a) => ({ ipAddress: a.ip_address, macAddress: a.mac_address })),
      }),
    ),
    rules: rules.map(
      (r): SecurityGroupRule => ({
        id: r.id,
        securityGroupId: r.security_group_id,
        direction: r.direction,
        ethertype: r.ethertype,
        protocol: r.protocol,
        portRangeMin: r.port_range_min,
        portRangeMax: r.port_range_max,
        remoteIpPrefix: r.remote_ip_prefix,
        remoteGroupId: r.remote_group_id,
      }),
    ),
    members: addresses,
  };
}

/** The configuration of `host`: its bound ports, the rules of their groups, and each group's members' addresses. */
export async function hostNetworkConfig(store: NetworkStore, host: string): Promise<HostNetworkConfig> {
  const ports = await store.scan<PortRecord>('ports');
  const here = ports.filter((p) => p['binding:host_id'] === host);
  const groups = new Set(here.flatMap((p) => p.security_groups));
  const rules = (await store.scan<SecurityGroupRuleRecord>('security-group-rules')).filter((r) => groups.has(r.security_group_id));
  return hostConfigFrom(here, rules, ports);
}

/**
 * Host ports served by drivers in this process (`driverFor(host)`; hosts without one are left
 * to their own agent). Syncs of one host run one after another.
 */
export class DriverHostPorts implements HostPorts {
  private readonly store: NetworkStore;
  private readonly driverFor: (host: string) => NetworkDriver | undefined;
  private readonly logger: Logger;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(store: NetworkStore, driverFor: (host: string) => NetworkDriver | undefined, logger: Logger) {
    this.store = store;
    this.driverFor = driverFor;
    this.logger = logger;
  }

  changed(host: string): Promise<void> {
    const driver = this.driverFor(host);
    if (!driver) return Promise.resolve();
    const next = (this.queues.get(host) ?? Promise.resolve()).then(async () => {
      const result = await driver.sync(await hostNetworkConfig(this.store, host));
      this.logger.debug('host network synced', { host, changes: result.changes, applied: result.applied });
    });
    // A host that fails to follow does not fail the API call (Neutron answers before its agents
    // act); the next change of that host brings the whole truth again.
    const settled = next.catch((err: unknown) => this.logger.error('host network sync failed', { host, err }));
    this.queues.set(host, settled);
    return settled;
  }
}
