import { hostname } from 'node:os';
import { type Clock, systemClock } from '../common/clock.ts';
import type { ConfigsOf } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { listen } from '../common/http/server.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { FernetKeyRepository } from '../common/token/key-repository.ts';
import { ServiceTokens, serviceTokensOptions } from '../client/service-tokens.ts';
import { ServiceCredential, serviceCredentialOptions } from '../client/service-credential.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftRecordStore } from '../client/swift-record-store.ts';
import { computeSchema } from '../compute/config.ts';
import { GlanceImageApi } from '../compute/image-api.ts';
import { NeutronNetworkApi } from '../compute/network-api.ts';
import { CinderVolumeApi } from '../compute/volume-api.ts';
import { ComputeService } from '../compute/service.ts';

/** The sections of a compute API node's config file. */
export const computeNodeSchemas = { compute: computeSchema } as const;
export type ComputeNodeConfig = ConfigsOf<typeof computeNodeSchemas>;

/**
 * One compute API process: Nova's v2.1 API on `bind_ip:bind_port`, its state in the cluster
 * (the system account of `account_user`), tokens validated with `key_repository`.
 * Revocation events are read before the first answer and polled (`ServiceTokens`).
 */
export async function runCompute(config: ComputeNodeConfig, options: { clock?: Clock; logger?: Logger } = {}): Promise<{ port: number; service: ComputeService; close(): Promise<void> }> {
  const c = config.compute;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: c.log_level, clock, fields: { server: 'compute' } });
  if (c.account_key === '') throw new ConfigError('compute.account_key', '', 'required: the key of the system account user (account_user)');
  const http = new UndiciBackendClient({ connectTimeoutMs: 2000, nodeTimeoutMs: 15_000, connectionsPerNode: 32 });
  const client = new SwiftClient({ authUrl: c.auth_url, user: c.account_user, key: c.account_key }, { http, clock });
  const keys = new FernetKeyRepository(c.key_repository, clock);
  const credential = serviceCredentialOptions(c);
  // Compute's own Keystone user, when configured: unbinds ports, and goes as X-Service-Token.
  const ownAuth = credential ? new ServiceCredential(credential, { http, clock }) : undefined;
  const tokens = new ServiceTokens({ keys, client, clock, logger }, serviceTokensOptions(c));
  const service = new ComputeService({ publicUrl: c.public_url.replace(/\/+$/, ''), imageUrl: c.image_url, crossAzAttach: c.cross_az_attach, allowResizeToSameHost: c.allow_resize_to_same_host }, { records: new SwiftRecordStore(client), images: new GlanceImageApi(c.image_url, http, ownAuth), networks: new NeutronNetworkApi(c.network_url, http, ownAuth), volumes: new CinderVolumeApi(c.volume_url, http, ownAuth), ...(ownAuth ? { service: ownAuth } : {}), keys, revocations: tokens.revocations, clock, logger });
  await tokens.start();
  const server = await listen(service.server.handle, { host: c.bind_ip, port: c.bind_port, logger });
  // Servers made before the list index existed get their entries once the cluster answers
  // (the proxy may still be starting): tried now, then with each resume until it succeeds.
  let indexed = false;
  const index = () => {
    if (indexed) return;
    void service.indexServers().then(
      (added) => {
        indexed = true;
        if (added > 0) logger.info('servers added to the list index', { servers: added });
      },
      (err) => logger.warn('indexing servers failed; will retry', { err }),
    );
  };
  index();
  // This process schedules and conducts: it reports itself as Nova's scheduler and conductor on
  // this machine every report_interval (Nova's 10 s), well within service_down_time.
  const report = () => void service.reportServices(hostname()).catch((err) => logger.warn('reporting the scheduler and conductor services failed', { err }));
  report();
  const heartbeat = setInterval(report, 10_000);
  const resume = setInterval(() => {
    index();
    void service.resumeBuilds().catch((err) => logger.warn('resuming builds failed', { err }));
  }, c.build_resume_interval * 1000);
  logger.info('compute listening', { ip: c.bind_ip, port: server.port, pid: process.pid });
  return {
    port: server.port,
    service,
    close: async () => {
      clearInterval(resume);
      clearInterval(heartbeat);
      await server.close();
      await tokens.stop();
      await http.close();
    },
  };
}
