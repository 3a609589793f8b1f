import type { ConfigOf } from '../common/config.ts';
import type { Constraints } from '../common/constraints.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { TimestampSource } from '../common/timestamp-source.ts';
import type { StoragePolicies } from '../common/storage-policy.ts';
import type { RingSet } from '../ring/ring-set.ts';
import type { BackendDeps } from './backend-requests.ts';
import type { proxyServerSchema } from './config.ts';
import type { InfoCache } from './info-cache.ts';

/** Everything controllers and middlewares share (Swift's proxy `Application`, typed). */
export interface ProxyContext extends BackendDeps {
  readonly config: ConfigOf<typeof proxyServerSchema>;
  /** The rings; each storage policy's object ring through `objectRing(rings, index)`. */
  readonly rings: RingSet;
  readonly info: InfoCache;
  readonly constraints: Constraints;
  /** The cluster's storage policies (names for `X-Storage-Policy`, the default, the rings' indexes). */
  readonly policies: StoragePolicies;
  /** Write timestamps: unique and increasing within this proxy process. */
  readonly timestamps: TimestampSource;
  /** The cluster's hash path (names the expirer's queue containers). */
  readonly hashPath: HashPath;
  /** Registers work to stop when the proxy closes (a middleware's background poller). */
  readonly onClose?: (stop: () => Promise<void>) => void;
}
