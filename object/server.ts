import { createHash } from 'node:crypto';
import type { Clock } from '../common/clock.ts';
import { type ConfigOf, isTrueValue } from '../common/config.ts';
import { validateInternalNames } from '../common/reserved-name.ts';
import { checkMetadata, checkObjectName, checkObjectSize, deleteAtFrom, type HeaderBag, headerToUtf8 } from '../common/constraints.ts';
import { ConstraintError } from '../common/errors.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import { ClientDisconnectError, pumpBody, readBody } from '../common/http/body-reader.ts';
import { claimedHashes } from '../common/http/put-hash-headers.ts';
import { BlockChecksumsHash, BOUNDARY_HEADER, blockChecksumsSize, CHECKSUM_HEADER, FOOTER_HEADER, FooteredBody, OBJ_LENGTH_HEADER, readFooteredBody, XXH64_CHECKSUM } from '../common/http/put-footer.ts';
import { createXxh64 } from '../common/hash-path.ts';
import { splitPath, validateDevicePartition } from '../common/http/backend-path.ts';
import { commonHttpError } from '../common/http/domain-status.ts';
import { normalizeEtag, parseMatch } from '../common/http/conditional.ts';
import { HttpError } from '../common/http/http-error.ts';
import { requestTimestamp } from '../common/http/request-timestamp.ts';
import type { Handler, ServerRequest, ServerResponse } from '../common/http/server.ts';
import { storageHandler } from '../common/http/storage-handler.ts';
import { titleCaseHeader } from '../common/http/title-case.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { Logger } from '../common/logger.ts';
import type { storageSchema } from '../common/storage-config.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { Timestamp } from '../common/timestamp.ts';
import type { AsyncPendingStore, AsyncUpdate } from './async-pending.ts';
import type { objectServerSchema } from './config.ts';
import { containerTargets, sendContainerUpdates } from './container-update.ts';
import { ContainerUpdateBatcher } from './container-update-batcher.ts';
import { updateExpirerQueue } from './expirer-updates.ts';
import { DiskFileDeleted, DiskFileNoSpace, DiskFileNotExist } from './diskfile/errors.ts';
import type { DiskFileRouter } from './diskfile/router.ts';
import type { DiskFile, DiskFileManager, Metadata, ObjectLocation, ObjectState } from './diskfile/types.ts';
import { UnknownPolicyError } from '../common/storage-policy.ts';
import { isReturnedMetadata, objectReadResponse, withWholeBody } from './read-response.ts';
import { localFileResponse } from './local-file-response.ts';
import { decodeOffers, encodeWants, SSYNC_PHASE_HEADER, SsyncProtocolError } from './ssync-protocol.ts';
import { applyUpdates, missingCheck } from './ssync-receiver.ts';
import { pack } from 'msgpackr';
import { BACKEND_IF_MATCH } from '../common/system-account.ts';

export interface ObjectServerConfig {
  readonly storage: ConfigOf<typeof storageSchema>;
  readonly objectServer: ConfigOf<typeof objectServerSchema>;
}

export interface ObjectServerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backend: BackendClient;
  /** The disk files of each storage policy; a request's `X-Backend-Storage-Policy-Index` picks one. */
  readonly diskFiles: DiskFileRouter;
  readonly pendings: AsyncPendingStore;
  /** The cluster's hash path (names the expirer's queue rows). */
  readonly hashPath: HashPath;
  /** Container updates shared with the other nodes of this process; by default the server's own. */
  readonly updates?: ContainerUpdateBatcher;
}

/**
 * The object server: Swift's backend protocol on
 * `/<device>/<partition>/<account>/<container>/<object>` (GET, HEAD, PUT, POST, DELETE) and
 * `REPLICATE /<device>/<partition>[/<suffix>-<suffix>...]`. Every write carries `X-Timestamp`
 * and the newest timestamp wins; PUT and DELETE update the container servers named in
 * `X-Container-*` before answering (async pending on failure). Domain errors become statuses
 * here and nowhere else.
 */
export class ObjectServer {
  private readonly config: ObjectServerConfig;
  private readonly deps: ObjectServerDeps;
  private readonly allowedHeaders: ReadonlySet<string>;
  /** Container updates, one request in flight per container replica (the rest batched). */
  private readonly updates: ContainerUpdateBatcher;
  /**
   * Conditional writes (`If-None-Match`, `X-Backend-If-Match`) of one object run one at a time,
   * from their check to their commit, so two of them never both pass a check on this replica.
   */
  private readonly conditional = new KeyedLock();

  /** The request handler to serve with `listen()`. */
  readonly handle: Handler;

  constructor(config: ObjectServerConfig, deps: ObjectServerDeps) {
    this.config = config;
    this.deps = deps;
    this.allowedHeaders = new Set(config.objectServer.allowed_headers.map((h) => h.toLowerCase()));
    this.updates = deps.updates ?? new ContainerUpdateBatcher({ backend: deps.backend, timeoutMs: config.objectServer.node_timeout * 1000 });
    this.handle = storageHandler({
      name: 'object-server',
      routes: { GET: this.read, HEAD: this.read, PUT: this.put, POST: this.post, DELETE: this.delete, REPLICATE: this.replicate, SSYNC: this.ssync },
      toHttpError,
      logger: deps.logger,
      clock: deps.clock,
      logRequests: config.objectServer.log_requests,
    });
  }

  async close(): Promise<void> {
    await this.deps.diskFiles.close();
  }

  /** The disk files of the request's storage policy. @throws {UnknownPolicyError} */
  private diskFiles(req: ServerRequest): DiskFileManager {
    return this.deps.diskFiles.get(req.headers['x-backend-storage-policy-index']);
  }

  private location(path: string): ObjectLocation {
    const parts = splitPath(path, 5, 5, true) as string[];
    const device = parts[0] as string;
    const partition = parts[1] as string;
    const account = parts[2] as string;
    const container = parts[3] as string;
    const object = parts[4] as string;
    checkObjectName(object, undefined, true);
    validateInternalNames(account, container, object);
    return { device, partition: validateDevicePartition(device, partition), account, container, object };
  }

  private readonly read = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const loc = this.location(path);
    const df = await this.diskFiles(req).diskFile(loc);
    const openExpired = isTrueValue(req.headers['x-backend-replication']);
    if (req.method === 'HEAD') return objectReadResponse(req, await df.readMetadata({ openExpired }), this.allowedHeaders);
    const reader = await df.open({ openExpired });
    const res = objectReadResponse(req, reader, this.allowedHeaders, reader);
    return localFileResponse(req, res, reader) ?? withWholeBody(res);
  };

  private readonly put = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    if (req.headers['if-none-match'] === undefined && req.headers[BACKEND_IF_MATCH] === undefined) return this.putObject(req, path);
    return this.conditional.run(path, () => this.putObject(req, path));
  };

  private readonly putObject = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const loc = this.location(path);
    const timestamp = requestTimestamp(req.headers);
    // A footered body's own length is its header's (the request's covers the MIME document).
    const footered = isTrueValue(req.headers[FOOTER_HEADER]);
    const objLength = req.headers[OBJ_LENGTH_HEADER];
    checkObjectSize(footered && objLength !== undefined ? { ...req.headers, 'content-length': objLength } : req.headers);
    const contentType = req.headers['content-type'];
    if (contentType === undefined) throw new ConstraintError('bad_request', 'No content type');
    if (headerToUtf8(contentType) === undefined) throw new ConstraintError('bad_request', 'Invalid Content-Type');
    checkMetadata(req.headers, 'object');
    const deleteAt = deleteAtFrom(req.headers, this.deps.clock.now() / 1000);
    const df = await this.diskFiles(req).diskFile(loc);
    const existing = await currentState(df);
    const ifNoneMatch = parseMatch(req.headers['if-none-match']);
    if (ifNoneMatch && existing.state && (ifNoneMatch.has('*') || ifNoneMatch.has(existing.state.metadata['ETag'] ?? ''))) {
      throw new HttpError(412);
    }
    checkBackendIfMatch(req.headers, existing.state);
    if (existing.timestamp.compare(timestamp) >= 0) throw new HttpError(409, undefined, { 'X-Backend-Timestamp': existing.timestamp.internal });

    // A proxy may send the body in a MIME document with a footer after it (Swift's metadata
    // footer); its length header then covers the document, and the body's is its own header.
    const boundary = req.headers[BOUNDARY_HEADER];
    if (footered && !boundary) throw new HttpError(400, 'no MIME boundary');
    const length = footered ? objLength : req.headers['content-length'];
    const expected = length === undefined ? undefined : Number(length);
    // With a cheap checksum of the body in the footer, that is checked instead of hashing MD5
    // again: the proxy computed the MD5 once, over the same bytes. The xxHash64 of the block
    // checksums is what the writer computes anyway when its blocks are that size.
    // A whole body's hashes may come in headers instead (the proxy's mid-size PUTs).
    const claimed = footered ? undefined : claimedHashes(req.headers);
    const kind = footered || claimed ? req.headers[CHECKSUM_HEADER] : undefined;
    const blockSize = blockChecksumsSize(kind);
    const checksummed = kind === XXH64_CHECKSUM || blockSize !== undefined;
    const writer = await df.create(expected);
    const writerSums = blockSize === undefined ? undefined : writer.digestBlockChecksums?.(blockSize);
    const hash = writerSums ? undefined : blockSize !== undefined ? new BlockChecksumsHash(blockSize) : checksummed ? createXxh64() : createHash('md5');
    try {
      const idleMs = this.config.objectServer.client_timeout * 1000;
      let footer: Record<string, string> = {};
      if (footered && expected !== undefined) {
        // A streamed body of known length (the proxy's large PUTs) is taken chunk by chunk as
        // it arrives, without a promise per chunk (only a disk write is waited for). Small
        // whole bodies keep `readBody`: the new path was measured for large PUTs only.
        const mime = new FooteredBody(boundary as string, expected);
        // With the length known, the parser passes on at most one piece per chunk.
        let piece: Buffer | undefined;
        const emit = (data: Buffer): void => {
          piece = data;
        };
        await pumpBody(req.body, idleMs, (chunk) => {
          piece = undefined;
          mime.take(chunk, emit);
          if (!piece) return undefined;
          hash?.update(piece);
          return writer.writeNow ? writer.writeNow(piece) : writer.write(piece);
        });
        footer = mime.end();
      } else {
        const body = readBody(req.body, idleMs);
        const mime = footered ? readFooteredBody(body, boundary as string) : undefined;
        for await (const chunk of mime ? mime.data : body) {
          hash?.update(chunk);
          await writer.write(chunk);
        }
        if (mime) footer = mime.footer();
        else if (claimed) footer = claimed;
      }
      // (Only a MIME body can run past its length: Swift takes either as a client disconnect.)
      if (expected !== undefined && writer.bytesWritten !== expected) throw new ClientDisconnectError(`body of ${writer.bytesWritten} bytes, ${expected} announced`);
      let etag: string;
      if (checksummed) {
        const sum = writerSums ? writerSums() : (hash as { digestHex(): string }).digestHex();
        if (footer[CHECKSUM_HEADER] !== sum) throw new HttpError(422, `body checksum mismatch: body has ${kind} ${sum}`);
        etag = (footer['etag'] ?? '').toLowerCase();
        if (!/^[0-9a-f]{32}$/.test(etag)) throw new HttpError(400, 'no ETag in the footer');
      } else {
        etag = (hash as ReturnType<typeof createHash>).digest('hex');
        if (footer['etag'] !== undefined && normalizeEtag(footer['etag']).toLowerCase() !== etag) throw new HttpError(422, `ETag mismatch: body has ${etag}`);
      }
      const sent = req.headers['etag'];
      if (sent !== undefined && normalizeEtag(sent).toLowerCase() !== etag) throw new HttpError(422, `ETag mismatch: body has ${etag}`);
      const metadata: Record<string, string> = {
        name: `/${loc.account}/${loc.container}/${loc.object}`,
        'X-Timestamp': timestamp.internal,
        'Content-Type': contentType,
        'Content-Length': String(writer.bytesWritten),
        ETag: etag,
        ...this.storedHeaders(req.headers, true),
      };
      if (deleteAt !== undefined) metadata['X-Delete-At'] = String(deleteAt);
      await writer.commit(metadata);
      await this.updateContainers(req, loc, df, timestamp, 'PUT', {
        'x-size': String(writer.bytesWritten),
        'x-content-type': contentType,
        'x-timestamp': timestamp.internal,
        'x-etag': etag,
        ...containerOverrides(metadata),
      });
      await this.queueExpiry(req, loc, timestamp, deleteAtOf(existing.state?.metadata ?? existing.expiredMetadata), deleteAt);
      return { status: 201, headers: { ETag: etag } };
    } catch (err) {
      await writer.abort();
      throw err;
    }
  };

  private readonly post = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const loc = this.location(path);
    const timestamp = requestTimestamp(req.headers);
    checkMetadata(req.headers, 'object');
    const deleteAt = deleteAtFrom(req.headers, this.deps.clock.now() / 1000);
    const df = await this.diskFiles(req).diskFile(loc);
    const state = await df.readMetadata();
    if (state.timestamp.compare(timestamp) >= 0) throw new HttpError(409, undefined, { 'X-Backend-Timestamp': state.timestamp.internal });
    const metadata: Record<string, string> = { 'X-Timestamp': timestamp.internal, ...this.storedHeaders(req.headers, false) };
    if (deleteAt !== undefined) metadata['X-Delete-At'] = String(deleteAt);
    const contentType = req.headers['content-type'];
    if (contentType !== undefined) {
      metadata['Content-Type'] = contentType;
      metadata['Content-Type-Timestamp'] = timestamp.internal;
    } else if (state.metaFileMetadata?.['Content-Type-Timestamp'] !== undefined) {
      // Keep a content type an earlier POST set: it lives only in the .meta being replaced.
      metadata['Content-Type'] = state.metadata['Content-Type'] ?? '';
      metadata['Content-Type-Timestamp'] = state.metaFileMetadata['Content-Type-Timestamp'];
    }
    await df.writeMetadata(metadata);
    // Every POST updates the containers, as Swift's does: the row's metadata time moves (container
    // sync sends the object again), and its content type when the POST set one.
    const ctypeTimestamp = metadata['Content-Type-Timestamp'] ?? state.dataTimestamp.internal;
    let ctype = metadata['Content-Type'] ?? state.dataFileMetadata['Content-Type'] ?? '';
    const swiftBytes = /;\s*swift_bytes=([^;]*)/.exec(state.dataFileMetadata['Content-Type'] ?? '')?.[1];
    // A content type not from the data file keeps the data file's swift_bytes (SLO's size).
    if (ctypeTimestamp !== state.dataTimestamp.internal && swiftBytes !== undefined) ctype += `;swift_bytes=${swiftBytes}`;
    await this.updateContainers(req, loc, df, state.dataTimestamp, 'PUT', {
      'x-size': String(state.contentLength),
      'x-content-type': ctype,
      'x-timestamp': state.dataTimestamp.internal,
      'x-content-type-timestamp': ctypeTimestamp,
      'x-meta-timestamp': timestamp.internal,
      'x-etag': state.metadata['ETag'] ?? '',
      ...containerOverrides(state.metadata),
    });
    // A POST replaces X-Delete-At like all other metadata: leaving it out cancels expiry.
    await this.queueExpiry(req, loc, timestamp, deleteAtOf(state.metadata), deleteAt);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(state.metadata)) if (k.toLowerCase().startsWith('x-object-sysmeta-')) headers[k] = v;
    return { status: 202, headers };
  };

  private readonly delete = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    if (req.headers[BACKEND_IF_MATCH] === undefined) return this.deleteObject(req, path);
    return this.conditional.run(path, () => this.deleteObject(req, path));
  };

  private readonly deleteObject = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const loc = this.location(path);
    const timestamp = requestTimestamp(req.headers);
    const df = await this.diskFiles(req).diskFile(loc);
    const existing = await currentState(df);
    checkBackendIfMatch(req.headers, existing.state);
    let status = existing.state ? 204 : 404;
    if (existing.state && existing.timestamp.compare(timestamp) >= 0) status = 409;
    const ifDeleteAt = req.headers['x-if-delete-at'];
    if (ifDeleteAt !== undefined) {
      // The expirer's delete: only of the object it queued, at the time it was queued for.
      if (!/^\d+$/.test(ifDeleteAt.trim())) throw new HttpError(400, 'Bad X-If-Delete-At header value');
      if (existing.timestamp.ticks === 0) throw new HttpError(404);
      if (existing.timestamp.compare(timestamp) >= 0) throw new HttpError(409);
      if (Number(existing.expiredMetadata?.['X-Delete-At'] ?? existing.state?.metadata['X-Delete-At'] ?? 0) !== Number(ifDeleteAt)) {
        throw new HttpError(412, 'X-If-Delete-At and X-Delete-At do not match');
      }
      status = 204;
    }
    const responseTimestamp = existing.timestamp.compare(timestamp) > 0 ? existing.timestamp : timestamp;
    if (existing.timestamp.compare(timestamp) < 0) {
      await df.delete(timestamp);
      await this.updateContainers(req, loc, df, timestamp, 'DELETE', { 'x-timestamp': timestamp.internal });
      // The expirer pops its own row; any other delete drops the object's row from the queue.
      if (ifDeleteAt === undefined) await this.queueExpiry(req, loc, timestamp, deleteAtOf(existing.state?.metadata ?? existing.expiredMetadata), undefined);
    }
    if (status === 404) throw new HttpError(404, undefined, { 'X-Backend-Timestamp': responseTimestamp.internal });
    if (status === 409) throw new HttpError(409, undefined, { 'X-Backend-Timestamp': responseTimestamp.internal });
    return { status: 204, headers: { 'X-Backend-Timestamp': responseTimestamp.internal } };
  };

  private readonly replicate = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const [device, partition, suffixes] = splitPath(path, 2, 3) as [string, string, string | undefined];
    const recalculate = (suffixes ?? '').split('-').filter((s) => /^[0-9a-f]{3}$/.test(s));
    const hashes = await this.diskFiles(req).getHashes(device, validateDevicePartition(device, partition), recalculate);
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(hashes) };
  };

  /** SSYNC (see `ssync-protocol.ts`): the missing check, or a stream of replicated updates. */
  private readonly ssync = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const [device, part] = splitPath(path, 2, 2) as [string, string];
    const partition = validateDevicePartition(device, part);
    const phase = req.headers[SSYNC_PHASE_HEADER];
    if (phase === 'missing-check') {
      const chunks: Buffer[] = [];
      for await (const chunk of readBody(req.body, this.config.objectServer.client_timeout * 1000)) chunks.push(chunk);
      const wants = await missingCheck(this.diskFiles(req), device, partition, decodeOffers(Buffer.concat(chunks)));
      return { status: 200, headers: { 'Content-Type': 'application/x-msgpack' }, body: encodeWants(wants) };
    }
    if (phase === 'updates') {
      const result = await applyUpdates(this.diskFiles(req), device, partition, readBody(req.body, this.config.objectServer.client_timeout * 1000));
      return { status: 200, headers: { 'Content-Type': 'application/x-msgpack' }, body: pack(result) };
    }
    throw new HttpError(400, `unknown ${SSYNC_PHASE_HEADER}: ${String(phase)}`);
  };

  private async queueExpiry(req: ServerRequest, loc: ObjectLocation, timestamp: Timestamp, before: number | undefined, after: number | undefined): Promise<void> {
    await updateExpirerQueue(
      { updates: this.updates, pendings: this.deps.pendings, logger: this.deps.logger, hashPath: this.deps.hashPath },
      { ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) },
      loc,
      req.headers,
      timestamp,
    );
  }

  /** User metadata, transient sysmeta, and the allowed headers; sysmeta too on PUT. */
  private storedHeaders(headers: HeaderBag, withSysmeta: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || name === 'x-delete-at') continue;
      const sysmeta = name.startsWith('x-object-sysmeta-');
      if ((sysmeta && withSysmeta) || (!sysmeta && isReturnedMetadata(name, this.allowedHeaders))) out[titleCaseHeader(name)] = value;
    }
    return out;
  }

  private async updateContainers(req: ServerRequest, loc: ObjectLocation, df: DiskFile, timestamp: Timestamp, op: AsyncUpdate['op'], headers: Record<string, string>): Promise<void> {
    const targets = containerTargets(req.headers);
    if (targets.length === 0) return;
    const policy = req.headers['x-backend-storage-policy-index'];
    const update: AsyncUpdate = {
      op,
      account: loc.account,
      container: loc.container,
      obj: loc.object,
      headers: { ...headers, ...(policy !== undefined ? { 'x-backend-storage-policy-index': policy } : {}) },
    };
    await sendContainerUpdates(
      { updates: this.updates, pendings: this.deps.pendings, logger: this.deps.logger },
      update,
      targets,
      { device: loc.device, hash: df.hash, timestamp: timestamp.internal, transId: req.headers['x-trans-id'] },
    );
  }
}

/** What is there now: its state (if live), the timestamp to compare against, and expired metadata. */
/**
 * The proxy's `If-Match` on a write, for system accounts only (it forwards the client's as this
 * header there and drops it elsewhere, as Swift ignores `If-Match` on writes): the object must
 * exist with one of the listed ETags (`*`: any).
 * @throws {HttpError} 412 when it does not.
 */
function checkBackendIfMatch(headers: HeaderBag, state: ObjectState | undefined): void {
  const ifMatch = parseMatch(headers[BACKEND_IF_MATCH]);
  if (ifMatch === undefined) return;
  if (!state || !(ifMatch.has('*') || ifMatch.has(state.metadata['ETag'] ?? ''))) throw new HttpError(412);
}

async function currentState(df: DiskFile): Promise<{ state?: ObjectState; timestamp: Timestamp; expiredMetadata?: Metadata }> {
  try {
    const state = await df.readMetadata();
    return { state, timestamp: state.dataTimestamp };
  } catch (err) {
    if (err instanceof DiskFileDeleted) {
      const expired = (err as { metadata?: Metadata }).metadata;
      return { timestamp: err.timestamp, ...(expired ? { expiredMetadata: expired } : {}) };
    }
    if (err instanceof DiskFileNotExist) return { timestamp: new Timestamp(0) };
    throw err;
  }
}

function deleteAtOf(metadata: Metadata | undefined): number | undefined {
  const at = metadata?.['X-Delete-At'];
  return at === undefined || at === '' ? undefined : Number(at);
}

/** `x-object-sysmeta-container-update-override-etag` → `x-etag` (SLO sets these), as Swift does. */
function containerOverrides(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const prefix of ['x-backend-container-update-override-', 'x-object-sysmeta-container-update-override-']) {
    for (const [key, value] of Object.entries(metadata)) {
      if (key.toLowerCase().startsWith(prefix)) out[`x-${key.toLowerCase().slice(prefix.length)}`] = value;
    }
  }
  return out;
}


/** The edge: domain errors to statuses. */
function toHttpError(err: unknown): unknown {
  const common = commonHttpError(err);
  if (common) return common;
  if (err instanceof DiskFileNoSpace) return new HttpError(507, undefined, {}, { cause: err });
  if (err instanceof UnknownPolicyError) return new HttpError(503, err.message, {}, { cause: err });
  if (err instanceof SsyncProtocolError) return new HttpError(400, err.message, {}, { cause: err });
  if (err instanceof DiskFileDeleted) return new HttpError(404, undefined, { 'X-Backend-Timestamp': err.timestamp.internal }, { cause: err });
  if (err instanceof DiskFileNotExist) return new HttpError(404, undefined, {}, { cause: err });
  return err;
}
