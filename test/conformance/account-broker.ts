import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccountBroker, AccountDatadir, ContainerListingEntry } from '../../account/backend.ts';
import { DatabaseAlreadyExistsError, DatabaseNotFoundError } from '../../common/db/errors.ts';
import type { ListingQuery } from '../../common/db/listing-scan.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { rejects } from '../helpers/rejects.ts';
import { seededRandom } from '../../common/seeded-random.ts';
import { referenceListing } from '../helpers/swift-listing.ts';

/**
 * The contract of the account broker (account/backend.ts) over any `OrderedKv`: Swift's
 * rules for container rows, totals per policy kept exact, listings, reclaim, the deleted
 * states, and dump and load. Run once per store.
 */
export interface AccountFixture {
  /** A fresh datadir (one device's account databases) using `clock`. */
  open(clock: ManualClock): Promise<AccountDatadir>;
  cleanup(): Promise<void>;
}

const HASH = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
const OTHER = '1111111111111111eeeeeeeeeeeeeeee';
const T0 = 1_700_000_000;
const ts = (seconds: number): Timestamp => Timestamp.parse(T0 + seconds);
const ZERO = new Timestamp(0);

const names = (entries: ContainerListingEntry[]): string[] => entries.map((e) => ('subdir' in e ? `${e.subdir}(dir)` : e.name));

function report(broker: AccountBroker, name: string, put: number, del: number, objects: number, bytes: number, policy = 0): Promise<void> {
  return broker.putContainer({ name, putTimestamp: ts(put), deleteTimestamp: del < 0 ? ZERO : ts(del), objectCount: objects, bytesUsed: bytes, storagePolicyIndex: policy });
}

export function suite(name: string, fixture: AccountFixture): void {
  const test = uvuSuite(`AccountBroker conformance: ${name}`);
  let clock: ManualClock;
  let datadir: AccountDatadir;
  let broker: AccountBroker;

  test.before.each(async () => {
    clock = new ManualClock(T0 * 1000);
    datadir = await fixture.open(clock);
    broker = datadir.broker(HASH);
    await broker.initialize(ts(0), { account: 'AUTH_a', partition: 4 });
  });
  test.after.each(() => datadir.close());
  test.after(() => fixture.cleanup());

  test('initialize records the account; a second initialize is refused', async () => {
    clock.advance(2000);
    const other = datadir.broker(OTHER);
    await other.initialize(ts(1), { account: 'AUTH_b', partition: 4 }, { 'X-Account-Meta-A': ['1', ts(1).internal] });
    const info = await other.getInfo();
    assert.is(info?.account, 'AUTH_b');
    assert.is(info?.created_at, ts(2).internal);
    assert.is(info?.put_timestamp, ts(1).internal);
    assert.is(info?.status_changed_at, ts(1).internal);
    assert.is(info?.container_count, 0);
    assert.equal(await other.metadata(), { 'X-Account-Meta-A': ['1', ts(1).internal] });
    await rejects(other.initialize(ts(1), { account: 'AUTH_b', partition: 4 }), DatabaseAlreadyExistsError);
  });

  test('container reports: totals follow the latest report; newest put and delete timestamps win', async () => {
    await report(broker, 'c1', 1, -1, 3, 30);
    await report(broker, 'c2', 2, -1, 1, 5);
    let info = await broker.getInfo();
    assert.equal([info?.container_count, info?.object_count, info?.bytes_used], [2, 4, 35]);
    await report(broker, 'c1', 1, -1, 4, 40); // same timestamps, new counts: the report wins
    info = await broker.getInfo();
    assert.equal([info?.container_count, info?.object_count, info?.bytes_used], [2, 5, 45]);
    await report(broker, 'c2', 1, 3, 0, 0); // a delete
    info = await broker.getInfo();
    assert.equal([info?.container_count, info?.object_count, info?.bytes_used], [1, 4, 40]);
    const rows = await broker.getItemsSince(-1, 10);
    const c2 = rows.find((r) => r.name === 'c2');
    assert.is(c2?.deleted, 1);
    assert.is(c2?.put_timestamp, ts(2).internal, 'the newer put timestamp is kept');
    assert.is(c2?.delete_timestamp, ts(3).internal);
    await report(broker, 'c2', 4, -1, 0, 0); // recreated
    assert.is((await broker.getInfo())?.container_count, 2);
  });

  test('a delete of a container that still reports objects does not delete its row', async () => {
    await report(broker, 'c', 1, 2, 5, 50);
    const info = await broker.getInfo();
    assert.equal([info?.container_count, info?.object_count], [1, 5]);
  });

  test('totals are kept per storage policy', async () => {
    await report(broker, 'gold', 1, -1, 2, 20, 1);
    await report(broker, 'std', 1, -1, 3, 30, 0);
    await report(broker, 'std2', 1, -1, 1, 1, 0);
    const state = await broker.getState();
    assert.equal(state?.policyStats.get(0), { container_count: 2, object_count: 4, bytes_used: 31 });
    assert.equal(state?.policyStats.get(1), { container_count: 1, object_count: 2, bytes_used: 20 });
    await report(broker, 'gold', 1, -1, 2, 20, 0); // moved to policy 0
    const after = await broker.getState();
    assert.equal(after?.policyStats.get(1), { container_count: 0, object_count: 0, bytes_used: 0 });
    assert.equal(after?.info.container_count, 3);
  });

  test('totals always equal the sum of the rows under concurrent reports', async () => {
    const random = seededRandom(3);
    const reports = [];
    for (let i = 0; i < 600; i++) {
      const c = `c${Math.floor(random() * 40)}`;
      const del = random() < 0.2;
      reports.push(report(broker, c, i + 1, del ? i + 2 : -1, del ? 0 : Math.floor(random() * 10), Math.floor(random() * 1000), Math.floor(random() * 2)));
    }
    await Promise.all(reports);
    const rows = await broker.getItemsSince(-1, 10_000);
    const live = rows.filter((r) => r.deleted === 0);
    const info = await broker.getInfo();
    assert.is(info?.container_count, live.length);
    assert.is(info?.object_count, rows.reduce((s, r) => s + r.object_count, 0));
    assert.is(info?.bytes_used, rows.reduce((s, r) => s + r.bytes_used, 0));
    assert.equal(names(await broker.listContainers({ limit: 1000 })), live.map((r) => r.name).sort());
  });

  test('listings: prefix, delimiter, marker, end_marker, reverse, limit; deleted containers are not listed', async () => {
    for (const [i, c] of ['a-1', 'a-2', 'b', 'b-x-1', 'b-x-2', 'c'].entries()) await report(broker, c, i + 1, -1, i, i * 10);
    await report(broker, 'gone', 1, 2, 0, 0);
    const list = async (q: Partial<ListingQuery>): Promise<string[]> => names(await broker.listContainers({ limit: 100, ...q }));
    assert.equal(await list({}), ['a-1', 'a-2', 'b', 'b-x-1', 'b-x-2', 'c']);
    assert.equal(await list({ delimiter: '-' }), ['a-(dir)', 'b', 'b-(dir)', 'c']);
    assert.equal(await list({ prefix: 'b-', delimiter: '-' }), ['b-x-(dir)']);
    assert.equal(await list({ marker: 'b', endMarker: 'c', reverse: false }), ['b-x-1', 'b-x-2']);
    assert.equal(await list({ reverse: true, limit: 3 }), ['c', 'b-x-2', 'b-x-1']);
    assert.equal(await list({ reverse: true, delimiter: '-' }), ['c', 'b-(dir)', 'b', 'a-(dir)']);
    const [first] = await broker.listContainers({ limit: 1 });
    assert.equal(first, { name: 'a-1', put_timestamp: ts(1).internal, delete_timestamp: ZERO.internal, object_count: 0, bytes_used: 0, deleted: 0, storage_policy_index: 0 });
    const all = ['a-1', 'a-2', 'b', 'b-x-1', 'b-x-2', 'c'];
    for (const q of [{ limit: 2, delimiter: '-' }, { limit: 4, prefix: 'b', marker: 'b-x-1' }, { limit: 5, delimiter: '-', reverse: true, marker: 'b-x-1' }]) {
      assert.equal(await list(q), referenceListing(all, q).map((e) => (typeof e === 'string' ? e : `${e.subdir}(dir)`)), JSON.stringify(q));
    }
  });

  test('a report for a missing account is refused', async () => {
    await rejects(report(datadir.broker(OTHER), 'c', 1, -1, 0, 0), DatabaseNotFoundError);
  });

  test('deleting the account marks it deleted even with containers; its status says so', async () => {
    await report(broker, 'c', 1, -1, 1, 1);
    await broker.deleteDb(ts(5).internal);
    const state = await broker.getState();
    assert.is(state?.deleted, true);
    assert.is(state?.statusDeleted, true);
    assert.is(state?.info.status, 'DELETED');
    assert.is(await broker.isDeleted(), true);
  });

  test('an empty account with a newer delete than put is deleted without the status', async () => {
    await broker.mergeTimestamps(ts(0).internal, ts(0).internal, ts(3).internal);
    const state = await broker.getState();
    assert.is(state?.deleted, true);
    assert.is(state?.info.status, '');
  });

  test('reclaim purges container rows deleted longer ago than the reclaim age', async () => {
    await report(broker, 'old', 1, 2, 0, 0);
    await report(broker, 'young', 1, 900, 0, 0);
    await report(broker, 'live', 1, -1, 1, 1);
    assert.is((await broker.reclaim(ts(1000), 500)).rows, 1);
    assert.equal((await broker.getItemsSince(-1, 10)).map((r) => r.name).sort(), ['live', 'young']);
    assert.is((await broker.getInfo())?.container_count, 1);
  });

  test('dump and load copy the account with its rows, totals and metadata', async () => {
    await report(broker, 'c1', 1, -1, 3, 30);
    await report(broker, 'c2', 1, 2, 0, 0);
    await broker.updateMetadata({ 'X-Account-Meta-Color': ['blue', ts(3).internal] });
    const before = await broker.getReplicationInfo();
    const target = await fixture.open(clock);
    try {
      const copy = target.broker(HASH);
      const parts = [];
      for await (const part of broker.dump()) parts.push(part);
      const [header, ...chunks] = parts;
      await copy.load(header as never, (async function* () {
        yield* chunks as unknown[][];
      })(), 4, before.id);
      const after = await copy.getState();
      assert.equal([after?.info.container_count, after?.info.object_count, after?.info.bytes_used], [1, 3, 30]);
      assert.is(after?.info.hash, before.hash);
      assert.equal(after?.metadata, before.metadata);
      assert.equal(await copy.getItemsSince(-1, 10), await broker.getItemsSince(-1, 10));
    } finally {
      await target.close();
    }
  });

  test('a sync request merges the remote account\'s metadata and timestamps', async () => {
    const local = await broker.getReplicationInfo();
    const answer = await broker.handleSyncRequest({ ...local, id: 'remote', max_row: 3, hash: 'ffffffffffffffffffffffffffffffff', put_timestamp: ts(9).internal, metadata: { 'X-Account-Meta-X': ['y', ts(9).internal] } });
    assert.is(answer.point, -1);
    assert.is((await broker.getInfo())?.put_timestamp, ts(9).internal);
    assert.equal((await broker.metadata())['X-Account-Meta-X'], ['y', ts(9).internal]);
  });

  test.run();
}
