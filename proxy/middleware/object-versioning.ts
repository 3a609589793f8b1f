import { isTrueValue } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { ALLOW_RESERVED_NAMES_HEADER, reservedName } from '../../common/reserved-name.ts';
import type { ProxyContext } from '../context.ts';
import type { SwiftPath } from '../swift-path.ts';
import type { Middleware, ProxyHandler, ProxyRequest } from '../request.ts';
import { type ListingRow, readListing, withListing } from './listing-body.ts';
import {
  CLIENT_VERSIONS_ENABLED, splitVersionName, splitVersionsContainerName, SYSMETA_VERSIONS_CONTAINER, SYSMETA_VERSIONS_ENABLED, versionsContainerName,
} from './object-versioning-names.ts';
import { type ObjectPath, VersionedObject } from './object-versioning-object.ts';
import { buildListing, listingLimit, listVersions } from './object-versions-listing.ts';
import { discardBody, headerOf, isSuccess, lowerCaseHeaders, respond } from './subresponse.ts';
import { parseHeaderParams } from './header-params.ts';
import { preAuthed } from './version-copy.ts';
import { quotePath, unquoteHeader } from './url-quote.ts';

const RESERVED_ALLOWED = { [ALLOW_RESERVED_NAMES_HEADER]: 'true' } as const;

function unquote(value: string): string {
  return unquoteHeader(value, true) ?? value;
}

/**
 * Swift's object versioning (`versioned_writes/object_versioning.py`), on with
 * `allow_object_versioning`. `X-Versions-Enabled: true` on a container's PUT or POST makes its
 * hidden versions container `\0versions\0<container>` (same policy) and turns versioning on;
 * `false` turns it off (versions stay). See `VersionedObject` for objects; containers show
 * `X-Versions-Enabled` and count their versions' bytes, list versions with `?versions`, and
 * can be deleted only once every version is; account listings count the hidden containers'
 * bytes too.
 */
export function objectVersioning(ctx: ProxyContext, path: (req: ProxyRequest) => SwiftPath | undefined): Middleware {
  return (next) => async (req) => {
    const target = path(req);
    if (!target || !ctx.constraints.valid_api_versions.includes(target.version)) return next(req);
    if (target.container === undefined) return req.method === 'GET' ? listAccount(ctx, next, req, target) : next(req);
    if (target.object === undefined) {
      const container = { ...target, container: target.container };
      if ((req.method === 'PUT' || req.method === 'POST') && req.headers[CLIENT_VERSIONS_ENABLED] !== undefined) return enableVersioning(ctx, next, req, container);
      if (req.method === 'DELETE') return deleteContainer(ctx, next, req, container);
      return containerRequest(ctx, next, req, container);
    }
    const info = await ctx.info.container(target.account, target.container, req.env.transId);
    const location = info.sysmeta['versions-container'];
    const versions = location ? (unquote(location).split('/')[0] ?? '') : '';
    const enabled = isTrueValue(info.sysmeta['versions-enabled']);
    const version = req.query.get('version-id');
    const object = new VersionedObject(ctx, next, req, target as ObjectPath, info, versions);
    if (version) return object.versionedRequest(version);
    if (versions) return object.request(enabled);
    return next(req);
  };
}

/** Adds `X-Versions-Enabled` where the container's sysmeta says. */
function showEnabled(headers: Record<string, string>): void {
  const enabled = headers[SYSMETA_VERSIONS_ENABLED];
  if (enabled !== undefined) headers[CLIENT_VERSIONS_ENABLED] = enabled;
}

/** Swift's `enable_versioning`: a container PUT or POST with `X-Versions-Enabled`. */
async function enableVersioning(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, target: SwiftPath & { container: string }): Promise<ServerResponse> {
  const info = await ctx.info.container(target.account, target.container, req.env.transId);
  // One kind of versioning per container.
  if (info.sysmeta['versions-location'] || info.versions) {
    throw new HttpError(400, 'Cannot enable object versioning on a container that is already using the legacy versioned writes feature.');
  }
  if (info.syncTo) throw new HttpError(400, 'Cannot enable object versioning on a container configured as source of container syncing.');
  const enabled = isTrueValue(req.headers[CLIENT_VERSIONS_ENABLED]);
  // Stored as Python writes a bool.
  req.headers[SYSMETA_VERSIONS_ENABLED] = enabled ? 'True' : 'False';
  const hidden = versionsContainerName(target.container);
  const hiddenPath = `/${target.version}/${quotePath(target.account)}/${quotePath(hidden)}`;
  let made = false;
  if (enabled) {
    const headers: Record<string, string> = { ...RESERVED_ALLOWED };
    // The hidden container takes the container's policy (or the one this PUT asks for).
    if (isSuccess(info.status)) {
      const policy = ctx.policies.byIndex(info.policyIndex);
      if (policy !== undefined) headers['x-storage-policy'] = policy.name;
    } else if (req.method === 'PUT' && req.headers['x-storage-policy'] !== undefined) {
      headers['x-storage-policy'] = req.headers['x-storage-policy'];
    }
    const created = await respond(next, preAuthed(req, { method: 'PUT', path: hiddenPath, headers, source: 'OV' }));
    await discardBody(created.body);
    if (!isSuccess(created.status) && created.status !== 409) throw new HttpError(500, 'Error enabling object versioning');
    req.headers[SYSMETA_VERSIONS_CONTAINER] = quotePath(hidden);
    made = true;
  }
  const response = await respond(next, req);
  if (!isSuccess(response.status) && made) {
    // The container could not be written: drop the hidden one again, the client may retry.
    const dropped = await respond(next, preAuthed(req, { method: 'DELETE', path: hiddenPath, headers: { ...RESERVED_ALLOWED }, source: 'OV' }));
    await discardBody(dropped.body);
  }
  const headers = lowerCaseHeaders(response.headers);
  showEnabled(headers);
  return { ...response, headers };
}

/** Swift's container `handle_delete`: refused while versions remain; the hidden container goes first. */
async function deleteContainer(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, target: SwiftPath & { container: string }): Promise<ServerResponse> {
  const info = await ctx.info.container(target.account, target.container, req.env.transId);
  const location = info.sysmeta['versions-container'];
  if (location) {
    const hiddenPath = `/v1/${quotePath(target.account)}/${quotePath(unquote(location))}`;
    // A HEAD, not the cached info: the count must be current.
    const head = await respond(next, preAuthed(req, { method: 'HEAD', path: hiddenPath, headers: { ...RESERVED_ALLOWED }, source: 'OV' }));
    await discardBody(head.body);
    if (isSuccess(head.status) && Number(headerOf(head, 'x-container-object-count') ?? 0) > 0) throw new HttpError(409, 'Delete all versions before deleting container.');
    if (!isSuccess(head.status) && head.status !== 404) throw new HttpError(500, 'Error deleting versioned container');
    const dropped = await respond(next, preAuthed(req, { method: 'DELETE', path: hiddenPath, headers: { ...RESERVED_ALLOWED }, source: 'OV' }));
    await discardBody(dropped.body);
    if (!isSuccess(dropped.status) && dropped.status !== 404) throw new HttpError(500, 'Error deleting versioned container');
  }
  return next(req);
}

/**
 * Swift's container `handle_request`: `X-Versions-Enabled` shown; the bytes of the versions
 * counted in `X-Container-Bytes-Used`; in a listing, a link to a version shows the version's
 * etag and size (`version_symlink: true`), its `symlink_path` naming the object with
 * `?version-id=`; `?versions` lists every version.
 */
async function containerRequest(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, target: SwiftPath & { container: string }): Promise<ServerResponse> {
  const response = await next(req);
  const headers = lowerCaseHeaders(response.headers);
  showEnabled(headers);
  let location = headers[SYSMETA_VERSIONS_CONTAINER] ? unquote(headers[SYSMETA_VERSIONS_CONTAINER]) : '';
  if (location) {
    if (headers['x-container-bytes-used'] !== undefined) {
      const head = await respond(next, preAuthed(req, { method: 'HEAD', path: `/v1/${quotePath(target.account)}/${quotePath(location)}`, headers: { ...RESERVED_ALLOWED }, source: 'OV' }));
      await discardBody(head.body);
      if (isSuccess(head.status)) headers['x-container-bytes-used'] = String(Number(headers['x-container-bytes-used']) + Number(headerOf(head, 'x-container-bytes-used') ?? 0));
    }
  } else if (isSuccess(response.status) && !target.container.includes('\u0000')) {
    // Never versioned, as far as this info tells: a ?versions listing looks anyway.
    location = versionsContainerName(target.container);
  }
  const answered = { ...response, headers };
  if (!isSuccess(response.status) || req.method !== 'GET') return answered;
  const listVersionsToo = req.query.has('versions');
  const { rows, text } = await readListing(answered, listVersionsToo ? undefined : '"symlink_path"');
  if (!rows) return text === undefined ? answered : { ...answered, body: text };
  const shown = rows.map((row) => versionLinkRow(row, target, location, listVersionsToo));
  if (listVersionsToo) return listVersions(next, req, target, location, shown, answered, ctx.constraints.container_listing_limit);
  return withListing(answered, shown);
}

/** A listing row that is a link to a version: the version's size and etag (Swift's `handle_request`). */
function versionLinkRow(row: ListingRow, target: SwiftPath & { container: string }, location: string, versionsListing: boolean): ListingRow {
  if (row['symlink_path'] === undefined || row['symlink_etag'] === undefined || row['symlink_bytes'] === undefined) return row;
  const [, , account, container, ...rest] = unquote(String(row['symlink_path'])).split('/');
  if (container !== location) return row;
  const { params } = parseHeaderParams(String(row['hash']));
  const { symlink_bytes: bytes, symlink_etag: etag, ...others } = row;
  const out: ListingRow = { ...others, bytes: Number(bytes), version_symlink: true, hash: String(etag) + [...params].map(([k, v]) => `; ${k}=${v}`).join('') };
  const { object, version } = splitVersionName(rest.join('/'));
  if (version !== undefined && !versionsListing) out['symlink_path'] = `${quotePath(`/v1/${account}/${target.container}/${object}`)}?version-id=${version.internal}`;
  return out;
}

/**
 * Swift's `AccountContext.list_containers`: the hidden containers' bytes are added to their
 * containers'; a hidden container left without its container is listed under that name (with
 * no objects), so its owner can clean it up.
 */
async function listAccount(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, target: SwiftPath): Promise<ServerResponse> {
  const response = await next(req);
  if (!isSuccess(response.status)) return response;
  const { rows, text } = await readListing(response);
  if (!rows) return text === undefined ? response : { ...response, body: text };
  const query = new URLSearchParams(req.query);
  const prefix = query.get('prefix');
  query.set('prefix', prefix !== null ? (prefix.includes('\u0000') ? prefix : versionsContainerName(prefix)) : reservedName('versions'));
  for (const p of ['marker', 'end_marker']) {
    const value = query.get(p);
    if (value !== null && !value.includes('\u0000')) query.set(p, versionsContainerName(value));
  }
  query.set('format', 'json');
  const hidden = await respond(next, preAuthed(req, { method: 'GET', path: `/${target.version}/${quotePath(target.account)}`, query, headers: { ...RESERVED_ALLOWED }, source: 'OV' }));
  let hiddenRows: ListingRow[] = [];
  if (isSuccess(hidden.status)) hiddenRows = (await readListing(hidden)).rows ?? [];
  else await discardBody(hidden.body);
  const versions = new Map<string, ListingRow>();
  for (const row of hiddenRows) if (row['name'] !== undefined) versions.set(splitVersionsContainerName(String(row['name'])), row);
  for (const row of rows) {
    if (row['name'] === undefined) continue;
    const v = versions.get(String(row['name']));
    if (v === undefined) continue;
    versions.delete(String(row['name']));
    row['bytes'] = Number(row['bytes']) + Number(v['bytes']);
  }
  for (const [name, row] of versions) rows.push({ ...row, name, count: 0 });
  const reverse = isTrueValue(req.query.get('reverse') ?? 'no');
  return withListing(response, buildListing(rows, reverse, listingLimit(req, ctx.constraints.account_listing_limit)));
}
