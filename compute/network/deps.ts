import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import type { ClaimedAddresses } from './claimed-addresses.ts';
import type { HostPorts } from './host-ports.ts';
import type { PortIndex } from './port-index.ts';
import type { NetworkStore } from './store.ts';

/** Neutron's `[quotas]` defaults (`quota_network` 100, ...; -1 is unlimited). */
export const DEFAULT_QUOTAS: Readonly<Record<string, number>> = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  subnetpool: -1,
  rbac_policy: 10,
};

export interface NetworkSettings {
  /** Neutron's `global_physnet_mtu`: a new network's MTU unless it asks for one. */
  readonly mtu: number;
  readonly baseMac: string;
  readonly quotas: Readonly<Record<string, number>>;
}

/** What the network API's handlers work with. */
export interface NetworkDeps {
  readonly store: NetworkStore;
  /** This process's view of each subnet's address claims (a belief; the claim records decide). */
  readonly claimed: ClaimedAddresses;
  readonly portIndex: PortIndex;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Numbers in [0, 1) for addresses and MACs (Neutron's draws are random too). */
  readonly random: () => number;
  readonly settings: NetworkSettings;
  /** Told when ports bound to a host change, so the host's network driver follows. */
  readonly hosts: HostPorts;
}

/** Neutron's timestamps: `2026-12-05T10:06:10Z`. */
export function timestamp(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
