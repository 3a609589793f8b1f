import { bool, type ConfigOf, type Schema } from '../../common/config.ts';
import { allowsReservedNames } from '../../common/reserved-name.ts';
import type { ProxyContext } from '../context.ts';
import type { Middleware, ProxyRequest } from '../request.ts';
import type { Capabilities } from './info.ts';
import { requestTarget } from './segment-path.ts';
import { legacyVersionedWrites } from './versioned-writes-legacy.ts';

/** Swift's `[filter:versioned_writes]`. */
export const versionedWritesSchema = {
  allow_versioned_writes: bool(false, 'X-Versions-Location and X-History-Location (legacy versioning)'),
} as const satisfies Schema;

function target(req: ProxyRequest) {
  return requestTarget(req.path, allowsReservedNames(req.headers));
}

/**
 * Swift's `versioned_writes` filter, after `dlo` and before `symlink`: the legacy modes,
 * registered in `/info` when on.
 */
export function versionedWrites(ctx: ProxyContext, config: ConfigOf<typeof versionedWritesSchema>, capabilities: Capabilities): Middleware {
  if (config.allow_versioned_writes) capabilities['versioned_writes'] = { allowed_flags: ['x-versions-location', 'x-history-location'] };
  return legacyVersionedWrites(ctx, config.allow_versioned_writes, target);
}
