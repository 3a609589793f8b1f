import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { NetworkApi, NeutronPort } from '../network-api.ts';
import { bridgeName, tapName } from '../network/driver/device-names.ts';
import { ServiceCallError } from '../openstack-http.ts';
import { bindingFields, UNBIND_FIELDS } from '../port-binding.ts';
import { T } from '../records.ts';
import type { ServerPort, ServerRecord } from '../server-record.ts';
import type { ServiceAuth } from '../service-auth.ts';
import type { ComputeStore } from '../store.ts';
import type { InterfaceReply, WorkItem } from '../work-queue.ts';
import { DomainNotFound } from './hypervisor/errors.ts';
import { portAddresses } from './port-addresses.ts';
import type { Hypervisor } from './hypervisor/types.ts';

/** A refusal the API passes on as it is (Nova's 4xx from the compute host). */
class InterfaceRefused extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Interface attach and detach on a host (Nova's `attach_interface` and `detach_interface` in
 * compute/manager.py): the port made on the network asked for with the user's token (or the
 * user's own port taken), bound to this host with compute's, the NIC added to the domain (the
 * running guest too where the driver hot-plugs); a detach takes the NIC out and deletes the port
 * compute made or gives the user's back unbound. The server's record follows (its ports and
 * addresses). An attach answers the waiting API under `interface-replies/<request id>`.
 */
export class InterfaceSteps {
  private readonly host: string;
  private readonly store: ComputeStore;
  private readonly hypervisor: Hypervisor;
  private readonly networks: NetworkApi;
  private readonly service: ServiceAuth;
  private readonly logger: Logger;

  constructor(host: string, deps: { store: ComputeStore; hypervisor: Hypervisor; networks: NetworkApi; service: ServiceAuth; logger: Logger }) {
    this.host = host;
    this.store = deps.store;
    this.hypervisor = deps.hypervisor;
    this.networks = deps.networks;
    this.service = deps.service;
    this.logger = deps.logger;
  }

  async attach(item: WorkItem): Promise<void> {
    let reply: InterfaceReply;
    try {
      reply = { portId: await this.attachPort(item) };
    } catch (err) {
      this.logger.error('interface attach failed', { server: item.server, port: item.portId, network: item.networkId, err });
      reply = { error: err instanceof InterfaceRefused ? { code: err.code, message: err.message } : { code: 500, message: `Failed to attach network adapter device to ${item.server}` } };
    }
    await this.store.records.put(T.interfaceReplies, item.requestId, reply);
  }

  private async attachPort(item: WorkItem): Promise<string> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    if (!server || server.host !== this.host || !(['active', 'paused', 'stopped'] as const).some((x) => x === server.vm_state)) {
      throw new InterfaceRefused(409, `Cannot 'attach_interface' instance ${item.server} while it is in vm_state ${server?.vm_state ?? 'deleted'}`);
    }
    const token = item.token;
    let port: NeutronPort | undefined;
    let created = false;
    if (item.portId !== undefined) {
      port = await this.networks.getPort(token, item.portId);
      if (!port) throw new InterfaceRefused(404, `Port id ${item.portId} could not be found.`);
      if (port.device_id !== '' && port.device_id !== server.uuid) throw new InterfaceRefused(409, `Port ${item.portId} is still in use.`);
    } else {
      // A rerun finds the port it made (its device is the server from the start) and not yet recorded.
      const known = new Set(server.ports.map((p) => p.portId));
      port = (await this.networks.listPorts(token, server.uuid)).find((p) => p.network_id === item.networkId && !known.has(p.id));
      if (!port) {
        try {
          port = await this.networks.createPort(token, { network_id: item.networkId, device_id: server.uuid, admin_state_up: true, ...(item.fixedIp !== undefined ? { fixed_ips: [{ ip_address: item.fixedIp }] } : {}) });
        } catch (err) {
          if (err instanceof ServiceCallError && err.status === 409 && item.fixedIp !== undefined) throw new InterfaceRefused(409, `Fixed IP address ${item.fixedIp} is already in use on instance ${server.uuid}.`);
          if (err instanceof ServiceCallError && err.status === 409) throw new InterfaceRefused(400, `No fixed IP addresses available for network: ${item.networkId}`);
          if (err instanceof ServiceCallError && err.status === 404) throw new InterfaceRefused(404, `Network ${item.networkId} could not be found.`);
          throw err;
        }
      }
      created = true;
    }
    port = await this.networks.updatePort(await this.service.token(), port.id, bindingFields(server, this.host));
    const entry: ServerPort = { portId: port.id, networkId: port.network_id, mac: port.mac_address, created, ...(item.tag !== undefined ? { tag: item.tag } : {}) };
    try {
      await this.hypervisor.attachNic(server.instance_name, { mac: port.mac_address, bridge: bridgeName(port.network_id), targetDev: tapName(port.id) });
    } catch (err) {
      // Nova's `_deallocate_port_for_instance` after a driver failure.
      await this.releasePort(token, entry).catch(() => undefined);
      throw err;
    }
    const added = await portAddresses(this.networks, token, [entry]);
    await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => {
      const v = cur.value;
      const addresses = { ...v.addresses };
      for (const [name, list] of Object.entries(added)) addresses[name] = [...(addresses[name] ?? []).filter((a) => a['OS-EXT-IPS-MAC:mac_addr'] !== entry.mac), ...list];
      return { ...v, ports: [...v.ports.filter((p) => p.portId !== entry.portId), entry], addresses, updated_at: this.store.isoSeconds() };
    });
    this.logger.info('interface attached', { server: server.uuid, port: port.id });
    return port.id;
  }

  /** Detach: a port the server does not have is logged and left (Nova's `PortNotFound` on the host, after the API's 202). */
  async detach(item: WorkItem): Promise<void> {
    const server = await this.store.get<ServerRecord>(T.servers, item.server);
    const entry = server?.ports.find((p) => p.portId === item.portId);
    if (!server || !entry) {
      this.logger.warn('interface detach: the port is not attached', { server: item.server, port: item.portId });
      return;
    }
    try {
      await this.hypervisor.detachNic(server.instance_name, entry.mac);
    } catch (err) {
      if (!(err instanceof DomainNotFound)) throw err;
    }
    await this.releasePort(item.token, entry);
    await updateRecord<ServerRecord>(this.store.records, T.servers, server.uuid, (cur) => {
      const v = cur.value;
      const addresses = Object.fromEntries(Object.entries(v.addresses).map(([net, list]) => [net, list.filter((a) => a['OS-EXT-IPS-MAC:mac_addr'] !== entry.mac)] as const).filter(([, list]) => list.length > 0));
      return { ...v, ports: v.ports.filter((p) => p.portId !== entry.portId), addresses, updated_at: this.store.isoSeconds() };
    });
    this.logger.info('interface detached', { server: server.uuid, port: entry.portId });
  }

  /** Nova's `deallocate_port_for_instance`: a port compute made is deleted, the user's given back unbound. */
  private async releasePort(token: string, p: ServerPort): Promise<void> {
    if (p.created) await this.networks.deletePort(token, p.portId);
    else await this.networks.updatePort(await this.service.token(), p.portId, UNBIND_FIELDS);
  }
}
