import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import { DatabaseAlreadyExistsError, DatabaseNotFoundError, ReplicationRequestError } from '../../common/db/errors.ts';
import type { ListingQuery } from '../../common/db/listing-scan.ts';
import { ConstraintError } from '../../common/errors.ts';
import { Timestamp } from '../../common/timestamp.ts';
import type { ContainerBroker, ContainerDatadir, ObjectListingEntry } from '../../container/backend.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { rejects } from '../helpers/rejects.ts';
import { seededRandom } from '../../common/seeded-random.ts';
import { referenceListing } from '../helpers/swift-listing.ts';

/**
 * The contract of the container broker (container/backend.ts) over any `OrderedKv`: Swift's
 * merge rules, exact counts under concurrency, listings, tombstones and reclaim, the row
 * sequence, sync points, and whole-database dump and load. Run once per store.
 */
export interface ContainerFixture {
  /** A fresh datadir (one device's container databases) using `clock`. */
  open(clock: ManualClock): Promise<ContainerDatadir>;
  cleanup(): Promise<void>;
}

const HASH = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';
const T0 = 1_700_000_000;
const ts = (seconds: number): Timestamp => Timestamp.parse(T0 + seconds);

const names = (entries: ObjectListingEntry[]): string[] => entries.map((e) => ('subdir' in e ? `${e.subdir}(dir)` : e.name));
const refNames = (entries: ReturnType<typeof referenceListing>): string[] => entries.map((e) => (typeof e === 'string' ? e : `${e.subdir}(dir)`));

function put(broker: ContainerBroker, name: string, at: number, size = 1, policy = 0): Promise<void> {
  return broker.putObject({ name, timestamp: ts(at), size, contentType: 'text/plain', etag: `etag-${name}-${at}`, storagePolicyIndex: policy });
}

export function suite(name: string, fixture: ContainerFixture): void {
  const test = uvuSuite(`ContainerBroker conformance: ${name}`);
  let clock: ManualClock;
  let datadir: ContainerDatadir;
  let broker: ContainerBroker;

  test.before.each(async () => {
    clock = new ManualClock(T0 * 1000);
    datadir = await fixture.open(clock);
    broker = datadir.broker(HASH);
    await broker.initialize(ts(0), { account: 'AUTH_a', container: 'c', partition: 7, storagePolicyIndex: 0 });
  });
  test.after.each(() => datadir.close());
  test.after(() => fixture.cleanup());

  test('initialize records the container; a second initialize is refused', async () => {
    clock.advance(5000);
    const other = datadir.broker(OTHER);
    assert.is(await other.exists(), false);
    assert.is(await other.getInfo(), undefined);
    await other.initialize(ts(3), { account: 'AUTH_a', container: 'd', partition: 9, storagePolicyIndex: 2 }, { 'X-Container-Meta-A': ['1', ts(3).internal] });
    const info = await other.getInfo();
    assert.is(info?.account, 'AUTH_a');
    assert.is(info?.container, 'd');
    assert.is(info?.created_at, ts(5).internal, 'created_at is when this replica was made');
    assert.is(info?.put_timestamp, ts(3).internal);
    assert.is(info?.status_changed_at, ts(3).internal);
    assert.is(info?.delete_timestamp, new Timestamp(0).internal);
    assert.is(info?.storage_policy_index, 2);
    assert.is(info?.object_count, 0);
    assert.is(info?.max_row, -1);
    assert.equal(await other.metadata(), { 'X-Container-Meta-A': ['1', ts(3).internal] });
    await rejects(other.initialize(ts(4), { account: 'AUTH_a', container: 'd', partition: 9, storagePolicyIndex: 0 }), DatabaseAlreadyExistsError);
  });

  test('object rows: the newest timestamp wins; counts and bytes follow the winner', async () => {
    await put(broker, 'o', 10, 100);
    await put(broker, 'o', 5, 7); // older: ignored
    let info = await broker.getInfo();
    assert.is(info?.object_count, 1);
    assert.is(info?.bytes_used, 100);
    await broker.deleteObject('o', ts(8), 0); // older delete: ignored
    assert.is((await broker.getInfo())?.object_count, 1);
    await broker.deleteObject('o', ts(11), 0);
    info = await broker.getInfo();
    assert.is(info?.object_count, 0);
    assert.is(info?.bytes_used, 0);
    await put(broker, 'o', 11, 9); // same timestamp as the delete: the existing row stays
    assert.is((await broker.getInfo())?.object_count, 0);
    await put(broker, 'o', 12, 3);
    info = await broker.getInfo();
    assert.is(info?.object_count, 1);
    assert.is(info?.bytes_used, 3);
  });

  test('a delete leaves a tombstone: not listed, not counted, still replicated', async () => {
    await put(broker, 'a', 1);
    await put(broker, 'b', 2);
    await broker.deleteObject('a', ts(3), 0);
    assert.equal(names(await broker.listObjects({ limit: 10 })), ['b']);
    const rows = await broker.getItemsSince(-1, 10);
    const tomb = rows.find((r) => r.name === 'a');
    assert.is(tomb?.deleted, 1);
    assert.is(tomb?.content_type, 'application/deleted');
    assert.is(tomb?.etag, 'noetag');
    assert.is(tomb?.size, 0);
    assert.is(tomb?.created_at, ts(3).internal);
  });

  test('a delete of a long non-ASCII name unlists it (the staticweb row that outlived its DELETE)', async () => {
    // The name test_staticweb.py left listed: three levels of 3-byte characters, 136 bytes.
    const deep = '\u1803\u3706\u0900\u850a\u1804\ub30d\u850a\uf111\u1804\u03a9\ub30b\ud20d\u0902\u3706\ud20e/\ud210\ud20d\u0903\u8508\u0901\uf111\u9409\u1801\u0902\u5608\u850b\u8509\u0901\u3704\u940c/\ub30e\u1804\ub30b\u5605\u850a\u5608\ub30e\u940b\u5606\u940a\u0901\u3703\u8509\ud20d\ud210';
    await put(broker, 'short', 1);
    await put(broker, deep, 2);
    await broker.deleteObject(deep, ts(3), 0);
    assert.equal(names(await broker.listObjects({ limit: 10 })), ['short']);
    assert.is((await broker.getInfo())?.object_count, 1);
  });

  test('content type and metadata timestamps merge separately from the data (fast POST)', async () => {
    await broker.putObject({ name: 'o', timestamp: ts(10), size: 5, contentType: 'text/plain;swift_bytes=500', etag: 'e1', storagePolicyIndex: 0 });
    // A POST at 20 changed the content type; its update carries the old data timestamp.
    await broker.putObject({ name: 'o', timestamp: ts(10), size: 5, contentType: 'image/png', etag: 'e1', storagePolicyIndex: 0, contentTypeTimestamp: ts(20), metaTimestamp: ts(20) });
    let [row] = (await broker.listObjects({ limit: 1 })) as [ObjectListingEntry];
    assert.ok(!('subdir' in row));
    if (!('subdir' in row)) {
      assert.is(row.content_type, 'image/png;swift_bytes=500', 'new type, the data keeps its swift_bytes');
      assert.is(row.meta_timestamp, ts(20).internal);
      assert.is(row.created_at, ts(10).internal);
    }
    // A late-arriving older PUT changes nothing; a newer PUT takes data but not the newer type.
    await broker.putObject({ name: 'o', timestamp: ts(15), size: 9, contentType: 'text/html', etag: 'e2', storagePolicyIndex: 0 });
    [row] = (await broker.listObjects({ limit: 1 })) as [ObjectListingEntry];
    if (!('subdir' in row)) {
      assert.is(row.etag, 'e2');
      assert.is(row.size, 9);
      assert.is(row.content_type, 'image/png');
      assert.is(row.meta_timestamp, ts(20).internal);
    }
    assert.is((await broker.getInfo())?.bytes_used, 9);
  });

  test('counts stay exact under many concurrent puts and deletes of the same and different names', async () => {
    const random = seededRandom(42);
    const ops: { name: string; at: number; size: number; del: boolean }[] = [];
    let at = 1;
    for (let n = 0; n < 40; n++) {
      for (let k = 0; k < 12; k++) ops.push({ name: `obj-${n}`, at: at++, size: Math.floor(random() * 1000), del: random() < 0.4 });
    }
    for (let i = 0; i < 300; i++) ops.push({ name: 'hot', at: at++, size: i, del: random() < 0.3 });
    // Newest wins, whatever order the updates arrive in.
    const newest = new Map<string, (typeof ops)[number]>();
    for (const op of ops) if ((newest.get(op.name)?.at ?? -1) < op.at) newest.set(op.name, op);
    const shuffled = [...ops].sort(() => random() - 0.5);
    await Promise.all(shuffled.map((op) => (op.del ? broker.deleteObject(op.name, ts(op.at), 0) : put(broker, op.name, op.at, op.size))));
    const live = [...newest.values()].filter((op) => !op.del);
    const info = await broker.getInfo();
    assert.is(info?.object_count, live.length);
    assert.is(info?.bytes_used, live.reduce((sum, op) => sum + op.size, 0));
    assert.equal(names(await broker.listObjects({ limit: 1000 })), live.map((op) => op.name).sort());
    const rows = await broker.getItemsSince(-1, 10_000);
    assert.is(rows.length, newest.size, 'one row per name, tombstones included');
  });

  test('counts stay exact when two containers are written at once', async () => {
    const other = datadir.broker(OTHER);
    await other.initialize(ts(0), { account: 'AUTH_a', container: 'd', partition: 7, storagePolicyIndex: 0 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => put(i % 2 ? broker : other, `o${i}`, i + 1, 2)));
    assert.is((await broker.getInfo())?.object_count, 100);
    assert.is((await other.getInfo())?.bytes_used, 200);
  });

  test('rows under another storage policy are kept but neither counted nor listed', async () => {
    await put(broker, 'a', 1, 10, 0);
    await put(broker, 'a', 2, 20, 1);
    await put(broker, 'b', 3, 30, 1);
    const info = await broker.getInfo();
    assert.is(info?.object_count, 1);
    assert.is(info?.bytes_used, 10);
    assert.equal(names(await broker.listObjects({ limit: 10 })), ['a']);
    assert.equal(names(await broker.listObjects({ limit: 10 }, 1)), ['a', 'b']);
    await broker.setStoragePolicyIndex(1, ts(5));
    assert.is((await broker.getInfo())?.object_count, 2);
    assert.is((await broker.getInfo())?.status_changed_at, ts(5).internal);
  });

  test('an object update for a missing container is refused', async () => {
    const missing = datadir.broker(OTHER);
    await rejects(put(missing, 'x', 1), DatabaseNotFoundError);
    assert.is(await missing.exists(), false);
  });

  test('listings: prefix, marker, end_marker, reverse and limit', async () => {
    for (const [i, n] of ['a', 'b1', 'b2', 'b3', 'c'].entries()) await put(broker, n, i + 1);
    const list = async (q: Partial<ListingQuery>): Promise<string[]> => names(await broker.listObjects({ limit: 100, ...q }));
    assert.equal(await list({ prefix: 'b' }), ['b1', 'b2', 'b3']);
    assert.equal(await list({ marker: 'b1' }), ['b2', 'b3', 'c']);
    assert.equal(await list({ endMarker: 'b3' }), ['a', 'b1', 'b2']);
    assert.equal(await list({ marker: 'a', endMarker: 'c', limit: 2 }), ['b1', 'b2']);
    assert.equal(await list({ reverse: true }), ['c', 'b3', 'b2', 'b1', 'a']);
    assert.equal(await list({ reverse: true, marker: 'b3' }), ['b2', 'b1', 'a'], 'reverse: marker is where the listing starts');
    assert.equal(await list({ reverse: true, endMarker: 'b1' }), ['c', 'b3', 'b2']);
    assert.equal(await list({ prefix: 'b', marker: 'a' }), ['b1', 'b2', 'b3'], 'a marker below the prefix is ignored');
    assert.equal(await list({ prefix: 'b', endMarker: 'z' }), ['b1', 'b2', 'b3']);
    assert.equal(await list({ limit: 0 }), []);
  });

  test('delimiter listings roll deep trees up into subdirs, forwards and in reverse', async () => {
    const tree = ['a/b/c/1', 'a/b/c/2', 'a/b/d', 'a/e', 'a/f/', 'a/f/g', 'a.txt', 'a0', 'b', 'b/x'];
    for (const [i, n] of tree.entries()) await put(broker, n, i + 1);
    const list = async (q: Partial<ListingQuery>): Promise<string[]> => names(await broker.listObjects({ limit: 100, ...q }));
    assert.equal(await list({ delimiter: '/' }), ['a.txt', 'a/(dir)', 'a0', 'b', 'b/(dir)']);
    assert.equal(await list({ delimiter: '/', prefix: 'a/' }), ['a/b/(dir)', 'a/e', 'a/f/(dir)']);
    assert.equal(await list({ delimiter: '/', prefix: 'a/b/' }), ['a/b/c/(dir)', 'a/b/d']);
    assert.equal(await list({ delimiter: '/', reverse: true }), ['b/(dir)', 'b', 'a0', 'a/(dir)', 'a.txt']);
    assert.equal(await list({ delimiter: '/', marker: 'a/' }), ['a0', 'b', 'b/(dir)'], 'a subdir marker does not repeat the subdir');
    assert.equal(await list({ delimiter: '/', limit: 2 }), ['a.txt', 'a/(dir)'], 'subdirs count toward the limit');
    assert.equal(await list({ path: 'a' }), ['a/e', 'a/f/'], 'path: direct children only, no subdirs');
    assert.equal(await list({ path: 'a/b/' }), ['a/b/d']);
    assert.equal(await list({ path: 'a', reverse: true }), ['a/f/', 'a/e']);
  });

  test('a delimiter of several characters rolls up at the whole delimiter only (tests.py testListMultiCharDelimiter)', async () => {
    for (const [i, n] of ['test', 'test-&bar', 'test-&foo', "test-'baz", 'test-'].entries()) await put(broker, n, i + 1);
    const list = async (q: Partial<ListingQuery>): Promise<string[]> => names(await broker.listObjects({ limit: 100, ...q }));
    assert.equal(await list({ delimiter: '-&' }), ['test', 'test-', 'test-&(dir)', "test-'baz"]);
    assert.equal(await list({ delimiter: '-&', reverse: true }), ["test-'baz", 'test-&(dir)', 'test-', 'test']);
    assert.equal(await list({ delimiter: '-&', prefix: 'test-&' }), ['test-&bar', 'test-&foo']);
  });

  test('listings match Swift\'s algorithm for random names and queries', async () => {
    const random = seededRandom(7);
    const alphabet = ['a', 'b', '/', '-', '.', '\u00e9', '\uFF5E', '\u{1F600}'];
    const pool = new Set<string>();
    while (pool.size < 250) {
      let n = '';
      const len = 1 + Math.floor(random() * 6);
      for (let i = 0; i < len; i++) n += alphabet[Math.floor(random() * alphabet.length)];
      pool.add(n);
    }
    const all = [...pool];
    await broker.mergeItems(all.map((n, i) => ({ name: n, created_at: ts(i + 1).internal, size: 1, content_type: 'x', etag: 'e', deleted: 0, storage_policy_index: 0, ctype_timestamp: ts(i + 1).internal, meta_timestamp: ts(i + 1).internal })));
    const pick = (): string => {
      const n = all[Math.floor(random() * all.length)] as string;
      return n.slice(0, Math.floor(random() * (n.length + 1)));
    };
    for (let i = 0; i < 400; i++) {
      const q: ListingQuery = {
        limit: 1 + Math.floor(random() * 25),
        ...(random() < 0.4 ? { marker: pick() } : {}),
        ...(random() < 0.3 ? { endMarker: pick() } : {}),
        ...(random() < 0.4 ? { prefix: pick() } : {}),
        ...(random() < 0.5 ? { delimiter: random() < 0.7 ? '/' : '-' } : {}),
        ...(random() < 0.15 ? { path: pick() } : {}),
        reverse: random() < 0.3,
      };
      assert.equal(names(await broker.listObjects(q)), refNames(referenceListing(all, q)), JSON.stringify(q));
    }
  });

  test('paging with limit and the last entry as marker returns every entry once, full pages until the end', async () => {
    const tree: string[] = [];
    for (let d = 0; d < 7; d++) for (let f = 0; f < 5; f++) tree.push(`d${d}/f${f}`);
    for (let f = 0; f < 9; f++) tree.push(`top${f}`);
    await broker.mergeItems(tree.map((n, i) => ({ name: n, created_at: ts(i + 1).internal, size: 1, content_type: 'x', etag: 'e', deleted: 0, storage_policy_index: 0, ctype_timestamp: ts(i + 1).internal, meta_timestamp: ts(i + 1).internal })));
    for (const q of [{}, { delimiter: '/' }, { reverse: true }, { delimiter: '/', reverse: true }]) {
      const full = names(await broker.listObjects({ limit: 1000, ...q }));
      const pages: string[][] = [];
      let marker = '';
      for (;;) {
        const page = await broker.listObjects({ limit: 4, marker, ...q });
        if (page.length === 0) break;
        pages.push(names(page));
        const last = page.at(-1) as ObjectListingEntry;
        marker = 'subdir' in last ? last.subdir : last.name;
      }
      assert.equal(pages.flat(), full, JSON.stringify(q));
      assert.ok(pages.slice(0, -1).every((p) => p.length === 4), 'every page but the last is full');
    }
  });

  test('reclaim purges tombstones and cleared metadata older than the reclaim age, nothing else', async () => {
    await put(broker, 'live', 1, 5);
    await put(broker, 'old', 1);
    await broker.deleteObject('old', ts(2), 0);
    await put(broker, 'young', 1);
    await broker.deleteObject('young', ts(1000), 0);
    await broker.updateMetadata({ 'X-Container-Meta-Gone': ['', ts(2).internal], 'X-Container-Meta-Kept': ['v', ts(2).internal], 'X-Container-Meta-Fresh': ['', ts(1000).internal] });
    const result = await broker.reclaim(ts(1100), 500);
    assert.is(result.rows, 1);
    const rows = await broker.getItemsSince(-1, 100);
    assert.equal(rows.map((r) => r.name).sort(), ['live', 'young']);
    assert.equal(Object.keys(await broker.metadata()).sort(), ['X-Container-Meta-Fresh', 'X-Container-Meta-Kept']);
    const info = await broker.getInfo();
    assert.is(info?.object_count, 1);
    assert.is(info?.bytes_used, 5);
  });

  test('rows since a sequence: in order, paged, and a replaced row comes back with a new sequence', async () => {
    for (const [i, n] of ['a', 'b', 'c', 'd'].entries()) await put(broker, n, i + 1);
    const first = await broker.getItemsSince(-1, 2);
    assert.equal(first.map((r) => r.name), ['a', 'b']);
    const rest = await broker.getItemsSince(first.at(-1)?.ROWID as number, 10);
    assert.equal(rest.map((r) => r.name), ['c', 'd']);
    const point = rest.at(-1)?.ROWID as number;
    await put(broker, 'a', 9);
    const again = await broker.getItemsSince(point, 10);
    assert.equal(again.map((r) => [r.name, r.created_at]), [['a', ts(9).internal]]);
    assert.ok((again[0]?.ROWID as number) > point);
    assert.is((await broker.getInfo())?.max_row, again[0]?.ROWID);
  });

  test('sync points: -1 until set, only move up, incoming and outgoing apart', async () => {
    assert.is(await broker.getSync('r1'), -1);
    await broker.mergeSyncs([{ remote_id: 'r1', sync_point: 5 }, { remote_id: 'r2', sync_point: 3 }]);
    await broker.mergeSyncs([{ remote_id: 'r1', sync_point: 4 }]);
    await broker.mergeSyncs([{ remote_id: 'r1', sync_point: 8 }], false);
    assert.is(await broker.getSync('r1'), 5);
    assert.is(await broker.getSync('r1', false), 8);
    assert.equal(await broker.getSyncs(), [{ remote_id: 'r1', sync_point: 5 }, { remote_id: 'r2', sync_point: 3 }]);
    // merge_items from a source moves that source's incoming point to its last ROWID.
    await broker.mergeWireItems([{ name: 'x', created_at: ts(1).internal, size: 1, content_type: 't', etag: 'e', deleted: 0, storage_policy_index: 0, ROWID: 41 }], 'r3');
    assert.is(await broker.getSync('r3'), 41);
  });

  test('merge_items refuses a malformed row and stores nothing from the batch', async () => {
    await rejects(
      broker.mergeWireItems([{ name: 'ok', created_at: ts(1).internal, size: 1, content_type: 't', etag: 'e', deleted: 0 }, { name: 'bad', created_at: 'yesterday', size: 1, content_type: 't', etag: 'e', deleted: 0 }]),
      ReplicationRequestError,
    );
    assert.equal(await broker.getItemsSince(-1, 10), []);
  });

  test('metadata: newest timestamp per key wins; limits are checked on the whole; delete clears it', async () => {
    await broker.updateMetadata({ 'X-Container-Meta-A': ['1', ts(5).internal], 'X-Container-Read': ['.r:*', ts(5).internal] });
    await broker.updateMetadata({ 'X-Container-Meta-A': ['old', ts(4).internal], 'X-Container-Meta-B': ['2', ts(6).internal] });
    assert.equal(await broker.metadata(), { 'X-Container-Meta-A': ['1', ts(5).internal], 'X-Container-Read': ['.r:*', ts(5).internal], 'X-Container-Meta-B': ['2', ts(6).internal] });
    const many: Record<string, [string, string]> = {};
    for (let i = 0; i < 89; i++) many[`X-Container-Meta-K${i}`] = ['v', ts(7).internal];
    await rejects(broker.updateMetadata(many, true), (err: unknown) => err instanceof ConstraintError && /Too many metadata items; max 90/.test(err.message));
    assert.is(Object.keys(await broker.metadata()).length, 3, 'a refused update changes nothing');
    await broker.deleteDb(ts(9).internal);
    assert.equal(await broker.metadata(), { 'X-Container-Meta-A': ['', ts(9).internal], 'X-Container-Read': ['', ts(9).internal], 'X-Container-Meta-B': ['', ts(9).internal] });
  });

  test('deleted state: empty and deleted after the last put; a newer put or an object revives it', async () => {
    await broker.deleteDb(ts(5).internal);
    assert.is(await broker.isDeleted(), true);
    let info = await broker.getInfo();
    assert.is(info?.delete_timestamp, ts(5).internal);
    assert.is(info?.status_changed_at, ts(5).internal);
    await broker.updatePutTimestamp(ts(4).internal);
    assert.is(await broker.isDeleted(), true, 'an older put does not revive it');
    await put(broker, 'o', 6);
    assert.is(await broker.isDeleted(), false, 'a container with objects is not deleted');
    await broker.deleteObject('o', ts(7), 0);
    assert.is(await broker.isDeleted(), true);
    await broker.updatePutTimestamp(ts(8).internal);
    assert.is(await broker.isDeleted(), false);
    await broker.deleteDb(ts(3).internal); // older than the current delete: ignored
    info = await broker.getInfo();
    assert.is(info?.delete_timestamp, ts(5).internal);
    assert.is(await datadir.broker(OTHER).isDeleted(), true, 'a missing database counts as deleted');
  });

  test('merge_timestamps keeps the oldest created_at and newest put/delete; a flip moves status_changed_at', async () => {
    clock.advance(50_000);
    await broker.mergeTimestamps(ts(-10).internal, ts(3).internal, ts(1).internal);
    let info = await broker.getInfo();
    assert.is(info?.created_at, ts(-10).internal);
    assert.is(info?.put_timestamp, ts(3).internal);
    assert.is(info?.delete_timestamp, ts(1).internal);
    assert.is(info?.status_changed_at, ts(0).internal, 'still live: unchanged');
    await broker.mergeTimestamps(ts(0).internal, ts(3).internal, ts(4).internal);
    info = await broker.getInfo();
    assert.is(await broker.isDeleted(), true);
    assert.is(info?.status_changed_at, ts(50).internal);
  });

  test('a sync request merges metadata and timestamps and reports the sync point', async () => {
    await put(broker, 'a', 1);
    const local = await broker.getReplicationInfo();
    const remote = { ...local, id: 'remote-1', max_row: 7, created_at: ts(-5).internal, put_timestamp: ts(3).internal, metadata: { 'X-Container-Meta-R': ['r', ts(2).internal] as const } };
    const answer = await broker.handleSyncRequest(remote);
    assert.is(answer.point, 7, 'same hash: the remote has our rows, record its max_row');
    assert.is(answer.id, local.id);
    assert.is((await broker.getInfo())?.put_timestamp, ts(3).internal);
    assert.is((await broker.getInfo())?.created_at, ts(-5).internal);
    assert.equal((await broker.metadata())['X-Container-Meta-R'], ['r', ts(2).internal]);
    const differs = await broker.handleSyncRequest({ ...remote, id: 'remote-2', hash: '00000000000000000000000000000001' });
    assert.is(differs.point, -1, 'different rows: start from the beginning');
  });

  test('a sync request from a replica with a better claim to the policy changes ours', async () => {
    clock.advance(99_000);
    const local = await broker.getReplicationInfo();
    // The remote replica was created earlier with policy 1: the oldest creation wins.
    await broker.handleSyncRequest({ ...local, id: 'r', storage_policy_index: 1, status_changed_at: ts(-1).internal, count: 0 });
    const info = await broker.getInfo();
    assert.is(info?.storage_policy_index, 1);
    assert.is(info?.status_changed_at, ts(99).internal);
    await broker.handleSyncRequest({ ...local, id: 'r', storage_policy_index: 2, status_changed_at: ts(500).internal, count: 0 });
    assert.is((await broker.getInfo())?.storage_policy_index, 1, 'a newer claim loses');
  });

  test('dump and load copy the whole database: rows, sequence, counts, metadata, syncs; new id', async () => {
    await put(broker, 'a', 1, 10);
    await put(broker, 'b', 2, 20);
    await broker.deleteObject('a', ts(3), 0);
    await broker.updateMetadata({ 'X-Container-Meta-M': ['v', ts(4).internal] });
    await broker.mergeSyncs([{ remote_id: 'elsewhere', sync_point: 2 }]);
    const before = await broker.getReplicationInfo();
    const target = await fixture.open(clock);
    try {
      const copy = target.broker(HASH);
      const parts = [];
      for await (const part of broker.dump(1)) parts.push(part);
      const [header, ...chunks] = parts;
      await copy.load(header as never, (async function* () {
        yield* chunks as unknown[][];
      })(), 11, before.id);
      const after = await copy.getReplicationInfo();
      assert.is(after.hash, before.hash);
      assert.is(after.max_row, before.max_row);
      assert.is(after.count, 1);
      assert.is.not(after.id, before.id);
      assert.equal(after.metadata, before.metadata);
      assert.equal(await copy.getItemsSince(-1, 10), await broker.getItemsSince(-1, 10));
      assert.is(await copy.getSync(before.id), before.max_row, 'the source is in sync up to its last row');
      assert.is(await copy.getSync('elsewhere'), 2);
      assert.equal(await collect(target.entries()), [{ partition: 11, hash: HASH }]);
      assert.is((await copy.getInfo())?.reported_object_count, 0);
      await rejects(copy.load(header as never, (async function* () {})(), 11, 'x'), DatabaseAlreadyExistsError);
    } finally {
      await target.close();
    }
  });

  test('a failed load leaves nothing behind', async () => {
    const copy = datadir.broker(OTHER);
    const header = { record: { account: 'a', container: 'c', created_at: ts(0).internal, put_timestamp: ts(0).internal, delete_timestamp: '0', status_changed_at: ts(0).internal, status: '', storage_policy_index: 0 }, metadata: {}, max_row: 1, incoming_sync: [], outgoing_sync: [] };
    await rejects(copy.load(header, (async function* () {
      yield [{ name: 'fine', created_at: ts(1).internal, size: 1, content_type: 't', etag: 'e', deleted: 0, ROWID: 0 }];
      yield [{ name: 'broken' }];
    })(), 1, 'src'), ReplicationRequestError);
    assert.is(await copy.exists(), false);
    await copy.initialize(ts(1), { account: 'a', container: 'c', partition: 1, storagePolicyIndex: 0 });
    assert.equal(await copy.getItemsSince(-1, 10), [], 'no rows of the failed load');
  });

  test('the partition index lists databases by partition; setPartition moves one; destroy removes all', async () => {
    const other = datadir.broker(OTHER);
    await other.initialize(ts(0), { account: 'AUTH_a', container: 'd', partition: 3, storagePolicyIndex: 0 });
    assert.equal(await collect(datadir.partitions()), [3, 7]);
    assert.equal(await collect(datadir.entries(7)), [{ partition: 7, hash: HASH }]);
    await broker.setPartition(3);
    assert.equal(await collect(datadir.entries(3)), [{ partition: 3, hash: HASH }, { partition: 3, hash: OTHER }]);
    assert.equal(await collect(datadir.partitions()), [3]);
    await put(other, 'o', 1);
    await other.destroy();
    assert.is(await other.exists(), false);
    assert.equal(await collect(datadir.entries()), [{ partition: 3, hash: HASH }]);
    await other.initialize(ts(2), { account: 'AUTH_a', container: 'd', partition: 3, storagePolicyIndex: 0 });
    assert.equal(await other.getItemsSince(-1, 10), [], 'nothing of the destroyed database remains');
  });

  test('handoff removal race: destroyIf keeps a database that took a row after its check was planned', async () => {
    await put(broker, 'first', 1);
    const maxRow = (await broker.state())?.stats.max_row ?? -1;
    // A write queued before the removal runs first; the removal then sees it.
    const write = put(broker, 'late', 2);
    const removed = await broker.destroyIf((state) => state?.stats.max_row === maxRow);
    await write;
    assert.is(removed, false);
    assert.equal(names(await broker.listObjects({ limit: 10 })), ['first', 'late']);
    assert.is(await broker.destroyIf((state) => state?.stats.max_row === maxRow + 1), true);
    assert.is(await broker.exists(), false);
  });

  test('is_reclaimable: empty and deleted longer than the reclaim age ago', async () => {
    await broker.deleteDb(ts(10).internal);
    assert.is(await broker.isReclaimable(ts(100), 50), true);
    assert.is(await broker.isReclaimable(ts(40), 50), false);
    await put(broker, 'o', 20);
    assert.is(await broker.isReclaimable(ts(100), 50), false);
  });

  test.run();
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
