import { HttpError } from '../../common/http/http-error.ts';
import { compareUtf8 } from '../../common/db/key-order.ts';
import { acceptsType } from '../../common/listing-format.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { ALLOW_RESERVED_NAMES_HEADER, RESERVED, reservedName, splitReservedName } from '../../common/reserved-name.ts';
import { Timestamp } from '../../common/timestamp.ts';
import type { SwiftPath } from '../swift-path.ts';
import type { ProxyHandler, ProxyRequest } from '../request.ts';
import { type ListingRow, readListing, withListing } from './listing-body.ts';
import { DELETE_MARKER_CONTENT_TYPE, splitVersionName, versionsObjectName, versionsObjectPrefix } from './object-versioning-names.ts';
import { isSuccess } from './subresponse.ts';
import { preAuthed } from './version-copy.ts';
import { quotePath, unquoteHeader } from './url-quote.ts';

/**
 * Swift's `build_listing`: rows sorted by name (or subdir), ties kept in their order, cut at
 * `limit`.
 */
export function buildListing(rows: readonly ListingRow[], reverse: boolean, limit: number): ListingRow[] {
  const key = (row: ListingRow): string => String(row['subdir'] ?? row['name'] ?? '');
  return [...rows].sort((a, b) => (reverse ? -1 : 1) * compareUtf8(key(a), key(b))).slice(0, limit);
}

/** Swift's `constrain_req_limit`: the client's limit, at most `max` (412 above it). */
export function listingLimit(req: ProxyRequest, max: number): number {
  const given = req.query.get('limit');
  if (!given || !/^\d+$/.test(given)) return max;
  const limit = Number(given);
  if (limit > max) throw new HttpError(412, `Maximum limit is ${max}`);
  return limit;
}

function unquote(value: string): string {
  return unquoteHeader(value, true) ?? value;
}

/**
 * `GET <container>?versions` (Swift's `_list_versions`): every version of every object, JSON
 * only (406 for a client that does not take JSON). The rows of the container itself (`primary`,
 * already read with the request's parameters) are merged with those of the hidden versions
 * container: an object written while versioning was off is version `null`; each row has
 * `version_id` and `is_latest` (the version the object links to, or the newest delete marker).
 * Paging: `marker` with `version_marker`, `prefix`, `delimiter` (not one of the characters of
 * version ids), `limit`, `reverse`; no `end_marker`.
 */
export async function listVersions(next: ProxyHandler, req: ProxyRequest, path: SwiftPath, location: string, primary: readonly ListingRow[], response: ServerResponse, listingLimitMax: number): Promise<ServerResponse> {
  req.env.listingAsIs = true;
  if (!acceptsType(req.env.listingAccept ?? req.headers['accept'], 'application/json')) throw new HttpError(406);
  const params = new URLSearchParams(req.query);
  const versionMarker = params.get('version_marker');
  if (versionMarker !== null) {
    const marker = params.get('marker');
    if (marker === null) throw new HttpError(400, 'version_marker param requires marker');
    if (versionMarker !== 'null') {
      let stamp: Timestamp;
      try {
        stamp = Timestamp.parse(versionMarker);
      } catch {
        throw new HttpError(400, 'invalid version_marker param');
      }
      params.set('marker', versionsObjectName(marker, stamp));
    }
  } else if (params.has('marker')) {
    // Just past every version of the marker object (version ids are digits and dots).
    params.set('marker', `${versionsObjectPrefix(params.get('marker') ?? '')}:`);
  }
  const delimiter = params.get('delimiter') ?? '';
  if ([...delimiter].some((c) => '0123456789.'.includes(c) || c === RESERVED)) throw new HttpError(400, 'invalid delimiter param');

  const nullRows: ListingRow[] = [];
  const subdirs = new Set<string>();
  const current = new Map<string, ListingRow>();
  const latest = new Set<string>();
  for (const row of primary) {
    if (row['name'] === undefined) subdirs.add(String(row['subdir']));
    else if (row['version_symlink']) current.set(unquote(String(row['symlink_path'])), row);
    else {
      nullRows.push({ ...row, version_id: 'null', is_latest: true });
      latest.add(String(row['name']));
    }
  }

  // The prefix is not closed with a NUL: a client may list by part of a name.
  if (params.has('prefix')) params.set('prefix', reservedName(params.get('prefix') ?? ''));
  const query = new URLSearchParams({ format: 'json' });
  for (const k of ['prefix', 'marker', 'limit', 'delimiter', 'reverse']) query.set(k, params.get(k) ?? '');
  const listing = await next(preAuthed(req, { method: 'GET', path: `/${path.version}/${quotePath(path.account)}/${quotePath(location)}`, query, headers: { [ALLOW_RESERVED_NAMES_HEADER]: 'true' }, source: 'OV' }));
  const reverse = ['true', '1', 'yes', 'on', 't', 'y'].includes((params.get('reverse') ?? 'no').trim().toLowerCase());
  const limit = listingLimit(req, listingLimitMax);
  const brokenRows: ListingRow[] = [];
  const versionRows: ListingRow[] = [];

  if (listing.status === 404) {
    // The hidden container is gone: what the links point at is all there is to show.
    for (const row of current.values()) {
      const linked = unquote(String(row['symlink_path'])).split('/').slice(4).join('/');
      const { object, version } = splitVersionName(linked);
      if (version === undefined) continue;
      const isLatest = !latest.has(object);
      latest.add(object);
      brokenRows.push(brokenRow(row, object, isLatest, version));
    }
  } else if (isSuccess(listing.status)) {
    const { rows } = await readListing(listing);
    if (!rows) return withListing(response, buildListing([...nullRows, ...[...subdirs].map((s) => ({ subdir: s }))], reverse, limit));
    for (const row of rows) {
      if (row['name'] === undefined) {
        subdirs.add(splitReservedName(String(row['subdir']))?.[0] ?? String(row['subdir']));
        continue;
      }
      const hidden = String(row['name']);
      const { object, version } = splitVersionName(hidden);
      if (version === undefined) continue;
      const linkPath = `/v1/${path.account}/${location}/${hidden}`;
      let isLatest = false;
      if (current.has(linkPath)) {
        isLatest = true;
        latest.add(object);
        current.delete(linkPath);
      } else if (row['content_type'] === DELETE_MARKER_CONTENT_TYPE && !latest.has(object)) {
        isLatest = true;
        latest.add(object);
      }
      versionRows.push({ ...row, is_latest: isLatest, name: object, version_id: version.internal });
    }
    for (const row of current.values()) {
      // Swift splits the link's path at its first slash here, which never yields a version:
      // links to versions the hidden listing does not show are left out.
      const { object, version } = splitVersionName(unquote(String(row['symlink_path'])).split('/').slice(1).join('/'));
      if (version !== undefined) brokenRows.push(brokenRow(row, object, true, version));
    }
  } else {
    return listing;
  }
  const subdirRows = [...subdirs].map((s) => ({ subdir: s }));
  return withListing(response, buildListing([...nullRows, ...versionRows, ...subdirRows, ...brokenRows], reverse, limit));
}

function brokenRow(row: ListingRow, name: string, isLatest: boolean, version: Timestamp): ListingRow {
  return { name, is_latest: isLatest, version_id: version.internal, content_type: row['content_type'], bytes: row['bytes'], hash: row['hash'], last_modified: row['last_modified'] };
}
