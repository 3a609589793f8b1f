import { listAllKeys } from '../client/record-update.ts';
import { T } from './records.ts';
import type { ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';

/**
 * The servers' list index (`server-index`): one empty record per server and scope, keyed so the
 * record store's byte order is Nova's default list order (`created_at` descending, then the
 * UUID descending). A page of `GET /servers` is then a listing from the marker's key and a
 * read of the servers on the page, not a read of every server. Keys:
 * `p/<project>/<order>` for a project's list, `a/<order>` for an admin's `all_tenants`, with
 * `<order>` = `<9999999999 - created_at seconds, 10 digits>-<the UUID, each hex digit inverted>`.
 *
 * The entries are written before the server record and removed after it, so every server is
 * in the index; an entry whose server is gone (a delete that stopped in between, or a create
 * still under way) is skipped by readers, never removed by them (it may be a create's).
 */
const HEX = '0123456789abcdef';

function invertHex(uuid: string): string {
  return uuid.toLowerCase().replace(/[0-9a-f]/g, (d) => HEX[15 - HEX.indexOf(d)] as string);
}

/** The order part of a server's keys. */
export function serverOrderKey(s: Pick<ServerRecord, 'uuid' | 'created_at'>): string {
  const seconds = Math.floor(Date.parse(s.created_at) / 1000);
  return `${String(9_999_999_999 - seconds).padStart(10, '0')}-${invertHex(s.uuid)}`;
}

/** The UUID an order key names. */
export function uuidOfOrderKey(order: string): string {
  return invertHex(order.slice(11));
}

/** The listing prefix of a scope: one project's servers, or every server (`undefined`). */
export function indexPrefix(project: string | undefined): string {
  return project === undefined ? 'a/' : `p/${project}/`;
}

function keysOf(s: Pick<ServerRecord, 'uuid' | 'created_at' | 'project_id'>): string[] {
  const order = serverOrderKey(s);
  return [`${indexPrefix(s.project_id)}${order}`, `${indexPrefix(undefined)}${order}`];
}

export async function indexServer(store: ComputeStore, s: Pick<ServerRecord, 'uuid' | 'created_at' | 'project_id'>): Promise<void> {
  await Promise.all(keysOf(s).map((k) => store.records.put(T.serverIndex, k, {})));
}

export async function unindexServer(store: ComputeStore, s: Pick<ServerRecord, 'uuid' | 'created_at' | 'project_id'>): Promise<void> {
  await Promise.all(keysOf(s).map((k) => store.records.delete(T.serverIndex, k)));
}

/**
 * Index entries for servers that have none (servers made before the index existed); returns how
 * many servers were indexed. Run once when the compute API starts.
 */
export async function backfillServerIndex(store: ComputeStore): Promise<number> {
  const indexed = new Set<string>();
  for await (const key of listAllKeys(store.records, T.serverIndex)) indexed.add(key);
  let added = 0;
  for (const s of await store.scan<ServerRecord>(T.servers)) {
    // Both scopes' entries: a delete cut short may have removed one and not the other.
    if (keysOf(s).every((k) => indexed.has(k))) continue;
    await indexServer(store, s);
    added++;
  }
  return added;
}

/**
 * Servers of a scope in Nova's default order, after the server `after` (its order key), read a
 * listing page at a time and `batch` records at once, for as long as the caller asks for more.
 */
export async function* serversInOrder(store: ComputeStore, project: string | undefined, after: string | undefined, batch: number): AsyncGenerator<ServerRecord> {
  const prefix = indexPrefix(project);
  let marker = after === undefined ? undefined : `${prefix}${after}`;
  for (;;) {
    const page = await store.records.list(T.serverIndex, { prefix, ...(marker !== undefined ? { marker } : {}), limit: Math.max(batch, 1) });
    const keys = page.entries.map((e) => e.key);
    if (keys.length === 0) return;
    const records = await readAll(store, keys.map((k) => uuidOfOrderKey(k.slice(prefix.length))));
    for (const s of records) if (s) yield s;
    if (!page.truncated && keys.length < batch) return;
    marker = keys.at(-1);
  }
}

/**
 * The servers of a page. A long page is checked against one listing of every server's version
 * (this process's copy: only the servers that changed are read); a short one reads its servers,
 * which costs less than listing a big cloud.
 */
async function readAll(store: ComputeStore, uuids: readonly string[]): Promise<(ServerRecord | undefined)[]> {
  if (uuids.length > DIRECT_READS) return store.readMany<ServerRecord>(T.servers, uuids);
  const out: (ServerRecord | undefined)[] = new Array(uuids.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < uuids.length) {
      const i = next++;
      out[i] = await store.get<ServerRecord>(T.servers, uuids[i] as string);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, uuids.length) }, worker));
  return out;
}

/** Pages up to this long read their servers one by one (in parallel); longer ones revalidate the process's copy. */
const DIRECT_READS = 100;
