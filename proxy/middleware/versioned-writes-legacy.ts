import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { parseHttpDate } from '../../common/http/http-date.ts';
import { Timestamp } from '../../common/timestamp.ts';
import type { ProxyContext } from '../context.ts';
import type { ContainerInfo } from '../info-cache.ts';
import type { Middleware, ProxyHandler, ProxyRequest } from '../request.ts';
import type { SwiftPath } from '../swift-path.ts';
import { discardBody, headerOf, isSuccess, lowerCaseHeaders, readWhole, respond } from './subresponse.ts';
import { authorizeWrite, preAuthed, readStoredObject, requireSuccess, writeStoredObject } from './version-copy.ts';
import { quotePath, unquoteHeader } from './url-quote.ts';

/** The content type of a delete marker (history mode). */
export const DELETE_MARKER_CONTENT_TYPE = 'application/x-deleted;swift_versions_deleted=1';
const VERSIONS_LOCATION = 'x-versions-location';
const HISTORY_LOCATION = 'x-history-location';
const SYSMETA_LOCATION = 'x-container-sysmeta-versions-location';
const SYSMETA_MODE = 'x-container-sysmeta-versions-mode';
const REMOVE_VERSIONS = 'x-remove-versions-location';
const REMOVE_HISTORY = 'x-remove-history-location';

interface ObjectPath extends SwiftPath {
  readonly container: string;
  readonly object: string;
}

/**
 * Swift's legacy versioned writes (`versioned_writes/legacy.py`). A container names an archive
 * container with `X-Versions-Location` (stack mode) or `X-History-Location` (history mode),
 * kept as sysmeta:
 *
 * - a PUT over an object first copies the current one into the archive as
 *   `<3 hex digits: name length in bytes><name>/<its timestamp>`;
 * - a DELETE in history mode copies it too and writes a zero-byte delete marker there;
 * - a DELETE in stack mode puts the newest archived version back in its place (and deletes
 *   that archive copy), or removes the object when there is none.
 *
 * With `allow_versioned_writes` off, containers' headers go to the container servers untouched
 * and only containers whose servers keep `X-Versions-Location` themselves (`allow_versions`)
 * are versioned, as Swift does when the option is not set.
 */
export function legacyVersionedWrites(ctx: ProxyContext, allowVersionedWrites: boolean, path: (req: ProxyRequest) => SwiftPath | undefined): Middleware {
  return (next) => async (req) => {
    const target = path(req);
    if (!target || target.container === undefined) return next(req);
    if (target.object === undefined) return allowVersionedWrites ? containerRequest(next, req) : next(req);
    if (req.method !== 'PUT' && req.method !== 'DELETE') return next(req);
    const info = await ctx.info.container(target.account, target.container, req.env.transId);
    let location = info.sysmeta['versions-location'];
    let enabled = allowVersionedWrites;
    if (!location) {
      location = info.versions;
      if (!allowVersionedWrites && location) enabled = true;
    }
    if (!enabled || !location) return next(req);
    const archive = (unquoteHeader(location) ?? location).split('/')[0] ?? '';
    const versioning = new LegacyVersioning(ctx, next, req, target as ObjectPath, info, archive);
    if (req.method === 'PUT') {
      await versioning.copyCurrent();
      return next(req);
    }
    if (info.sysmeta['versions-mode'] === 'history') return versioning.deleteKeepingHistory();
    return versioning.deletePoppingVersion();
  };
}

/** Swift's `check_container_format`: the location names a container (not unquoted). */
function checkLocation(value: string): string {
  if (value.includes('/')) throw new HttpError(412, 'Container name cannot contain slashes');
  return value;
}

/** Container requests: the client's location headers to sysmeta and back. */
async function containerRequest(next: ProxyHandler, req: ProxyRequest): Promise<ServerResponse> {
  const h = req.headers;
  if (h[VERSIONS_LOCATION] !== undefined && h[HISTORY_LOCATION] !== undefined) {
    if (!h[HISTORY_LOCATION]) delete h[HISTORY_LOCATION];
    else if (h[VERSIONS_LOCATION]) throw new HttpError(400, `Only one of ${VERSIONS_LOCATION} or ${HISTORY_LOCATION} may be specified`, { 'Content-Type': 'text/plain' });
    else delete h[VERSIONS_LOCATION];
  }
  const versions = h[VERSIONS_LOCATION];
  const value = versions ?? h[HISTORY_LOCATION];
  if (value !== undefined) {
    if (!value) {
      // An empty location is X-Remove-Versions-Location.
      h[REMOVE_VERSIONS] = 'x';
    } else {
      h[SYSMETA_LOCATION] = checkLocation(value);
      h[SYSMETA_MODE] = versions !== undefined ? 'stack' : 'history';
      // Only the sysmeta says where versions go; a location set and removed at once is set.
      h[VERSIONS_LOCATION] = '';
      delete h[REMOVE_VERSIONS];
      delete h[REMOVE_HISTORY];
    }
  }
  if (h[REMOVE_VERSIONS] || h[REMOVE_HISTORY]) {
    h[VERSIONS_LOCATION] = '';
    h[SYSMETA_LOCATION] = '';
    h[SYSMETA_MODE] = '';
  }
  delete h[REMOVE_VERSIONS];
  delete h[REMOVE_HISTORY];
  const response = await next(req);
  const headers = lowerCaseHeaders(response.headers);
  const location = headers[SYSMETA_LOCATION];
  if (!location) return response;
  headers[headers[SYSMETA_MODE] === 'history' ? HISTORY_LOCATION : VERSIONS_LOCATION] = location;
  return { ...response, headers };
}

/** `<3 hex digits: the name's length in UTF-8 bytes><name>/`: where an object's versions are listed. */
export function legacyVersionsPrefix(object: string): string {
  return `${Buffer.byteLength(object).toString(16).padStart(3, '0')}${object}/`;
}

/** One versioned PUT or DELETE of an object (Swift's `VersionedWritesContext`). */
class LegacyVersioning {
  private readonly ctx: ProxyContext;
  private readonly next: ProxyHandler;
  private readonly req: ProxyRequest;
  private readonly target: ObjectPath;
  private readonly info: ContainerInfo;
  private readonly archive: string;

  constructor(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, target: ObjectPath, info: ContainerInfo, archive: string) {
    this.ctx = ctx;
    this.next = next;
    this.req = req;
    this.target = target;
    this.info = info;
    this.archive = archive;
  }

  private path(container: string, object: string): string {
    return `/${this.target.version}/${quotePath(this.target.account)}/${quotePath(container)}/${quotePath(object)}`;
  }

  /** The client must be able to write the versioned container before anything is read or copied. */
  private authorizeWrite(): Promise<void> {
    return authorizeWrite(this.req, this.target, this.info, () => this.ctx.info.container(this.target.account, this.target.container, this.req.env.transId, { fresh: true }));
  }

  /** Swift's `_copy_current`: the current object, if any, into the archive under its own timestamp. */
  async copyCurrent(): Promise<void> {
    await this.authorizeWrite();
    const current = await readStoredObject(this.next, this.req, this.path(this.target.container, this.target.object), 'VW', this.ctx.constraints.max_file_size);
    if (current.status === 404) {
      await discardBody(current.body);
      return;
    }
    await requireSuccess(current);
    const stamp = headerOf(current, 'x-timestamp') ?? String(parseHttpDate(headerOf(current, 'last-modified')) ?? 0);
    const name = legacyVersionsPrefix(this.target.object) + Timestamp.parse(stamp).internal;
    await requireSuccess(await writeStoredObject(this.next, this.req, this.path(this.archive, name), current, 'VW'));
  }

  /** History mode: archive the current object, then a delete marker, then delete it. */
  async deleteKeepingHistory(): Promise<ServerResponse> {
    await this.copyCurrent();
    const name = legacyVersionsPrefix(this.target.object) + this.ctx.timestamps.next().internal;
    const marker = await respond(this.next, preAuthed(this.req, { method: 'PUT', path: this.path(this.archive, name), headers: { 'content-type': DELETE_MARKER_CONTENT_TYPE, 'content-length': '0' }, source: 'VW' }));
    await requireSuccess(marker);
    await discardBody(marker.body);
    return this.next(this.req);
  }

  /**
   * Stack mode (Swift's `handle_obj_versions_delete_pop`): the newest archived version takes
   * the object's place and its archive copy is what gets deleted. Past a delete marker, a
   * version older than it is restored only if the object is gone.
   */
  async deletePoppingVersion(): Promise<ServerResponse> {
    const versions = this.archivedVersions();
    let request = this.req;
    let authorized = false;
    for await (const version of versions) {
      if (!authorized) {
        await this.authorizeWrite();
        authorized = true;
      }
      if (version.content_type === DELETE_MARKER_CONTENT_TYPE) {
        const head = await respond(this.next, preAuthed(this.req, { method: 'HEAD', path: this.path(this.target.container, this.target.object), headers: { 'x-newest': 'true' }, source: 'VW' }));
        await discardBody(head.body);
        if (head.status !== 404) {
          // The object is back since that delete: this DELETE removes it again.
          await requireSuccess(head);
          break;
        }
        for await (const older of versions) {
          if (older.content_type === DELETE_MARKER_CONTENT_TYPE) break;
          const restored = await this.restore(older.name);
          if (restored === undefined) continue;
          const gone = await respond(this.next, preAuthed(this.req, { method: 'DELETE', path: restored, source: 'VW' }));
          await discardBody(gone.body);
          if (gone.status !== 404) await requireSuccess(gone);
          break;
        }
        request = preAuthed(this.req, { method: 'DELETE', path: this.path(this.archive, version.name), source: 'VW' });
      } else {
        const restored = await this.restore(version.name);
        if (restored === undefined) continue;
        request = preAuthed(this.req, { method: 'DELETE', path: restored, source: 'VW' });
      }
      delete request.headers['x-if-delete-at'];
      break;
    }
    return this.next(request);
  }

  /** Swift's `_restore_data`: an archived version copied over the object; its archive path, or undefined when it is gone. */
  private async restore(name: string): Promise<string | undefined> {
    const path = this.path(this.archive, name);
    const stored = await readStoredObject(this.next, this.req, path, 'VW', this.ctx.constraints.max_file_size);
    if (stored.status === 404) {
      await discardBody(stored.body);
      return undefined;
    }
    await requireSuccess(stored);
    await requireSuccess(await writeStoredObject(this.next, this.req, this.path(this.target.container, this.target.object), stored, 'VW'));
    return path;
  }

  /** The archived versions of the object, newest first (Swift's `_listing_iter`, reversed pages). */
  private async *archivedVersions(): AsyncGenerator<{ name: string; content_type: string }> {
    const prefix = legacyVersionsPrefix(this.target.object);
    let marker = '';
    for (;;) {
      const query = new URLSearchParams({ prefix, marker, reverse: 'on', format: 'json' });
      const page = await respond(this.next, preAuthed(this.req, { method: 'GET', path: `/${this.target.version}/${quotePath(this.target.account)}/${quotePath(this.archive)}`, query, source: 'VW' }));
      if (!isSuccess(page.status)) {
        await discardBody(page.body);
        if (page.status === 404) return;
        throw new HttpError(page.status >= 400 && page.status < 500 ? 412 : 500);
      }
      const text = (await readWhole(page.body, 64 * 1024 * 1024)).toString('utf8');
      const rows = text === '' ? [] : (JSON.parse(text) as { name: string; content_type: string }[]);
      if (rows.length === 0) return;
      yield* rows;
      marker = (rows.at(-1) as { name: string }).name;
    }
  }
}
