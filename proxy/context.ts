import type { ConfigOf } from '../common/config.ts';
import type { Constraints } from '../common/constraints.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { TimestampSource } from '../common/timestamp-source.ts';
import type { Ring } from '../ring/ring.ts';
import type { BackendDeps } from './backend-requests.ts';
import type { proxyServerSchema } from './config.ts';
import type { InfoCache } from './info-cache.ts';

/** Everything controllers and middlewares share (Swift's proxy `Application`, typed). */
export interface ProxyContext extends BackendDeps {
  readonly config: ConfigOf<typeof proxyServerSchema>;
  readonly rings: { readonly account: Ring; readonly container: Ring; readonly object: Ring };
  readonly info: InfoCache;
  readonly constraints: Constraints;
  /** The one storage policy: its name (for `X-Storage-Policy`) and index. */
  readonly policy: { readonly name: string; readonly index: number };
  /** Write timestamps: unique and increasing within this proxy process. */
  readonly timestamps: TimestampSource;
  /** The cluster's hash path (names the expirer's queue containers). */
  readonly hashPath: HashPath;
}
