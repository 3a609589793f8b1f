import { randomBytes } from 'node:crypto';
import type { BackendResponse } from '../common/http/backend-client.ts';
import { checkRecordKey, checkRecordType, MAX_RECORD_LIST, type RecordListing, type RecordListOptions, type RecordStore, RecordExistsError, RecordVersionError, type StoredRecord } from './record-store.ts';
import { encodeRecord } from './record-encoding.ts';
import { type SwiftClient, unexpected } from './swift-client.ts';

/**
 * The record store in the cluster: a record type is a container of the client's (system)
 * account, a record an object holding its JSON, the listing the index. Reads ask every replica
 * for the newest copy (`X-Newest`), so a record just written is never read older; creates are
 * `If-None-Match: *` and compare-and-swaps `If-Match`, which the proxy decides on one replica
 * for system accounts (docs/decisions.md, "Records in the cluster"). A type's container is
 * made on its first write.
 */
export class SwiftRecordStore implements RecordStore {
  private readonly client: SwiftClient;
  private readonly containers = new Set<string>();

  constructor(client: SwiftClient) {
    this.client = client;
  }

  async get<T = unknown>(type: string, key: string): Promise<StoredRecord<T> | undefined> {
    check(type, key);
    const res = await this.client.request({ method: 'GET', container: type, object: key, headers: { 'x-newest': 'true' } });
    if (res.status === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await unexpected(res, 'GET', `${type}/${key}`);
    const value = (await res.body.json()) as T;
    return { key, value, version: res.headers['etag'] ?? '' };
  }

  async create(type: string, key: string, value: unknown): Promise<string> {
    check(type, key);
    const res = await this.write(type, key, value, { 'if-none-match': '*' });
    if (res.status === 412) throw new RecordExistsError(type, key);
    return this.version(res, type, key);
  }

  async put(type: string, key: string, value: unknown, options: { readonly ifVersion?: string } = {}): Promise<string> {
    check(type, key);
    const res = await this.write(type, key, value, options.ifVersion !== undefined ? { 'if-match': options.ifVersion } : {});
    if (res.status === 412) throw new RecordVersionError(type, key);
    return this.version(res, type, key);
  }

  async delete(type: string, key: string, options: { readonly ifVersion?: string } = {}): Promise<boolean> {
    check(type, key);
    const res = await this.client.request({ method: 'DELETE', container: type, object: key, headers: options.ifVersion !== undefined ? { 'if-match': options.ifVersion } : {} });
    await res.body.dump();
    if (res.status === 204) return true;
    if (res.status === 404) return false;
    if (res.status === 412) throw new RecordVersionError(type, key);
    throw await unexpected(res, 'DELETE', `${type}/${key}`);
  }

  async list(type: string, options: RecordListOptions = {}): Promise<RecordListing> {
    checkRecordType(type);
    const limit = Math.min(options.limit ?? MAX_RECORD_LIST, MAX_RECORD_LIST);
    const rows = await this.client.listContainer(type, { ...(options.prefix !== undefined ? { prefix: options.prefix } : {}), ...(options.marker !== undefined ? { marker: options.marker } : {}), limit, newest: options.newest ?? true });
    const entries = (rows ?? []).map((row) => ({ key: row.name, version: row.hash }));
    return { entries, truncated: entries.length === limit };
  }

  /**
   * One HEAD of the type's container: its object count and bytes used (which change when a
   * record is added or removed) with `X-Container-Meta-Record-Change`, a random value each
   * `noteChange` sets (an overwrite of the same size changes neither count nor bytes).
   */
  async changeMark(type: string): Promise<string> {
    checkRecordType(type);
    const res = await this.client.request({ method: 'HEAD', container: type, headers: { 'x-newest': 'true' } });
    await res.body.dump();
    if (res.status === 404) return '';
    if (res.status !== 204 && res.status !== 200) throw await unexpected(res, 'HEAD', type);
    const h = res.headers;
    return `${h['x-container-meta-record-change'] ?? ''}/${h['x-container-object-count'] ?? ''}/${h['x-container-bytes-used'] ?? ''}`;
  }

  async noteChange(type: string): Promise<void> {
    checkRecordType(type);
    const res = await this.client.request({ method: 'POST', container: type, headers: { 'x-container-meta-record-change': randomBytes(8).toString('hex') } });
    await res.body.dump();
    // No container yet: nothing was written, so no reader has anything to revalidate.
    if (res.status === 404) return;
    if (res.status !== 204) throw await unexpected(res, 'POST', type);
  }

  async ensureType(type: string): Promise<void> {
    checkRecordType(type);
    if (this.containers.has(type)) return;
    await this.client.ensureContainer(type);
    this.containers.add(type);
  }

  /** A PUT of the record; a missing container is made and the PUT sent again. */
  private async write(type: string, key: string, value: unknown, conditions: Record<string, string>): Promise<BackendResponse> {
    const { bytes } = encodeRecord(value);
    const headers = { 'content-type': 'application/json', ...conditions };
    const res = await this.client.request({ method: 'PUT', container: type, object: key, headers, body: bytes });
    if (res.status !== 404 || this.containers.has(type)) return res;
    await res.body.dump();
    await this.client.putContainer(type);
    this.containers.add(type);
    return this.client.request({ method: 'PUT', container: type, object: key, headers, body: bytes });
  }

  private async version(res: BackendResponse, type: string, key: string): Promise<string> {
    if (res.status !== 201) throw await unexpected(res, 'PUT', `${type}/${key}`);
    await res.body.dump();
    return res.headers['etag'] ?? '';
  }
}

function check(type: string, key: string): void {
  checkRecordType(type);
  checkRecordKey(key);
}
