/**
 * The headers of Swift's symlinks (`swift/common/middleware/symlink.py`). Clients write and
 * read the `X-Symlink-*` ones; the object keeps them as system metadata, which only the proxy
 * sees (the gatekeeper strips it both ways), so no client can forge a link's state.
 */

/** `<container>/<object>` the link points at (quoted, as the client sent it). */
export const TARGET = 'x-symlink-target';
export const TARGET_ACCOUNT = 'x-symlink-target-account';
/** A static link's target ETag: a GET checks the target still has it. */
export const TARGET_ETAG = 'x-symlink-target-etag';
export const TARGET_BYTES = 'x-symlink-target-bytes';

export const SYSMETA_TARGET = 'x-object-sysmeta-symlink-target';
export const SYSMETA_TARGET_ACCOUNT = 'x-object-sysmeta-symlink-target-account';
export const SYSMETA_TARGET_ETAG = 'x-object-sysmeta-symlink-target-etag';
export const SYSMETA_TARGET_BYTES = 'x-object-sysmeta-symlink-target-bytes';
/** A link whose hop does not count towards `symloop_max` (object versioning's). */
export const SYSMETA_SYMLOOP_EXTEND = 'x-object-sysmeta-symloop-extend';
/** A link that may point into the reserved namespace (object versioning's). */
export const SYSMETA_ALLOW_RESERVED_NAMES = 'x-object-sysmeta-allow-reserved-names';

/** The container update's etag override, where a link's target rides into listings. */
export const OVERRIDE_ETAG = 'x-object-sysmeta-container-update-override-etag';

/** The MD5 of no bytes: a symlink's own ETag. */
export const MD5_OF_EMPTY = 'd41d8cd98f00b204e9800998ecf8427e';

const CLIENT_OF_SYSMETA: readonly (readonly [string, string])[] = [
  [SYSMETA_TARGET, TARGET],
  [SYSMETA_TARGET_ACCOUNT, TARGET_ACCOUNT],
  [SYSMETA_TARGET_ETAG, TARGET_ETAG],
  [SYSMETA_TARGET_BYTES, TARGET_BYTES],
];

/** Swift's `symlink_sysmeta_to_usermeta`: a link's sysmeta shown as its `X-Symlink-*` headers (lower-case names, changed in place). */
export function showSymlinkHeaders(headers: Record<string, string>): void {
  for (const [sysmeta, client] of CLIENT_OF_SYSMETA) {
    const value = headers[sysmeta];
    if (value === undefined) continue;
    delete headers[sysmeta];
    headers[client] = value;
  }
}
