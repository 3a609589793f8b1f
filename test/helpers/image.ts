import { type Clock, systemClock } from '../../common/clock.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { ServiceTokens } from '../../client/service-tokens.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { SwiftRecordStore } from '../../client/swift-record-store.ts';
import type { ImageLimits } from '../../compute/image/deps.ts';
import { ImageService } from '../../compute/image/service.ts';
import type { TestCluster } from './cluster.ts';
import { httpRequest, type TestResponse } from './http.ts';
import type { TestIdentity } from './identity.ts';

/** The tempauth owner of the image service's account, for `startCluster({ users })`. */
export const IMAGE_ACCOUNT_USERS = { 'user_.image_glance': 'image-key .admin' };

export interface TestImage {
  readonly port: number;
  readonly url: string;
  readonly service: ImageService;
  readonly tokens: ServiceTokens;
  readonly client: SwiftClient;
  /** Sends a request with `token`; objects go as JSON (or as given with a content type). */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the service answered
  request(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<TestResponse & { json: any }>;
  close(): Promise<void>;
}

/**
 * An image service in this process on an ephemeral port, its records and bytes in `cluster`'s
 * account `AUTH_.image` (the cluster needs `IMAGE_ACCOUNT_USERS`), validating tokens with
 * `identity`'s key repository and revocation events.
 */
export async function startImage(options: { cluster: TestCluster; identity: TestIdentity; clock?: Clock; limits?: Partial<ImageLimits> }): Promise<TestImage> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: 'error', sink: () => {} });
  const http = new UndiciBackendClient();
  const client = new SwiftClient({ authUrl: `http://127.0.0.1:${options.cluster.port}/auth/v1.0`, user: '.image:glance', key: 'image-key' }, { http, clock });
  const tokens = new ServiceTokens({ keys: new FernetKeyRepository(options.identity.keyRepository, clock), client, clock, logger }, { pollIntervalMs: 60_000, maxTokenLifeMs: 3_600_000 });
  await tokens.poll();
  const limits: ImageLimits = { segmentSize: 1_048_576, largeObjectSize: 5_368_709_120, imageSizeCap: 1_099_511_627_776, imageCountTotal: -1, imageSizeTotal: -1, ...options.limits };
  let service: ImageService | undefined;
  const server = await listen((req) => (service as ImageService).server.handle(req), { host: '127.0.0.1', port: 0, logger });
  const url = `http://127.0.0.1:${server.port}`;
  service = new ImageService({ publicUrl: url, limits }, { records: new SwiftRecordStore(client), client, http, authenticate: (h) => tokens.context(h), clock, logger });
  const running = service;
  return {
    port: server.port,
    url,
    service: running,
    tokens,
    client,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token !== undefined) headers['X-Auth-Token'] = o.token;
      let body: Buffer | string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
        headers['Content-Type'] ??= 'application/json';
      }
      const res = await httpRequest(server.port, method, path, headers, body);
      const type = res.headers['content-type'] ?? '';
      return { ...res, json: type.startsWith('application/json') && res.body.length > 0 ? JSON.parse(res.body.toString()) : undefined };
    },
    async close() {
      await server.close();
      await running.close();
      await http.close();
    },
  };
}
