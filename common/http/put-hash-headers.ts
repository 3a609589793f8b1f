import { blockChecksumsKind, BodyHashes, CHECKSUM_HEADER, FOOTER_BLOCK_BYTES } from './put-footer.ts';

/**
 * A whole PUT body's hashes in request headers instead of a footer: the proxy, holding the
 * body before it sends a byte, hashes it once and tells each object server its MD5 and the
 * xxHash64 of its block checksums (`X-Backend-Obj-Checksum` names the kind, as for a footer).
 * The object server checks the cheap checksum, which its writer computes anyway, and stores the
 * MD5 as the ETag, as it does with a footer's (docs/decisions.md, "The proxy computes a large
 * PUT's MD5"). Without these headers (an older proxy) it hashes MD5 itself; an older object
 * server ignores them and does the same, so neither needs upgrading first.
 */
export const OBJ_ETAG_HEADER = 'x-backend-obj-etag';
/** The checksum `X-Backend-Obj-Checksum` names, for a body without a footer. */
export const CHECKSUM_VALUE_HEADER = 'x-backend-obj-checksum-value';

/** The headers that carry `body`'s MD5 and block-checksum digest. */
export function bodyHashHeaders(body: Uint8Array): Record<string, string> {
  const hashes = new BodyHashes();
  hashes.update(body);
  const footer = hashes.footer();
  return { [OBJ_ETAG_HEADER]: footer['Etag'] as string, [CHECKSUM_HEADER]: blockChecksumsKind(FOOTER_BLOCK_BYTES), [CHECKSUM_VALUE_HEADER]: footer[CHECKSUM_HEADER] as string };
}

/** What a request's hash headers claim, in a footer's shape (`etag`, and the checksum under `X-Backend-Obj-Checksum`); undefined without them. */
export function claimedHashes(headers: Readonly<Record<string, string | undefined>>): Record<string, string> | undefined {
  const etag = headers[OBJ_ETAG_HEADER];
  if (etag === undefined) return undefined;
  const value = headers[CHECKSUM_VALUE_HEADER];
  return { etag, ...(value !== undefined ? { [CHECKSUM_HEADER]: value } : {}) };
}
