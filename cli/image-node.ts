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
import { imageSchema } from '../compute/image/config.ts';
import { ImageService } from '../compute/image/service.ts';
import { servicePublicUrl } from './service-public-url.ts';

/** The sections of an image node's config file. */
export const imageNodeSchemas = { image: imageSchema } as const;
export type ImageNodeConfig = ConfigsOf<typeof imageNodeSchemas>;

/**
 * One image service process: Glance's v2 API on `bind_ip:bind_port`, records and bytes in the
 * cluster (the system account of `account_user`), tokens checked against identity's key
 * repository and revocation events (read once before the first answer, then polled).
 */
export async function runImage(config: ImageNodeConfig, options: { clock?: Clock; logger?: Logger } = {}): Promise<{ port: number; service: ImageService; close(): Promise<void> }> {
  const c = config.image;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: c.log_level, clock, fields: { server: 'image' } });
  if (c.account_key === '') throw new ConfigError('image.account_key', '', 'required: the key of the system account user (account_user)');
  const keys = new FernetKeyRepository(c.key_repository, clock);
  // Long node timeout: a large segment's PUT is answered only once it is stored everywhere.
  const http = new UndiciBackendClient({ connectTimeoutMs: 2000, nodeTimeoutMs: 60_000, connectionsPerNode: 32 });
  const client = new SwiftClient({ authUrl: c.auth_url, user: c.account_user, key: c.account_key }, { http, clock });
  const tokens = new ServiceTokens({ keys, client, clock, logger }, serviceTokensOptions(c));
  let service: ImageService | undefined;
  const server = await listen(
    async (req) => (service ? service.server.handle(req) : { status: 503, headers: { 'Content-Type': 'text/plain' }, body: 'Starting.' }),
    { host: c.bind_ip, port: c.bind_port, logger },
  );
  const publicUrl = servicePublicUrl(c, server.port);
  const ready = new ImageService(
    { publicUrl, limits: { segmentSize: c.segment_size, largeObjectSize: c.large_object_size, imageSizeCap: c.image_size_cap, imageCountTotal: c.image_count_total, imageSizeTotal: c.image_size_total < 0 ? -1 : c.image_size_total * 1_048_576 } },
    { records: new SwiftRecordStore(client), client, http, authenticate: (h) => tokens.context(h), clock, logger },
  );
  await tokens.start();
  service = ready;
  logger.info('image listening', { ip: c.bind_ip, port: server.port, public_url: publicUrl, pid: process.pid });
  return {
    port: server.port,
    service: ready,
    close: async () => {
      await server.close();
      await ready.close();
      await tokens.stop();
      await http.close();
    },
  };
}
