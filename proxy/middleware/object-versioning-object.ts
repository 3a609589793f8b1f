import { isTrueValue } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { ALLOW_RESERVED_NAMES_HEADER } from '../../common/reserved-name.ts';
import { Timestamp } from '../../common/timestamp.ts';
import type { ProxyContext } from '../context.ts';
import type { ContainerInfo } from '../info-cache.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import type { SwiftPath } from '../swift-path.ts';
import {
  DELETE_MARKER_CONTENT_TYPE, splitVersionName, SYSMETA_VERSIONS_SYMLINK, versionsContainerName, versionsObjectName,
} from './object-versioning-names.ts';
import { discardBody, headerOf, isSuccess, lowerCaseHeaders, readWhole, respond } from './subresponse.ts';
import {
  SYSMETA_ALLOW_RESERVED_NAMES, SYSMETA_SYMLOOP_EXTEND, SYSMETA_TARGET_BYTES, SYSMETA_TARGET_ETAG, TARGET, TARGET_ACCOUNT,
} from './symlink-headers.ts';
import { authorizeWrite, preAuthed, readStoredObject, writeStoredObject } from './version-copy.ts';
import { quotePath, unquoteHeader } from './url-quote.ts';

/** The object a request is for. */
export interface ObjectPath extends SwiftPath {
  readonly container: string;
  readonly object: string;
}

const NO_VERSIONS_CONTAINER = 'The versions container does not exist. You may want to re-enable object versioning.';
const RESERVED_ALLOWED = { [ALLOW_RESERVED_NAMES_HEADER]: 'true' } as const;

/** `unquote` of a path or header value, kept as it is when it is not UTF-8. */
function unquote(value: string): string {
  return unquoteHeader(value, true) ?? value;
}

/** A request body of no bytes. */
const NO_BODY: AsyncIterable<Uint8Array> = {
  async *[Symbol.asyncIterator]() {
    // nothing
  },
};

/** Counts the bytes of a body as they pass (the size of a chunked upload). */
class CountedBody implements AsyncIterable<Uint8Array> {
  bytes = 0;
  private readonly body: AsyncIterable<Uint8Array>;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.body = body;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for await (const chunk of this.body) {
      this.bytes += chunk.length;
      yield chunk;
    }
  }
}

/**
 * Object requests in a container with object versioning (Swift's `ObjectContext`): data goes
 * to the hidden versions container and the object itself becomes a static link to it, so
 * versions are never copied, only linked; `?version-id=` reads, deletes, or (PUT) makes current
 * one version.
 */
export class VersionedObject {
  private readonly ctx: ProxyContext;
  private readonly next: ProxyHandler;
  private readonly req: ProxyRequest;
  private readonly target: ObjectPath;
  private readonly info: ContainerInfo;
  /** The hidden container, '' when the container was never versioned. */
  private readonly versions: string;

  constructor(ctx: ProxyContext, next: ProxyHandler, req: ProxyRequest, target: ObjectPath, info: ContainerInfo, versions: string) {
    this.ctx = ctx;
    this.next = next;
    this.req = req;
    this.target = target;
    this.info = info;
    this.versions = versions;
  }

  private path(container: string, object: string): string {
    return `/${this.target.version}/${quotePath(this.target.account)}/${quotePath(container)}/${quotePath(object)}`;
  }

  private get objectPath(): string {
    return this.path(this.target.container, this.target.object);
  }

  /** A request of the client's on the hidden version of the object (reserved names allowed). */
  private onVersion(version: Timestamp): ProxyRequest {
    const name = versionsObjectName(this.target.object, version);
    return { ...this.req, path: this.path(this.versions, name), headers: { ...this.req.headers, ...RESERVED_ALLOWED } };
  }

  /**
   * Swift's `_check_response_error`: a step that failed fails the request: a missing
   * container as 412, another client error as itself, a server error as 503.
   */
  private async requireSuccess(response: ServerResponse): Promise<void> {
    if (isSuccess(response.status)) return;
    const body = await readWhole(response.body, 64 * 1024).catch(() => Buffer.alloc(0));
    if (response.status === 404) throw new HttpError(412);
    if (response.status >= 400 && response.status < 500) throw new HttpError(response.status, body.length > 0 ? body.toString('utf8') : undefined, passedHeaders(response));
    throw new HttpError(503);
  }

  /** The client's write access to the container, checked before any backend request. */
  private authorizeWrite(): Promise<void> {
    return authorizeWrite(this.req, this.target, this.info, () => this.ctx.info.container(this.target.account, this.target.container, this.req.env.transId, { fresh: true }));
  }

  /** The request's timestamp, set now when the client gave none (Swift's `ensure_x_timestamp`). */
  private ensureTimestamp(): Timestamp {
    const given = this.req.headers['x-timestamp'];
    let timestamp: Timestamp;
    try {
      timestamp = given === undefined ? this.ctx.timestamps.next() : Timestamp.parse(given);
    } catch {
      throw new HttpError(400, `X-Timestamp should be a UNIX timestamp float value; was ${JSON.stringify(given)}`);
    }
    this.req.headers['x-timestamp'] = timestamp.normal;
    return timestamp;
  }

  /**
   * Swift's `_copy_current`: an object written while versioning was off (not yet a link to a
   * version) is copied into the versions container first, so it becomes a version too.
   */
  private async copyCurrent(): Promise<void> {
    await this.authorizeWrite();
    const current = await readStoredObject(this.next, this.req, this.objectPath, 'OV', this.ctx.constraints.max_file_size);
    if (current.status === 404) {
      await discardBody(current.body);
      return;
    }
    await this.requireSuccess(current);
    if (headerOf(current, SYSMETA_VERSIONS_SYMLINK) === 'true') {
      await discardBody(current.body);
      return;
    }
    const stamp = Timestamp.parse(headerOf(current, 'x-timestamp') ?? '0');
    const put = await writeStoredObject(this.next, this.req, this.path(this.versions, versionsObjectName(this.target.object, stamp)), current, 'OV', RESERVED_ALLOWED);
    if (put.status === 404) throw new HttpError(500, NO_VERSIONS_CONTAINER, { 'Content-Type': 'text/plain' });
    await this.requireSuccess(put);
  }

  /** A client request without `?version-id` (Swift's `handle_request`). */
  async request(enabled: boolean): Promise<ServerResponse> {
    switch (this.req.method) {
      case 'PUT':
        return enabled ? this.put() : this.next(this.req);
      case 'POST':
        return this.post();
      case 'DELETE':
        return enabled ? this.delete() : this.next(this.req);
      default:
        return this.read();
    }
  }

  /**
   * PUT: the data goes to a new version in the hidden container (the object's own body,
   * streamed), then the object becomes a static link to it; `X-Object-Version-Id` names it.
   */
  private async put(): Promise<ServerResponse> {
    await this.copyCurrent();
    const timestamp = this.ensureTimestamp();
    const name = versionsObjectName(this.target.object, timestamp);
    const headers: Record<string, string | undefined> = { ...this.req.headers, ...RESERVED_ALLOWED };
    delete headers['x-delete-at'];
    delete headers['x-delete-after'];
    const body = new CountedBody(this.req.body);
    const put = await respond(this.next, preAuthed(this.req, { method: 'PUT', path: this.path(this.versions, name), headers, body, source: 'OV' }));
    if (put.status === 404) {
      await discardBody(put.body);
      throw new HttpError(500, NO_VERSIONS_CONTAINER, { 'Content-Type': 'text/plain' });
    }
    await this.requireSuccess(put);
    await discardBody(put.body);
    const bytes = this.req.headers['x-object-sysmeta-slo-size'] ?? String(body.bytes);
    const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    return this.linkToVersion(name, headerOf(put, 'etag') ?? '', bytes, contentType, timestamp);
  }

  /**
   * Swift's `_put_symlink_to_version`: the object becomes a static link to version `name`
   * (just after the version's own timestamp), as the client's request.
   */
  private async linkToVersion(name: string, etag: string, bytes: string, contentType: string, timestamp: Timestamp): Promise<ServerResponse> {
    const headers: Record<string, string | undefined> = {
      ...this.req.headers,
      'x-timestamp': timestamp.withOffset(1).internal,
      [SYSMETA_TARGET_ETAG]: etag,
      [SYSMETA_TARGET_BYTES]: bytes,
      'content-type': contentType,
      'content-length': '0',
      [TARGET]: quotePath(`${this.versions}/${name}`),
      [SYSMETA_VERSIONS_SYMLINK]: 'true',
      [SYSMETA_SYMLOOP_EXTEND]: 'true',
      [SYSMETA_ALLOW_RESERVED_NAMES]: 'true',
      ...RESERVED_ALLOWED,
    };
    for (const h of ['etag', 'x-if-delete-at', TARGET_ACCOUNT, 'x-object-manifest', 'x-static-large-object', 'x-object-sysmeta-slo-etag', 'x-object-sysmeta-slo-size', 'transfer-encoding']) delete headers[h];
    const link = subrequest(this.req, { method: 'PUT', path: this.objectPath, query: this.req.query, headers, body: NO_BODY, source: 'OV' });
    const response = await respond(this.next, link);
    return { ...response, headers: { ...lowerCaseHeaders(response.headers), etag, 'x-object-version-id': (splitVersionName(name).version as Timestamp).internal } };
  }

  /**
   * POST: it lands on the link (which answers 307 to its version): the metadata then goes to
   * the current version as well, so reads through the link see it.
   */
  private async post(): Promise<ServerResponse> {
    const headers: Record<string, string | undefined> = { ...this.req.headers, ...RESERVED_ALLOWED };
    delete headers['x-delete-at'];
    delete headers['x-delete-after'];
    const response = await respond(this.next, this.req);
    const found = lowerCaseHeaders(response.headers);
    if (response.status !== 307 || !isTrueValue(found[SYSMETA_VERSIONS_SYMLINK] ?? 'false')) return response;
    const location = found['location'] ?? '';
    const [, account, container] = unquote(location).split('/').slice(1);
    if (account !== this.target.account || container !== this.versions) return response;
    await discardBody(response.body);
    return this.next(preAuthed(this.req, { method: 'POST', path: location, headers, source: 'OV' }));
  }

  /** DELETE: the current data is kept as a version and a delete marker records when it went. */
  private async delete(): Promise<ServerResponse> {
    await this.copyCurrent();
    const timestamp = this.ensureTimestamp();
    const name = versionsObjectName(this.target.object, timestamp);
    const marker = await respond(this.next, preAuthed(this.req, { method: 'PUT', path: this.path(this.versions, name), headers: { 'content-type': DELETE_MARKER_CONTENT_TYPE, 'content-length': '0', ...RESERVED_ALLOWED }, source: 'OV' }));
    await this.requireSuccess(marker);
    await discardBody(marker.body);
    const response = await respond(this.next, this.req);
    await discardBody(response.body);
    if (!isSuccess(response.status) && response.status !== 404) return { ...response, body: null };
    return { ...response, headers: { ...lowerCaseHeaders(response.headers), 'x-object-version-id': timestamp.internal, 'x-backend-content-type': DELETE_MARKER_CONTENT_TYPE }, body: null };
  }

  /**
   * GET, HEAD (and any other method): as any object; a read through the link to a version
   * names the version (`X-Object-Version-Id`, `Content-Location` with `?version-id=`), a link
   * read with `?symlink=get` shows its target the same way.
   */
  private async read(): Promise<ServerResponse> {
    const response = await this.next(this.req);
    const headers = lowerCaseHeaders(response.headers);
    headers['x-object-version-id'] = 'null';
    const location = headers['content-location'];
    if (location) {
      // `/<version>/<account>/<container>/<object>` of the link's target.
      const [, , account, container, ...rest] = unquote(location).split('/');
      const version = splitVersionName(rest.join('/')).version;
      if (account === this.target.account && container === this.versions && version) {
        headers['x-object-version-id'] = version.internal;
        headers['content-location'] = `${quotePath(`/${this.target.version}/${this.target.account}/${this.target.container}/${this.target.object}`)}?version-id=${version.internal}`;
      }
    }
    const linkTarget = headers[TARGET] ? unquote(headers[TARGET]) : '';
    if (linkTarget) {
      const slash = linkTarget.indexOf('/');
      const version = slash > 0 && linkTarget.slice(0, slash) === this.versions ? splitVersionName(linkTarget.slice(slash + 1)).version : undefined;
      if (version) {
        headers['x-object-version-id'] = version.internal;
        headers[TARGET] = `${quotePath(`${this.target.container}/${this.target.object}`)}?version-id=${version.internal}`;
      }
    }
    return { ...response, headers };
  }

  /** A client request with `?version-id=` (Swift's `handle_versioned_request`). */
  async versionedRequest(version: string): Promise<ServerResponse> {
    if (this.req.method === 'POST') throw new HttpError(400, 'POST to a specific version is not allowed');
    if (!this.versions && version !== 'null') throw new HttpError(400, 'version-aware operations require that the container is versioned');
    let stamp: Timestamp | undefined;
    if (version !== 'null') {
      try {
        stamp = Timestamp.parse(version);
      } catch {
        throw new HttpError(400, 'Invalid version parameter');
      }
    }
    if (this.req.method === 'DELETE') return stamp === undefined ? this.next(this.req) : this.deleteVersion(stamp, version);
    if (this.req.method === 'PUT') return this.makeCurrent(stamp);
    if (stamp === undefined) return this.readNullVersion();
    const response = await this.next(this.onVersion(stamp));
    const headers = lowerCaseHeaders(response.headers);
    if (isSuccess(response.status)) headers['x-object-version-id'] = version;
    if ((headers['x-backend-content-type'] ?? headers['content-type']) === DELETE_MARKER_CONTENT_TYPE) {
      await discardBody(response.body);
      throw new HttpError(404, undefined, { 'X-Object-Version-Id': version, 'Content-Type': DELETE_MARKER_CONTENT_TYPE });
    }
    return { ...response, headers };
  }

  /** `?version-id=null`: the object written while versioning was off, if it is still current. */
  private async readNullVersion(): Promise<ServerResponse> {
    const response = await this.next(this.req);
    if (!isSuccess(response.status)) return response;
    const headers = lowerCaseHeaders(response.headers);
    if (unquote(headers['content-location'] ?? '').includes(versionsContainerName(''))) {
      // The current object is a version with a real id: there is no null version.
      await discardBody(response.body);
      throw new HttpError(404);
    }
    headers['x-object-version-id'] = 'null';
    return { ...response, headers };
  }

  /**
   * DELETE `?version-id=`: removes that version only; when it is the current one, the link
   * goes too (the object then reads as missing, or as its null version).
   */
  private async deleteVersion(stamp: Timestamp, version: string): Promise<ServerResponse> {
    const current = await respond(this.next, preAuthed(this.req, { method: 'HEAD', path: this.objectPath, query: 'symlink=get', headers: { 'x-newest': 'true' }, source: 'OV' }));
    await discardBody(current.body);
    const gone = current.status === 404;
    let linkTarget: string | undefined;
    if (!gone) {
      await this.requireSuccess(current);
      if (headerOf(current, SYSMETA_VERSIONS_SYMLINK) === 'true') linkTarget = headerOf(current, TARGET);
    }
    const wanted = `${this.versions}/${versionsObjectName(this.target.object, stamp)}`;
    let currentVersion = 'null';
    if (gone || !linkTarget || unquote(linkTarget) !== wanted) {
      if (!gone && linkTarget) {
        const slash = unquote(linkTarget).indexOf('/');
        currentVersion = splitVersionName(unquote(linkTarget).slice(slash + 1)).version?.internal ?? 'null';
      }
    } else {
      // The current version: the link goes first, then its data.
      const unlinked = await respond(this.next, { ...this.req, query: new URLSearchParams() });
      await this.requireSuccess(unlinked);
      await discardBody(unlinked.body);
    }
    const response = await respond(this.next, this.onVersion(stamp));
    return { ...response, headers: { ...lowerCaseHeaders(response.headers), 'x-object-version-id': version, 'x-object-current-version-id': currentVersion } };
  }

  /** PUT `?version-id=`: the object becomes a link to that version again (Swift's `handle_put_version`). */
  private async makeCurrent(stamp: Timestamp | undefined): Promise<ServerResponse> {
    if (await hasBody(this.req)) throw new HttpError(400, 'PUT version-id requests require a zero byte body', { 'Content-Type': 'text/plain' });
    // Swift takes `null` as a timestamp here too, and fails to parse it.
    if (stamp === undefined) throw new HttpError(400, 'Invalid version parameter');
    const name = versionsObjectName(this.target.object, stamp);
    const head = await respond(this.next, preAuthed(this.req, { method: 'HEAD', path: this.path(this.versions, name), query: 'symlink=get', headers: { ...RESERVED_ALLOWED }, source: 'OV' }));
    if (head.status === 404) {
      await discardBody(head.body);
      const hidden = await this.ctx.info.container(this.target.account, this.versions, this.req.env.transId);
      if (isSuccess(hidden.status)) throw new HttpError(404, 'The specified version does not exist', { 'Content-Type': 'text/plain' });
      throw new HttpError(500, NO_VERSIONS_CONTAINER, { 'Content-Type': 'text/plain' });
    }
    await this.requireSuccess(head);
    await discardBody(head.body);
    return this.linkToVersion(name, headerOf(head, 'etag') ?? '', headerOf(head, 'content-length') ?? '0', headerOf(head, 'content-type') ?? '', this.ensureTimestamp());
  }
}

/** Whether a request that must have none has a body (chunked: the first chunk tells). */
async function hasBody(req: ProxyRequest): Promise<boolean> {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) !== 0;
  for await (const chunk of req.body) if (chunk.length > 0) return true;
  return false;
}

/** An error answer's headers, without those describing its body. */
function passedHeaders(response: ServerResponse): Record<string, string> {
  const out = lowerCaseHeaders(response.headers);
  delete out['content-length'];
  delete out['content-type'];
  return out;
}
