import type { Logger } from '../../common/logger.ts';
import type { NetworkApi, NeutronNetwork, NeutronPort, NeutronSecurityGroup, NeutronSubnet } from '../network-api.ts';
import { type OpenStackHttp, ServiceCallError } from '../openstack-http.ts';
import type { HostNetworkConfig, NetworkDriver } from './driver/types.ts';
import { hostConfigFrom, type HostPortFields, type HostRuleFields } from './host-ports.ts';

/** A token with the admin role (compute's service credential): only admins see `binding:host_id`. */
export interface AdminToken {
  token(): Promise<string>;
}

async function list<T>(neutron: OpenStackHttp, token: string, collection: string, query: string): Promise<T[]> {
  const res = await neutron.json('GET', `/v2.0/${collection}`, token, undefined, query);
  if (res.status !== 200) throw new ServiceCallError('network', res.status, `GET /v2.0/${collection}`);
  return ((res.json as Record<string, T[]>)[collection.replaceAll('-', '_')] ?? []) as T[];
}

/**
 * `host`'s network configuration as Neutron's API shows it to an admin (what the L2 agent gets
 * over RPC in Neutron): the ports bound to it, the rules of their groups, and the ports of the
 * groups those rules name as remote.
 * @throws {ServiceCallError} (403) when the token's view hides port bindings (not an admin's).
 */
export async function readHostConfig(neutron: OpenStackHttp, token: string, host: string): Promise<HostNetworkConfig> {
  const q = encodeURIComponent;
  const ports = await list<HostPortFields & { 'binding:host_id'?: string }>(neutron, token, 'ports', `binding:host_id=${q(host)}`);
  // A view without bindings ignores the filter: acting on it would wire other hosts' ports here.
  if (ports.some((p) => p['binding:host_id'] !== host)) throw new ServiceCallError('network', 403, 'the port list hides binding:host_id (the token has no admin role)');
  const groups = [...new Set(ports.flatMap((p) => p.security_groups))];
  const rules = groups.length > 0 ? await list<HostRuleFields>(neutron, token, 'security-group-rules', groups.map((g) => `security_group_id=${q(g)}`).join('&')) : [];
  const remote = [...new Set(rules.map((r) => r.remote_group_id).filter((g): g is string => g !== null))];
  const members = remote.length > 0 ? await list<HostPortFields>(neutron, token, 'ports', remote.map((g) => `security_groups=${q(g)}`).join('&')) : [];
  return hostConfigFrom(ports, rules, members);
}

/**
 * The network side of a compute host (Neutron's L2 agent): brings the host's `NetworkDriver` to
 * what Neutron records for it, read over the API with an admin token. Changes that arrive while
 * a sync runs are folded into one more sync after it, so 50 boots on a host cost a few syncs,
 * not 50; each sync is the whole truth, so a missed change is caught by the next one or by the
 * periodic resync. Without a token source it does nothing (a user's token cannot see bindings).
 */
export class HostNetworkAgent {
  private readonly host: string;
  private readonly driver: NetworkDriver;
  private readonly neutron: OpenStackHttp;
  private readonly auth: AdminToken | undefined;
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(host: string, deps: { driver: NetworkDriver; neutron: OpenStackHttp; auth?: AdminToken; logger: Logger }) {
    this.host = host;
    this.driver = deps.driver;
    this.neutron = deps.neutron;
    this.auth = deps.auth;
    this.logger = deps.logger;
    if (!this.auth) this.logger.warn('host network not followed: no service credential to read port bindings with', { host });
  }

  /** The host's ports may have changed: resolves once a sync that started after this call is done (never rejects). */
  changed(): Promise<void> {
    if (!this.auth) return Promise.resolve();
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running.then(() => {
        this.queued = undefined;
        return this.start();
      });
      return this.queued;
    }
    return this.start();
  }

  /** A sync now and every `intervalMs` (catches bindings made by others, and a restart's state). */
  startResync(intervalMs: number): void {
    void this.changed();
    this.timer = setInterval(() => void this.changed(), intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queued;
    await this.running;
  }

  private start(): Promise<void> {
    const run = this.syncOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async syncOnce(): Promise<void> {
    try {
      const config = await readHostConfig(this.neutron, await (this.auth as AdminToken).token(), this.host);
      const result = await this.driver.sync(config);
      const c = result.changes;
      if (c.addedBridges.length + c.removedBridges.length + c.addedDevices.length + c.removedDevices.length > 0 || c.firewallChanged) {
        this.logger.info(result.applied ? 'host network applied' : 'host network planned (not applied)', { host: this.host, ports: config.ports.length, changes: c });
      }
    } catch (err) {
      // Neutron answers before its agents act; the next change or resync brings the whole truth again.
      this.logger.warn('host network sync failed', { host: this.host, err });
    }
  }
}

/**
 * Compute's Neutron calls, with the host's wiring following them: a port bound to or unbound
 * from a host (`binding:host_id` in a create or update), or deleted, has the host agent sync
 * before the call returns, as Nova waits for the port to be plugged before it starts the guest.
 */
export class HostWiredNetworkApi implements NetworkApi {
  private readonly inner: NetworkApi;
  private readonly agent: HostNetworkAgent;

  constructor(inner: NetworkApi, agent: HostNetworkAgent) {
    this.inner = inner;
    this.agent = agent;
  }

  getNetwork(token: string, id: string): Promise<NeutronNetwork | undefined> {
    return this.inner.getNetwork(token, id);
  }

  listNetworks(token: string): Promise<NeutronNetwork[]> {
    return this.inner.listNetworks(token);
  }

  getPort(token: string, id: string): Promise<NeutronPort | undefined> {
    return this.inner.getPort(token, id);
  }

  listPorts(token: string, deviceId: string): Promise<NeutronPort[]> {
    return this.inner.listPorts(token, deviceId);
  }

  getSubnet(token: string, id: string): Promise<NeutronSubnet | undefined> {
    return this.inner.getSubnet(token, id);
  }

  getSecurityGroup(token: string, id: string): Promise<NeutronSecurityGroup | undefined> {
    return this.inner.getSecurityGroup(token, id);
  }

  listSecurityGroups(token: string, filters: { readonly id?: string; readonly name?: string; readonly project_id?: string }): Promise<NeutronSecurityGroup[]> {
    return this.inner.listSecurityGroups(token, filters);
  }

  async createPort(token: string, port: Readonly<Record<string, unknown>>): Promise<NeutronPort> {
    const made = await this.inner.createPort(token, port);
    if (typeof port['binding:host_id'] === 'string' && port['binding:host_id'] !== '') await this.agent.changed();
    return made;
  }

  async updatePort(token: string, id: string, fields: Readonly<Record<string, unknown>>): Promise<NeutronPort> {
    const updated = await this.inner.updatePort(token, id, fields);
    if ('binding:host_id' in fields) await this.agent.changed();
    return updated;
  }

  async deletePort(token: string, id: string): Promise<boolean> {
    const gone = await this.inner.deletePort(token, id);
    await this.agent.changed();
    return gone;
  }
}
