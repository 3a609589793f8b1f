import { type Clock, systemClock } from '../common/clock.ts';
import type { ConfigsOf } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { listen } from '../common/http/server.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { FernetKeyRepository } from '../common/token/key-repository.ts';
import { ServiceTokens, serviceTokensOptions } from '../client/service-tokens.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftRecordStore } from '../client/swift-record-store.ts';
import { networkSchema } from '../compute/network/config.ts';
import { DEFAULT_QUOTAS } from '../compute/network/deps.ts';
import { DriverHostPorts } from '../compute/network/host-ports.ts';
import { NetworkService } from '../compute/network/service.ts';
import { NetworkStore } from '../compute/network/store.ts';
import { servicePublicUrl } from './service-public-url.ts';

/** The sections of a network node's config file. */
export const networkNodeSchemas = { network: networkSchema } as const;
export type NetworkNodeConfig = ConfigsOf<typeof networkNodeSchemas>;

/**
 * One network API process: Neutron's v2.0 API on `bind_ip:bind_port`, its state in the cluster.
 * No host's network driver runs here: the compute agents bring their hosts to what the API
 * records (compute/network/host-ports.ts).
 */
export async function runNetwork(config: NetworkNodeConfig, options: { clock?: Clock; logger?: Logger } = {}): Promise<{ port: number; service: NetworkService; close(): Promise<void> }> {
  const c = config.network;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: c.log_level, clock, fields: { server: 'network' } });
  if (c.account_key === '') throw new ConfigError('network.account_key', '', 'required: the key of the system account user (account_user)');
  const keys = new FernetKeyRepository(c.key_repository, clock);
  const http = new UndiciBackendClient({ connectTimeoutMs: 2000, nodeTimeoutMs: 15_000, connectionsPerNode: 32 });
  const client = new SwiftClient({ authUrl: c.auth_url, user: c.account_user, key: c.account_key }, { http, clock });
  const records = new SwiftRecordStore(client);
  const tokens = new ServiceTokens({ keys, client, clock, logger }, serviceTokensOptions(c));
  let service: NetworkService | undefined;
  const server = await listen((req) => (service as NetworkService).server.handle(req), { host: c.bind_ip, port: c.bind_port, logger });
  const publicUrl = servicePublicUrl(c, server.port);
  const quotas = {
    ...DEFAULT_QUOTAS,
    network: c.quota_network,
    subnet: c.quota_subnet,
    port: c.quota_port,
    router: c.quota_router,
    floatingip: c.quota_floatingip,
    security_group: c.quota_security_group,
    security_group_rule: c.quota_security_group_rule,
  };
  service = new NetworkService(
    { publicUrl, identityUrl: c.identity_url, settings: { mtu: c.global_physnet_mtu, baseMac: c.base_mac, quotas }, recordCacheMs: c.record_cache_ms },
    { records, keys, clock, logger, revocations: tokens.revocations, hosts: new DriverHostPorts(new NetworkStore(records), () => undefined, logger) },
  );
  await tokens.start();
  logger.info('network listening', { ip: c.bind_ip, port: server.port, public_url: publicUrl, pid: process.pid });
  return {
    port: server.port,
    service,
    close: async () => {
      await server.close();
      await tokens.stop();
      await http.close();
    },
  };
}
