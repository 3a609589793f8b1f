import { bool, type ConfigOf, type Schema } from '../../common/config.ts';
import { allowsReservedNames } from '../../common/reserved-name.ts';
import type { ProxyContext } from '../context.ts';
import type { Middleware, ProxyRequest } from '../request.ts';
import type { Capabilities } from './info.ts';
import { objectVersioning } from './object-versioning.ts';
import { requestTarget } from './segment-path.ts';
import { legacyVersionedWrites } from './versioned-writes-legacy.ts';

/** Swift's `[filter:versioned_writes]`. */
export const versionedWritesSchema = {
  allow_versioned_writes: bool(false, 'X-Versions-Location and X-History-Location (legacy versioning)'),
  allow_object_versioning: bool(false, 'X-Versions-Enabled (object versioning, with ?version-id and ?versions)'),
} as const satisfies Schema;

function target(req: ProxyRequest) {
  return requestTarget(req.path, allowsReservedNames(req.headers));
}

/**
 * Swift's `versioned_writes` filter, after `dlo` and before `symlink`: the legacy modes, and
 * inside them (with `allow_object_versioning`) object versioning, which is built on symlinks.
 * Each registers in `/info` when on.
 */
export function versionedWrites(ctx: ProxyContext, config: ConfigOf<typeof versionedWritesSchema>, capabilities: Capabilities): Middleware {
  if (config.allow_versioned_writes) capabilities['versioned_writes'] = { allowed_flags: ['x-versions-location', 'x-history-location'] };
  if (config.allow_object_versioning) capabilities['object_versioning'] = {};
  const legacy = legacyVersionedWrites(ctx, config.allow_versioned_writes, target);
  if (!config.allow_object_versioning) return legacy;
  const versioning = objectVersioning(ctx, target);
  return (next) => legacy(versioning(next));
}
