import type { Clock } from '../../common/clock.ts';
import type { BackendClient } from '../../common/http/backend-client.ts';
import type { Logger } from '../../common/logger.ts';
import type { RequestContext } from '../../common/token/request-context.ts';
import type { RecordStore } from '../../client/record-store.ts';
import type { SwiftClient } from '../../client/swift-client.ts';
import { discoveryRoutes } from './api/discovery.ts';
import { imageDataRoutes } from './api/image-data.ts';
import { imageRoutes } from './api/images.ts';
import { memberRoutes } from './api/members.ts';
import type { ImageDeps, ImageLimits } from './deps.ts';
import { ImageStore } from './image-store.ts';
import { ImageServer } from './server.ts';

/**
 * The image service put together: records in `records`, bytes through `client` (both in the
 * service's system account), callers known through `authenticate` (a `ServiceTokens` in a
 * process; a bare validator in tests). `close()` waits for background imports.
 */
export class ImageService {
  readonly deps: ImageDeps;
  readonly server: ImageServer;

  constructor(
    options: { publicUrl: string; limits: ImageLimits },
    io: { records: RecordStore; client: SwiftClient; http: BackendClient; authenticate: (headers: Readonly<Record<string, string | undefined>>) => RequestContext | undefined; clock: Clock; logger: Logger },
  ) {
    this.deps = { store: new ImageStore(io.records, { clock: io.clock, logger: io.logger }), client: io.client, http: io.http, clock: io.clock, logger: io.logger, limits: options.limits, tasks: new Set() };
    const routes = [...discoveryRoutes(), ...imageRoutes(this.deps), ...imageDataRoutes(this.deps), ...memberRoutes(this.deps)];
    this.server = new ImageServer({ publicUrl: options.publicUrl, routes }, { authenticate: io.authenticate, logger: io.logger, clock: io.clock });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.deps.tasks]);
  }
}
