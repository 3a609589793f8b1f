import { compareUtf8, prefixEnd } from '../../common/db/key-order.ts';
import type { ListingQuery } from '../../common/db/listing-scan.ts';

/** An entry of a reference listing: a name, or a subdir. */
export type ReferenceEntry = string | { readonly subdir: string };

/**
 * Swift's `list_objects_iter` as written: a loop of SQL-like queries over all names, moving the
 * marker after each row and re-querying after each subdir. Tests compare the range-scan
 * listing against it. Two deliberate differences, as in the implementation (see
 * `scanListing`): with `path`, skipping a grandchild's directory `p/d/` neither drops a next
 * name `p/d0` nor, in reverse, the object `p/d/` itself.
 */
export function referenceListing(names: readonly string[], query: ListingQuery): ReferenceEntry[] {
  const all = [...names].sort(compareUtf8);
  const limit = query.limit;
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
  const endPrefix = prefix ? prefixEnd(prefix) : '';
  const origMarker = marker;
  const results: ReferenceEntry[] = [];
  let forceGte = false;
  while (results.length < limit) {
    const gte = forceGte;
    forceGte = false;
    let rows = all.filter((name) => {
      if (endMarker && (!prefix || compareUtf8(endMarker, endPrefix) < 0)) {
        if (compareUtf8(name, endMarker) >= 0) return false;
      } else if (prefix && compareUtf8(name, endPrefix) >= 0) return false;
      if (gte) return compareUtf8(name, marker) >= 0;
      if (marker && (!prefix || compareUtf8(marker, prefix) >= 0)) return compareUtf8(name, marker) > 0;
      if (prefix) return compareUtf8(name, prefix) >= 0;
      return true;
    });
    if (reverse) rows.reverse();
    rows = rows.slice(0, limit - results.length);
    if (prefix === undefined || !delimiter) return rows;
    let rowcount = 0;
    for (const name of rows) {
      rowcount += 1;
      if (reverse) endMarker = name;
      else marker = name;
      if (results.length >= limit) return results;
      const end = name.indexOf(delimiter, prefix.length);
      if (path !== undefined) {
        if (name === path) continue;
        if (end >= 0 && name.length > end + delimiter.length) {
          // Swift: end_marker = name[:end + 1], which also drops the object `p/d/`.
          if (reverse) endMarker = `${name.slice(0, end + 1)}\u0000`;
          else {
            marker = prefixEnd(name.slice(0, end + 1));
            forceGte = true;
          }
          break;
        }
      } else if (end >= 0) {
        if (reverse) endMarker = name.slice(0, end + 1);
        else {
          marker = prefixEnd(name.slice(0, end + 1));
          forceGte = true;
        }
        const dir = name.slice(0, end + 1);
        if (dir !== origMarker) results.push({ subdir: dir });
        break;
      }
      results.push(name);
    }
    if (rowcount === 0) break;
  }
  return results;
}
