import { compareUtf8, prefixEnd } from './key-order.ts';
import type { KvIterator, OrderedKv } from './kv.ts';

/**
 * The parameters of an account or container listing, as the servers take them from the query
 * string (Swift's `list_objects_iter` / `list_containers_iter` arguments).
 */
export interface ListingQuery {
  /** Most entries to return; subdirs count. */
  readonly limit: number;
  /** Only names after this one (before it when reverse). */
  readonly marker?: string;
  /** Only names before this one (after it when reverse). */
  readonly endMarker?: string;
  readonly prefix?: string;
  /** Rolls names up to the first delimiter after the prefix into one `subdir` entry. */
  readonly delimiter?: string;
  /** Only the direct children of this pseudo-directory (`prefix=path/&delimiter=/`, no subdirs). */
  readonly path?: string;
  readonly reverse?: boolean;
  /** List names in the reserved namespace (NUL-led) too; by default they are left out. */
  readonly allowReserved?: boolean;
}

/** A listed row (its name and stored value), or a pseudo-directory. */
export type ScanEntry =
  | { readonly subdir: false; readonly name: string; readonly value: Uint8Array }
  | { readonly subdir: true; readonly name: string };

/** The lowest name outside the reserved namespace. */
const FIRST_USER_NAME = '\u0001';

/** Read small batches right after a seek (the next subdir may be near), larger ones after. */
const FIRST_BATCH = 16;
const MAX_BATCH = 1000;

/**
 * Lists the rows stored under `base` (key = `base + name`) with Swift's listing semantics, as
 * range scans: prefix, marker and end_marker become the iterator's bounds, and a delimiter
 * seeks past a whole pseudo-directory once its first name is seen, so a delimiter listing
 * reads about one row per subdir however many rows each holds.
 *
 * Swift's rules kept here: reverse swaps marker and end_marker; a marker below the prefix is
 * ignored; a delimiter without a prefix means prefix `''`; a subdir equal to the (swapped)
 * marker is not repeated, so paging by the last subdir works; with `path`, names below the
 * direct children are skipped without a subdir entry and the path itself is left out.
 *
 * Two of Swift's `path` quirks are not kept: after skipping a grandchild's directory `p/d/`,
 * Swift skips a following name `p/d0` (its `>` should be `>=`), and in reverse it drops an
 * object named exactly `p/d/`; here both are listed, in either direction.
 */
export async function scanListing(kv: OrderedKv, base: string, query: ListingQuery): Promise<ScanEntry[]> {
  const limit = query.limit;
  if (limit <= 0) return [];
  const reverse = query.reverse === true;
  let marker = query.marker ?? '';
  let endMarker = query.endMarker ?? '';
  if (reverse) [marker, endMarker] = [endMarker, marker];
  let prefix = query.prefix;
  let delimiter = query.delimiter;
  let path = query.path;
  if (path !== undefined) {
    prefix = path === '' ? '' : `${path.replace(/\/+$/, '')}/`;
    path = prefix;
    delimiter = '/';
  } else if (delimiter && !prefix) {
    prefix = '';
  }
  const endPrefix = prefix ? prefixEnd(prefix) : undefined;

  // Name bounds (Swift's WHERE clause).
  let upper: string | undefined;
  if (endMarker && (!prefix || compareUtf8(endMarker, endPrefix as string) < 0)) upper = endMarker;
  else if (endPrefix !== undefined) upper = endPrefix;
  let lower: { name: string; inclusive: boolean } | undefined;
  if (marker && (!prefix || compareUtf8(marker, prefix) >= 0)) lower = { name: marker, inclusive: false };
  else if (prefix) lower = { name: prefix, inclusive: true };
  // Reserved names sort first (they start with NUL): Swift's `name >= chr(1)`.
  if (query.allowReserved !== true && (lower === undefined || compareUtf8(lower.name, FIRST_USER_NAME) < 0)) lower = { name: FIRST_USER_NAME, inclusive: true };

  const it = kv.iterator({
    ...(lower === undefined ? { gte: base } : lower.inclusive ? { gte: base + lower.name } : { gt: base + lower.name }),
    lt: upper === undefined ? prefixEnd(base) : base + upper,
    reverse,
  });
  try {
    if (prefix === undefined || !delimiter) return await plainRows(it, base.length, limit);
    return await delimitedRows(it, base, { limit, prefix, delimiter, path, reverse, origMarker: marker });
  } finally {
    await it.close();
  }
}

async function plainRows(it: KvIterator, baseLength: number, limit: number): Promise<ScanEntry[]> {
  const out: ScanEntry[] = [];
  while (out.length < limit) {
    const batch = await it.nextv(limit - out.length);
    if (batch.length === 0) break;
    for (const [key, value] of batch) out.push({ subdir: false, name: key.slice(baseLength), value });
  }
  return out;
}

interface DelimitedScan {
  readonly limit: number;
  readonly prefix: string;
  readonly delimiter: string;
  readonly path: string | undefined;
  readonly reverse: boolean;
  readonly origMarker: string;
}

async function delimitedRows(it: KvIterator, base: string, scan: DelimitedScan): Promise<ScanEntry[]> {
  const { limit, prefix, delimiter, path, reverse } = scan;
  const out: ScanEntry[] = [];
  let batchSize = FIRST_BATCH;
  // After a reverse seek to a subdir, the subdir's own name is not wanted (Swift: `name < dir`).
  let skipKey: string | undefined;
  while (out.length < limit) {
    const batch = await it.nextv(batchSize);
    if (batch.length === 0) break;
    let sought = false;
    for (const [key, value] of batch) {
      if (key === skipKey) continue;
      const name = key.slice(base.length);
      const end = name.indexOf(delimiter, prefix.length);
      if (path !== undefined) {
        if (name === path) continue;
        if (end >= 0 && name.length > end + delimiter.length) {
          // A grandchild: skip its whole subtree, listing nothing for it. Unlike a subdir, the
          // child directory's own name (`path/dir/`) is a direct child, so reverse keeps it.
          seekPast(it, base, name.slice(0, end + delimiter.length), reverse);
          skipKey = undefined;
          sought = true;
          break;
        }
      } else if (end >= 0) {
        const dir = name.slice(0, end + delimiter.length);
        skipKey = seekPast(it, base, dir, reverse);
        if (dir !== scan.origMarker) out.push({ subdir: true, name: dir });
        sought = true;
        break;
      }
      out.push({ subdir: false, name, value });
      if (out.length >= limit) break;
    }
    batchSize = sought ? FIRST_BATCH : Math.min(batchSize * 2, MAX_BATCH);
  }
  return out;
}

/** Moves the iterator past every name under `dir`; returns a key to skip, if any. */
function seekPast(it: KvIterator, base: string, dir: string, reverse: boolean): string | undefined {
  if (reverse) {
    // Reverse seeks land on keys <= target: `dir` itself must still be skipped.
    it.seek(base + dir);
    return base + dir;
  }
  it.seek(base + prefixEnd(dir));
  return undefined;
}
