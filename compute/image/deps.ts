import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logger.ts';
import type { BackendClient } from '../../common/http/backend-client.ts';
import type { SwiftClient } from '../../client/swift-client.ts';
import type { ImageStore } from './image-store.ts';

/** Where the image bytes live in the service's account: the image id is the object. */
export const DATA_CONTAINER = 'image-data';
export const SEGMENT_CONTAINER = 'image-data_segments';

export interface ImageLimits {
  readonly segmentSize: number;
  /** An image of known size under this is one object; larger ones are segmented. */
  readonly largeObjectSize: number;
  readonly imageSizeCap: number;
  /** -1: none. */
  readonly imageCountTotal: number;
  /** Bytes; -1: none. */
  readonly imageSizeTotal: number;
}

/** What the image API's handlers share. */
export interface ImageDeps {
  readonly store: ImageStore;
  /** The service's own account, for the image bytes. */
  readonly client: SwiftClient;
  /** For web-download (plain HTTP to another server). */
  readonly http: BackendClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: ImageLimits;
  /** Background work (web-download imports), awaited by `close()`. */
  readonly tasks: Set<Promise<unknown>>;
}
