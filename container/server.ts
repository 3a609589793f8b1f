import type { Clock } from '../common/clock.ts';
import type { ConfigOf } from '../common/config.ts';
import { allowsReservedNames, validateInternalNames } from '../common/reserved-name.ts';
import { checkAccountName, checkContainerName, checkObjectName } from '../common/constraints.ts';
import { lastModified, metadataFromHeaders, optionalTimestamp, policyIndexHeader, requiredCount, requiredText, toHeaderValue } from '../common/db/backend-headers.ts';
import { splitPath, validateDevicePartition } from '../common/http/backend-path.ts';
import { readWholeBody } from '../common/http/body-reader.ts';
import { requestTimestamp } from '../common/http/request-timestamp.ts';
import { storageHandler } from '../common/http/storage-handler.ts';
import { StoragePolicies } from '../common/storage-policy.ts';
import { type ContainerSyncRealms, validateSyncTo } from '../common/container-sync-realms.ts';
import { databaseHttpError } from '../common/db/database-http-error.ts';
import { DeviceDbs } from '../common/db/device-dbs.ts';
import { DatabaseAlreadyExistsError, DatabaseNotFoundError } from '../common/db/errors.ts';
import type { KvOpener } from '../common/db/kv.ts';
import { levelKvOpener } from '../common/db/level-kv.ts';
import { liveMetadata, type Metadata } from '../common/db/metadata.ts';
import { listingQuery, QueryParams } from '../common/db/query-params.ts';
import { serveReplicate } from '../common/db/replicator-rpc.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import { defaultErrorBody, HttpError } from '../common/http/http-error.ts';
import type { Handler, ServerRequest, ServerResponse } from '../common/http/server.ts';
import { containerToXml, listingContentType, listingToJson, listingToText, type ListingRecord } from '../common/listing-format.ts';
import type { Logger } from '../common/logger.ts';
import type { storageSchema } from '../common/storage-config.ts';
import { Timestamp } from '../common/timestamp.ts';
import { accountUpdatePlan, sendAccountUpdate } from './account-update.ts';
import { CONTAINER_DATADIR, type ContainerBroker, ContainerDatadir, type ContainerInfo, type ObjectListingEntry } from './backend.ts';
import type { containerServerSchema } from './config.ts';
import { extractSwiftBytes } from '../common/db/object-row.ts';

/** The largest UPDATE body (about 10,000 rows). */
const MAX_UPDATE_BYTES = 4 * 1024 * 1024;

/** The config sections the container server reads (from `validateConfig`). */
export interface ContainerServerConfig {
  readonly storage: ConfigOf<typeof storageSchema>;
  readonly containerServer: ConfigOf<typeof containerServerSchema>;
}

/** What the container server is given rather than makes. */
export interface ContainerServerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** For account updates. */
  readonly backend: BackendClient;
  /** The cluster's hash path (names the databases). */
  readonly hashPath: HashPath;
  /** The cluster's storage policies (Swift's POLICIES); default: policy 0 alone, `Policy-0`. */
  readonly policies?: StoragePolicies;
  /** Opens each device's store; default LevelDB (`LevelKv`). */
  readonly kvOpener?: KvOpener;
  /** The realms `X-Container-Sync-To` values may name; default: none. */
  readonly realms?: ContainerSyncRealms;
}

/** Headers a container keeps besides its metadata (Swift's `save_headers`). */
const SAVE_HEADERS = ['x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to'];

/** Accounts whose containers are created by their first object update (Swift's `.` prefix). */
const AUTO_CREATE_ACCOUNT_PREFIX = '.';

const ZERO = new Timestamp(0).internal;

interface Target {
  readonly device: string;
  readonly partition: number;
  readonly account: string;
  readonly container: string;
  readonly object: string | undefined;
}

/**
 * The container server (Swift's `ContainerController`): container databases over the backend
 * protocol, `VERB /<device>/<partition>/<account>/<container>[/<object>]`. Containers are
 * created, listed, changed and deleted here; object servers record their objects' PUTs and
 * DELETEs as rows; replicators use REPLICATE. Serve `handle` with `listen()`, then `close()`.
 */
export class ContainerServer {
  readonly handle: Handler;
  /** Each device's container databases; share it with the daemons of this node. */
  readonly datadirs: DeviceDbs<ContainerDatadir>;
  private readonly config: ContainerServerConfig;
  private readonly deps: ContainerServerDeps;
  /** Known policy indexes, for checking the policy headers. */
  private readonly policies: ReadonlyMap<number, string>;
  /** New containers' policy when the proxy names none (Swift's `POLICIES.default`). */
  private readonly defaultPolicy: number;
  private readonly saveHeaders: readonly string[];

  constructor(config: ContainerServerConfig, deps: ContainerServerDeps) {
    this.config = config;
    this.deps = deps;
    const policies = deps.policies ?? StoragePolicies.legacy();
    this.policies = policies.names();
    this.defaultPolicy = policies.default.index;
    this.saveHeaders = config.containerServer.allow_versions ? [...SAVE_HEADERS, 'x-versions-location'] : SAVE_HEADERS;
    const opener = deps.kvOpener ?? levelKvOpener({ sync: config.containerServer.db_fsync });
    this.datadirs = new DeviceDbs({
      devices: config.storage.devices,
      mountCheck: config.storage.mount_check,
      clock: deps.clock,
      datadir: CONTAINER_DATADIR,
      open: async (path) => new ContainerDatadir(await opener(path), { clock: deps.clock }),
    });
    this.handle = storageHandler({
      name: 'container-server',
      routes: { PUT: this.put, GET: this.get, HEAD: this.head, POST: this.post, DELETE: this.delete, REPLICATE: this.replicate, UPDATE: this.update },
      toHttpError: databaseHttpError,
      logger: deps.logger,
      clock: deps.clock,
      logRequests: config.containerServer.log_requests,
    });
  }

  /** Closes every database. Stop the HTTP server first. */
  close(): Promise<void> {
    return this.datadirs.close();
  }

  /** Splits and checks `/<device>/<partition>/<account>/<container>[/<object>]`. */
  private target(path: string, allowObject: boolean): Target {
    const [device, part, account, container, object] = splitPath(path, 4, allowObject ? 5 : 4, allowObject) as [string, string, string, string, string | undefined];
    const partition = validateDevicePartition(device, part);
    checkAccountName(account, undefined, true);
    checkContainerName(container, undefined, true);
    if (object) checkObjectName(object, undefined, true);
    validateInternalNames(account, container, object);
    return { device, partition, account, container, object: object || undefined };
  }

  private async broker(t: Target): Promise<ContainerBroker> {
    const datadir = await this.datadirs.get(t.device);
    return datadir.broker(this.deps.hashPath.hash(t.account, t.container));
  }

  private readonly put = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, true);
    const timestamp = requestTimestamp(req.headers);
    if (t.object === undefined) this.checkSyncTo(req);
    const datadir = await this.datadirs.get(t.device);
    const requestedPolicy = policyIndexHeader(req.headers, this.policies);
    const broker = datadir.broker(this.deps.hashPath.hash(t.account, t.container));
    if (t.object !== undefined) {
      const update = {
        name: t.object,
        timestamp,
        size: requiredCount(req.headers, 'x-size'),
        contentType: requiredText(req.headers, 'x-content-type'),
        etag: requiredText(req.headers, 'x-etag'),
        storagePolicyIndex: requestedPolicy ?? 0,
        contentTypeTimestamp: optionalTimestamp(req.headers, 'x-content-type-timestamp'),
        metaTimestamp: optionalTimestamp(req.headers, 'x-meta-timestamp'),
      };
      await this.maybeAutoCreate(broker, t, timestamp, update.storagePolicyIndex);
      await broker.putObject(update);
      return { status: 201 };
    }
    accountUpdatePlan(req.headers); // checks the X-Account-* headers before anything is written
    const metadata = metadataFromHeaders(req.headers, 'container', timestamp, this.saveHeaders);
    const newPolicy = requestedPolicy ?? policyIndexHeader(req.headers, this.policies, 'x-backend-storage-policy-default') ?? this.defaultPolicy;
    const created = await this.updateOrCreate(broker, t, timestamp, metadata, newPolicy, requestedPolicy);
    const info = await this.requireInfo(broker);
    if (info.partition !== t.partition) await broker.setPartition(t.partition);
    if ((await this.accountUpdate(req, t, info)) === 'not_found') throw new HttpError(404);
    const headers = { 'X-Backend-Storage-Policy-Index': String(info.storage_policy_index) };
    return created ? { status: 201, headers } : { status: 202, headers: { ...headers, 'Content-Type': 'text/html; charset=UTF-8' }, body: defaultErrorBody(202) };
  };

  /** A new `X-Container-Sync-To` must name a known realm and cluster, or an allowed host (Swift's 400s). */
  private checkSyncTo(req: ServerRequest): void {
    const value = req.headers['x-container-sync-to'];
    if (value === undefined) return;
    const target = validateSyncTo(value, this.config.containerServer.allowed_sync_hosts, this.deps.realms);
    if ('error' in target) throw new HttpError(400, target.error);
  }

  /** Swift's `_update_or_create` plus the metadata update; true when (re)created. */
  private async updateOrCreate(broker: ContainerBroker, t: Target, timestamp: Timestamp, metadata: Metadata, newPolicy: number, requestedPolicy: number | undefined): Promise<boolean> {
    try {
      await broker.initialize(timestamp, { account: t.account, container: t.container, partition: t.partition, storagePolicyIndex: newPolicy }, metadata);
      return true;
    } catch (err) {
      if (!(err instanceof DatabaseAlreadyExistsError)) throw err;
    }
    await broker.checkMetadataUpdate(metadata);
    const before = await broker.getState();
    if (!before) throw new DatabaseNotFoundError(broker.hash);
    const recreated = before.deleted;
    if (recreated) {
      await broker.setStoragePolicyIndex(newPolicy, timestamp);
    } else if (requestedPolicy !== undefined && requestedPolicy !== before.info.storage_policy_index) {
      throw new HttpError(409, undefined, { 'X-Backend-Storage-Policy-Index': String(before.info.storage_policy_index) });
    }
    await broker.updatePutTimestamp(timestamp.internal);
    // A PUT older than the container's delete leaves it deleted.
    if (await broker.isDeleted()) throw new HttpError(409);
    if (recreated) await broker.updateStatusChangedAt(timestamp.internal);
    await this.updateMetadata(broker, metadata, before.metadata);
    return recreated;
  }

  private async updateMetadata(broker: ContainerBroker, metadata: Metadata, old: Metadata): Promise<void> {
    if (Object.keys(metadata).length === 0) return;
    const syncTo = metadata['X-Container-Sync-To'];
    // A new sync target starts container sync over.
    if (syncTo && syncTo[0] !== old['X-Container-Sync-To']?.[0]) await broker.setXContainerSyncPoints(-1, -1);
    await broker.updateMetadata(metadata, true);
  }

  /** Containers of `.`-prefixed (system) accounts are made by their first object update. */
  private async maybeAutoCreate(broker: ContainerBroker, t: Target, timestamp: Timestamp, policy: number): Promise<void> {
    if (!t.account.startsWith(AUTO_CREATE_ACCOUNT_PREFIX) || (await broker.exists())) return;
    await broker.initialize(timestamp, { account: t.account, container: t.container, partition: t.partition, storagePolicyIndex: policy }).catch((err: unknown) => {
      if (!(err instanceof DatabaseAlreadyExistsError)) throw err;
    });
  }

  private async requireInfo(broker: ContainerBroker): Promise<ContainerInfo> {
    const info = await broker.getInfo();
    if (!info) throw new DatabaseNotFoundError(broker.hash);
    return info;
  }

  private accountUpdate(req: ServerRequest, t: Target, info: ContainerInfo): Promise<'not_found' | 'done'> {
    return sendAccountUpdate(
      accountUpdatePlan(req.headers),
      { backend: this.deps.backend, logger: this.deps.logger, timeoutMs: this.config.containerServer.node_timeout * 1000 },
      { account: t.account, container: t.container, headers: req.headers },
      info,
    );
  }

  private readonly delete = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, true);
    const timestamp = requestTimestamp(req.headers);
    const datadir = await this.datadirs.get(t.device);
    const policy = policyIndexHeader(req.headers, this.policies) ?? 0;
    const broker = datadir.broker(this.deps.hashPath.hash(t.account, t.container));
    if (t.object !== undefined) {
      await this.maybeAutoCreate(broker, t, timestamp, policy);
      await broker.deleteObject(t.object, timestamp, policy);
      return { status: 204 };
    }
    accountUpdatePlan(req.headers);
    const before = await broker.getState();
    if (!before) throw new DatabaseNotFoundError(broker.hash);
    if (before.info.object_count > 0) throw new HttpError(409);
    const existed = before.info.put_timestamp > ZERO && !before.deleted;
    await broker.deleteDb(timestamp.internal);
    // An object arrived meanwhile, or the container was put again after this delete.
    if (!(await broker.isDeleted())) throw new HttpError(409);
    const info = await this.requireInfo(broker);
    if ((await this.accountUpdate(req, t, info)) === 'not_found') throw new HttpError(404);
    if (!existed) throw new HttpError(404);
    return { status: 204 };
  };

  private readonly post = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, false);
    const timestamp = requestTimestamp(req.headers);
    this.checkSyncTo(req);
    const metadata = metadataFromHeaders(req.headers, 'container', timestamp, this.saveHeaders);
    const broker = await this.broker(t);
    const state = await broker.getState();
    if (!state || state.deleted) throw new HttpError(404);
    await broker.checkMetadataUpdate(metadata);
    await broker.updatePutTimestamp(timestamp.internal);
    await this.updateMetadata(broker, metadata, state.metadata);
    return { status: 204 };
  };

  private readonly head = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, true);
    const contentType = listingContentType(new QueryParams(req.rawQuery).get('format'), req.headers['accept']);
    const state = await (await this.broker(t)).getState();
    if (!state || state.deleted) throw new HttpError(404, undefined, backendHeaders(state?.info));
    return {
      status: 204,
      headers: { ...this.infoHeaders(state.info, state.metadata), 'Content-Type': `${contentType}; charset=utf-8`, 'Content-Length': '0' },
    };
  };

  private readonly get = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, true);
    const params = new QueryParams(req.rawQuery);
    const query = listingQuery(params, 10_000, true, allowsReservedNames(req.headers));
    const contentType = listingContentType(params.get('format'), req.headers['accept']);
    const broker = await this.broker(t);
    const state = await broker.getState();
    if (!state || state.deleted) throw new HttpError(404, undefined, backendHeaders(state?.info));
    // The rows of another policy than the container's are listed when asked for (misplaced objects).
    const policy = policyIndexHeader(req.headers, this.policies) ?? state.info.storage_policy_index;
    const entries = await broker.listObjects(query, policy);
    const lastModified = isoformatter();
    const listing = entries.map((e) => listingRecord(e, lastModified));
    const body = contentType.endsWith('/xml') ? containerToXml(listing, t.container) : contentType === 'application/json' ? listingToJson(listing) : listingToText(listing);
    const headers = { ...this.infoHeaders(state.info, state.metadata), 'X-Backend-Record-Type': 'object', 'X-Backend-Record-Storage-Policy-Index': String(policy), 'Content-Type': `${contentType}; charset=utf-8` };
    return body === '' ? { status: 204, headers: { ...headers, 'Content-Length': '0' } } : { status: 200, headers, body };
  };

  /**
   * Swift's `UPDATE`: object rows to merge, a JSON list of `{name, created_at, size,
   * content_type, etag, deleted, storage_policy_index, ctype_timestamp, meta_timestamp}`. Object
   * servers send the updates that queued up while their last one to this container was in
   * flight, so a busy container takes one request and one commit for many objects.
   */
  private readonly update = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, false);
    const timestamp = requestTimestamp(req.headers);
    const policy = policyIndexHeader(req.headers, this.policies) ?? 0;
    const body = await readWholeBody(req.body, this.config.containerServer.node_timeout * 1000, MAX_UPDATE_BYTES, () => new HttpError(413, `an UPDATE body is at most ${MAX_UPDATE_BYTES} bytes`));
    let items: unknown;
    try {
      items = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `UPDATE body is not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(items)) throw new HttpError(400, 'UPDATE body must be a JSON list of object rows');
    const broker = await this.broker(t);
    await this.maybeAutoCreate(broker, t, timestamp, policy);
    await broker.mergeWireItems(items);
    return { status: 202 };
  };

  private readonly replicate = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const [device, part, hash] = splitPath(path, 3) as [string, string, string];
    const partition = validateDevicePartition(device, part);
    const datadir = await this.datadirs.get(device);
    return serveReplicate(req.body, datadir.broker(hash), partition);
  };

  /** Swift's `gen_resp_headers` for a live container, plus its metadata. */
  private infoHeaders(info: ContainerInfo, metadata: Metadata): Record<string, string> {
    const headers: Record<string, string> = {
      ...backendHeaders(info),
      'X-Container-Object-Count': String(info.object_count),
      'X-Container-Bytes-Used': String(info.bytes_used),
      'X-Timestamp': Timestamp.parse(info.created_at).normal,
      'X-Put-Timestamp': Timestamp.parse(info.put_timestamp).normal,
      'X-Backend-Sharding-State': 'unsharded',
      'Last-Modified': lastModified(info.put_timestamp),
    };
    for (const [key, value] of liveMetadata(metadata)) {
      const lower = key.toLowerCase();
      if (this.saveHeaders.includes(lower) || lower.startsWith('x-container-meta-') || lower.startsWith('x-container-sysmeta-')) headers[toHeaderValue(key)] = toHeaderValue(value);
    }
    return headers;
  }
}

/** The backend headers every HEAD/GET carries, even a 404 (zeros when there is no database). */
function backendHeaders(info: ContainerInfo | undefined): Record<string, string> {
  return {
    'X-Backend-Timestamp': info?.created_at ?? ZERO,
    'X-Backend-Put-Timestamp': info?.put_timestamp ?? ZERO,
    'X-Backend-Delete-Timestamp': info?.delete_timestamp ?? ZERO,
    'X-Backend-Status-Changed-At': info?.status_changed_at ?? ZERO,
    'X-Backend-Storage-Policy-Index': String(info?.storage_policy_index ?? 0),
  };
}

/**
 * A listing entry as Swift's container server shapes it (`update_data_record`): bytes, hash,
 * name, content_type, last_modified, with a large object's `swift_bytes` as its size.
 */
export function listingRecord(entry: ObjectListingEntry, lastModified: (internal: string) => string = isoformatter()): ListingRecord {
  if ('subdir' in entry) return { subdir: entry.subdir };
  const [contentType, swiftBytes] = extractSwiftBytes(entry.content_type);
  const bytes = swiftBytes !== undefined && /^\s*[+-]?\d+\s*$/.test(swiftBytes) ? Number(swiftBytes) : entry.size;
  return { bytes, hash: entry.etag, name: entry.name, content_type: contentType, last_modified: lastModified(entry.meta_timestamp) };
}

/**
 * `Timestamp.isoformat` of stored (internal-form) timestamps, reusing the date and time of
 * the previous one when the second is the same: rows written together share it, and a page
 * of 10,000 rows would otherwise format 10,000 dates.
 */
function isoformatter(): (internal: string) => string {
  let second = '';
  let prefix = '';
  return (internal) => {
    // Internal form: 10 digits of seconds, '.', 5 digits (then maybe '_' and an offset).
    const whole = internal.slice(0, 10);
    if (whole !== second) {
      second = whole;
      prefix = Timestamp.parse(whole).isoformat.slice(0, 19);
    }
    return `${prefix}.${internal.slice(11, 16)}0`;
  };
}

