import type { Clock } from '../common/clock.ts';
import type { ConfigOf } from '../common/config.ts';
import { allowsReservedNames, validateInternalNames } from '../common/reserved-name.ts';
import { checkAccountName, checkContainerName } from '../common/constraints.ts';
import { metadataFromHeaders, requiredCount, requiredTimestamp, toHeaderValue } from '../common/db/backend-headers.ts';
import { splitPath, validateDevicePartition } from '../common/http/backend-path.ts';
import { requestTimestamp } from '../common/http/request-timestamp.ts';
import { storageHandler } from '../common/http/storage-handler.ts';
import { databaseHttpError } from '../common/db/database-http-error.ts';
import { DeviceDbs } from '../common/db/device-dbs.ts';
import { DatabaseAlreadyExistsError, DatabaseNotFoundError } from '../common/db/errors.ts';
import type { KvOpener } from '../common/db/kv.ts';
import { levelKvOpener } from '../common/db/level-kv.ts';
import { liveMetadata } from '../common/db/metadata.ts';
import { listingQuery, QueryParams } from '../common/db/query-params.ts';
import { serveReplicate } from '../common/db/replicator-rpc.ts';
import type { HashPath } from '../common/hash-path.ts';
import { defaultErrorBody, HttpError } from '../common/http/http-error.ts';
import type { Handler, ServerRequest, ServerResponse } from '../common/http/server.ts';
import { accountToXml, listingContentType, listingToJson, listingToText, type ListingRecord } from '../common/listing-format.ts';
import type { Logger } from '../common/logger.ts';
import type { storageSchema } from '../common/storage-config.ts';
import { Timestamp } from '../common/timestamp.ts';
import { ACCOUNT_DATADIR, type AccountBroker, AccountDatadir, type AccountState, type ContainerListingEntry } from './backend.ts';
import type { accountServerSchema } from './config.ts';

/** The config sections the account server reads (from `validateConfig`). */
export interface AccountServerConfig {
  readonly storage: ConfigOf<typeof storageSchema>;
  readonly accountServer: ConfigOf<typeof accountServerSchema>;
}

/** What the account server is given rather than makes. */
export interface AccountServerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The cluster's hash path (names the databases). */
  readonly hashPath: HashPath;
  /** Storage policy names by index, for the per-policy headers; default: 0 → `Policy-0`. */
  readonly policies?: ReadonlyMap<number, string>;
  /** Opens each device's store; default LevelDB (`LevelKv`). */
  readonly kvOpener?: KvOpener;
}

/** Accounts created by their first container update (Swift's `.` prefix: system accounts). */
const AUTO_CREATE_ACCOUNT_PREFIX = '.';

interface Target {
  readonly device: string;
  readonly partition: number;
  readonly account: string;
  readonly container: string | undefined;
}

/**
 * The account server (Swift's `AccountController`): account databases over the backend
 * protocol, `VERB /<device>/<partition>/<account>[/<container>]`. Accounts are created, listed,
 * changed and deleted here; container servers (and later the container updater) report their
 * containers with `PUT /<device>/<partition>/<account>/<container>`; replicators use REPLICATE.
 * Serve `handle` with `listen()`, then `close()`.
 */
export class AccountServer {
  readonly handle: Handler;
  /** Each device's account databases; share it with the daemons of this node. */
  readonly datadirs: DeviceDbs<AccountDatadir>;
  private readonly deps: AccountServerDeps;
  private readonly policies: ReadonlyMap<number, string>;

  constructor(config: AccountServerConfig, deps: AccountServerDeps) {
    this.deps = deps;
    this.policies = deps.policies ?? new Map([[0, 'Policy-0']]);
    const opener = deps.kvOpener ?? levelKvOpener({ sync: config.accountServer.db_fsync });
    this.datadirs = new DeviceDbs({
      devices: config.storage.devices,
      mountCheck: config.storage.mount_check,
      clock: deps.clock,
      datadir: ACCOUNT_DATADIR,
      open: async (path) => new AccountDatadir(await opener(path), { clock: deps.clock }),
    });
    this.handle = storageHandler({
      name: 'account-server',
      routes: { PUT: this.put, GET: this.get, HEAD: this.head, POST: this.post, DELETE: this.delete, REPLICATE: this.replicate },
      toHttpError: databaseHttpError,
      logger: deps.logger,
      clock: deps.clock,
      logRequests: config.accountServer.log_requests,
    });
  }

  /** Closes every database. Stop the HTTP server first. */
  close(): Promise<void> {
    return this.datadirs.close();
  }

  /** Splits and checks `/<device>/<partition>/<account>[/<container>]`. */
  private target(path: string, allowContainer: boolean): Target {
    const [device, part, account, container] = splitPath(path, 3, allowContainer ? 4 : 3) as [string, string, string, string | undefined];
    const partition = validateDevicePartition(device, part);
    checkAccountName(account, undefined, true);
    if (container) checkContainerName(container, undefined, true);
    validateInternalNames(account, container);
    return { device, partition, account, container: container || undefined };
  }

  private async broker(t: Target): Promise<AccountBroker> {
    const datadir = await this.datadirs.get(t.device);
    return datadir.broker(this.deps.hashPath.hash(t.account));
  }

  private readonly put = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, true);
    if (t.container !== undefined) return this.putContainer(req, t, t.container);
    const timestamp = requestTimestamp(req.headers);
    const metadata = metadataFromHeaders(req.headers, 'account', timestamp);
    const broker = await this.broker(t);
    try {
      await broker.initialize(timestamp, { account: t.account, partition: t.partition }, metadata);
      return { status: 201 };
    } catch (err) {
      if (!(err instanceof DatabaseAlreadyExistsError)) throw err;
    }
    const before = await broker.getState();
    if (!before) throw new DatabaseNotFoundError(broker.hash);
    if (before.statusDeleted) throw new HttpError(403, 'Recently deleted', { 'X-Account-Status': 'Deleted' });
    await broker.checkMetadataUpdate(metadata);
    const created = before.deleted;
    await broker.updatePutTimestamp(timestamp.internal);
    if (await broker.isDeleted()) throw new HttpError(409);
    if (Object.keys(metadata).length > 0) await broker.updateMetadata(metadata, true);
    if (before.info.partition !== t.partition) await broker.setPartition(t.partition);
    return created ? { status: 201 } : { status: 202, headers: { 'Content-Type': 'text/html; charset=UTF-8' }, body: defaultErrorBody(202) };
  };

  /** A container server's report of one container (Swift's account PUT with a container). */
  private async putContainer(req: ServerRequest, t: Target, container: string): Promise<ServerResponse> {
    const timestamp = req.headers['x-timestamp'] === undefined ? Timestamp.fromMillis(this.deps.clock.now()) : requestTimestamp(req.headers);
    const report = {
      name: container,
      putTimestamp: requiredTimestamp(req.headers, 'x-put-timestamp'),
      deleteTimestamp: requiredTimestamp(req.headers, 'x-delete-timestamp'),
      objectCount: requiredCount(req.headers, 'x-object-count'),
      bytesUsed: requiredCount(req.headers, 'x-bytes-used'),
      storagePolicyIndex: req.headers['x-backend-storage-policy-index'] === undefined ? 0 : requiredCount(req.headers, 'x-backend-storage-policy-index'),
    };
    const broker = await this.broker(t);
    if (t.account.startsWith(AUTO_CREATE_ACCOUNT_PREFIX) && !(await broker.exists())) {
      await broker.initialize(timestamp, { account: t.account, partition: t.partition }).catch((err: unknown) => {
        if (!(err instanceof DatabaseAlreadyExistsError)) throw err;
      });
    }
    if ((req.headers['x-account-override-deleted'] ?? 'no').toLowerCase() !== 'yes' && (await broker.isDeleted())) throw new HttpError(404);
    await broker.putContainer(report);
    return { status: report.deleteTimestamp.compare(report.putTimestamp) > 0 ? 204 : 201 };
  }

  private readonly delete = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, false);
    const broker = await this.broker(t);
    const timestamp = requestTimestamp(req.headers);
    const state = await broker.getState();
    if (!state || state.deleted) throw new HttpError(404, undefined, deletedHeaders(state));
    await broker.deleteDb(timestamp.internal);
    return { status: 204, headers: deletedHeaders(await broker.getState()) };
  };

  private readonly post = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, false);
    const timestamp = requestTimestamp(req.headers);
    const metadata = metadataFromHeaders(req.headers, 'account', timestamp);
    const broker = await this.broker(t);
    const state = await broker.getState();
    if (!state || state.deleted) throw new HttpError(404, undefined, deletedHeaders(state));
    if (Object.keys(metadata).length > 0) await broker.updateMetadata(metadata, true);
    return { status: 204 };
  };

  private readonly head = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, false);
    const contentType = listingContentType(new QueryParams(req.rawQuery).get('format'), req.headers['accept']);
    const state = await (await this.broker(t)).getState();
    if (!state || state.deleted) throw new HttpError(404, undefined, deletedHeaders(state));
    return { status: 204, headers: { ...this.accountHeaders(state), 'Content-Type': `${contentType}; charset=utf-8`, 'Content-Length': '0' } };
  };

  private readonly get = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const t = this.target(path, false);
    const params = new QueryParams(req.rawQuery);
    const query = listingQuery(params, 10_000, false, allowsReservedNames(req.headers));
    const contentType = listingContentType(params.get('format'), req.headers['accept']);
    const broker = await this.broker(t);
    const state = await broker.getState();
    if (!state || state.deleted) throw new HttpError(404, undefined, deletedHeaders(state));
    const listing = (await broker.listContainers(query)).map(listingRecord);
    const headers = { ...this.accountHeaders(state), 'Content-Type': `${contentType}; charset=utf-8` };
    if (contentType.endsWith('/xml')) return { status: 200, headers, body: accountToXml(listing, t.account) };
    if (contentType === 'application/json') return { status: 200, headers, body: listingToJson(listing) };
    if (listing.length === 0) return { status: 204, headers: { ...headers, 'Content-Length': '0' } };
    return { status: 200, headers, body: listingToText(listing) };
  };

  private readonly replicate = async (req: ServerRequest, path: string): Promise<ServerResponse> => {
    const [device, part, hash] = splitPath(path, 3) as [string, string, string];
    const partition = validateDevicePartition(device, part);
    const datadir = await this.datadirs.get(device);
    return serveReplicate(req.body, datadir.broker(hash), partition);
  };

  /** Swift's `get_response_headers`: totals, per-policy stats of known policies, metadata. */
  private accountHeaders(state: AccountState): Record<string, string> {
    const { info } = state;
    const headers: Record<string, string> = {
      'X-Account-Container-Count': String(info.container_count),
      'X-Account-Object-Count': String(info.object_count),
      'X-Account-Bytes-Used': String(info.bytes_used),
      'X-Timestamp': Timestamp.parse(info.created_at).normal,
      'X-Put-Timestamp': Timestamp.parse(info.put_timestamp).normal,
    };
    for (const [index, stats] of state.policyStats) {
      const name = this.policies.get(index);
      if (name === undefined) continue;
      headers[`X-Account-Storage-Policy-${name}-Container-Count`] = String(stats.container_count);
      headers[`X-Account-Storage-Policy-${name}-Object-Count`] = String(stats.object_count);
      headers[`X-Account-Storage-Policy-${name}-Bytes-Used`] = String(stats.bytes_used);
    }
    for (const [key, value] of liveMetadata(state.metadata)) headers[toHeaderValue(key)] = toHeaderValue(value);
    return headers;
  }
}

/** `X-Account-Status: Deleted` when the account itself was deleted (Swift's `_deleted_response`). */
function deletedHeaders(state: AccountState | undefined): Record<string, string> {
  return state?.statusDeleted ? { 'X-Account-Status': 'Deleted' } : {};
}

/** A listing entry as Swift's `account_listing_response` shapes it. */
export function listingRecord(entry: ContainerListingEntry): ListingRecord {
  if ('subdir' in entry) return { subdir: entry.subdir };
  return { name: entry.name, count: entry.object_count, bytes: entry.bytes_used, last_modified: Timestamp.parse(entry.put_timestamp).isoformat };
}

