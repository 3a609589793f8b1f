import { hostname } from 'node:os';
import { type Clock, systemClock } from '../common/clock.ts';
import type { ConfigsOf } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { ServiceCredential, serviceCredentialOptions } from '../client/service-credential.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftRecordStore } from '../client/swift-record-store.ts';
import { ComputeAgent } from '../compute/agent/compute-agent.ts';
import { computeAgentSchema } from '../compute/agent/config.ts';
import { SwiftDiskTransfer } from '../compute/agent/disk-transfer.ts';
import { LibvirtHypervisor } from '../compute/agent/hypervisor/libvirt.ts';
import { MemoryHypervisor } from '../compute/agent/hypervisor/memory.ts';
import type { Hypervisor } from '../compute/agent/hypervisor/types.ts';
import { RecordHostStateStore } from '../compute/host-store.ts';
import { GlanceImageApi } from '../compute/image-api.ts';
import { NeutronNetworkApi } from '../compute/network-api.ts';
import { CinderVolumeApi } from '../compute/volume-api.ts';
import { LinuxNetworkDriver } from '../compute/network/driver/linux.ts';
import { HostNetworkAgent, HostWiredNetworkApi } from '../compute/network/host-agent.ts';
import { OpenStackHttp } from '../compute/openstack-http.ts';
import { ComputeStore } from '../compute/store.ts';

export const computeAgentNodeSchemas = { 'compute-agent': computeAgentSchema } as const;
export type ComputeAgentNodeConfig = ConfigsOf<typeof computeAgentNodeSchemas>;

/**
 * One compute host's agent, in its own process (`swiftlet start compute-agent`) or beside the
 * storage nodes of a storage process (`--compute-agent FILE`). It registers once the cluster
 * answers (a proxy starting beside it answers late), then heartbeats and works its queue.
 */
export async function runComputeAgent(config: ComputeAgentNodeConfig, options: { clock?: Clock; logger?: Logger } = {}): Promise<{ close(): Promise<void> }> {
  const c = config['compute-agent'];
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: c.log_level, clock, fields: { server: 'compute-agent' } });
  if (c.account_key === '') throw new ConfigError('compute-agent.account_key', '', 'required: the key of the system account user (account_user)');
  const credential = serviceCredentialOptions(c);
  if (!credential) throw new ConfigError('compute-agent.service_password', '', "required with service_user: compute's own Keystone user, which binds ports (Neutron lets only admins set binding:host_id)");
  const host = c.host || hostname();
  const hypervisor: Hypervisor = c.hypervisor === 'memory'
    ? new MemoryHypervisor({ clock, resources: { hostname: host, vcpus: 8, memoryMiB: 16_384, diskGiB: 200, hypervisorType: 'fake' } })
    : await LibvirtHypervisor.open({ clock, uri: c.libvirt_uri, stateDir: c.state_dir });
  const http = new UndiciBackendClient({ connectTimeoutMs: 2000, nodeTimeoutMs: 60_000, connectionsPerNode: 16 });
  const service = new ServiceCredential(credential, { http, clock });
  const client = new SwiftClient({ authUrl: c.auth_url, user: c.account_user, key: c.account_key }, { http, clock });
  const store = new ComputeStore(new SwiftRecordStore(client), clock);
  // The host's wiring follows its ports, planned (not applied: applying needs root and a host that
  // allows it). It reads every binding on the host with compute's service token.
  const hostNetwork = new HostNetworkAgent(host, { driver: new LinuxNetworkDriver({ apply: false }), neutron: new OpenStackHttp('network', c.network_url, http), auth: service, logger });
  const agent = new ComputeAgent(
    { host, availabilityZone: c.availability_zone, hostIp: c.host_ip, stateDir: c.state_dir, virtType: c.virt_type, heartbeatMs: c.heartbeat_interval * 1000, pollMs: c.poll_interval * 1000, concurrency: c.concurrency, stopTimeoutMs: c.shutdown_timeout * 1000, resumeGuestsStateOnHostBoot: c.resume_guests_state_on_host_boot, resizeConfirmWindowSeconds: c.resize_confirm_window, defaultEphemeralFormat: c.default_ephemeral_format, forceConfigDrive: c.force_config_drive, dhcpDomain: c.dhcp_domain, mkisofs: c.mkisofs_cmd, shelvedOffloadTimeSeconds: c.shelved_offload_time, shelvedPollIntervalSeconds: c.shelved_poll_interval },
    { store, hosts: new RecordHostStateStore(store), hypervisor, images: new GlanceImageApi(c.image_url, http, service), networks: new HostWiredNetworkApi(new NeutronNetworkApi(c.network_url, http, service), hostNetwork), volumes: new CinderVolumeApi(c.volume_url, http, service), service, disks: new SwiftDiskTransfer(client), logger },
  );
  let stopped = false;
  const starting = (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await agent.start();
        hostNetwork.startResync(60_000);
        logger.info('compute agent running', { host, hypervisor: c.hypervisor, pid: process.pid });
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) logger.warn('compute agent: the cluster is not answering yet; retrying', { attempt, err });
        await clock.sleep(Math.min(5000, 200 * attempt));
      }
    }
  })();
  return {
    close: async () => {
      stopped = true;
      await starting;
      await agent.stop();
      await hostNetwork.stop();
      await hypervisor.close();
      await http.close();
    },
  };
}
