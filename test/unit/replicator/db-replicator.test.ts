import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig, type ConfigOf } from '../../../common/config.ts';
import type { DumpHeader } from '../../../common/db/replication-info.ts';
import { backendPath } from '../../../common/http/backend-client.ts';
import { Timestamp } from '../../../common/timestamp.ts';
import type { ContainerBroker } from '../../../container/backend.ts';
import { AccountReplicator } from '../../../replicator/account-replicator.ts';
import { ContainerReplicator } from '../../../replicator/container-replicator.ts';
import { dbReplicatorSchema } from '../../../replicator/db-daemon-config.ts';
import { type DbNode, type DbNodes, startDbNodes } from '../../helpers/db-nodes.ts';
import { httpRequest } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const T = (s: number): string => new Timestamp((1_700_000_000 + s) * 100_000).internal;
const defaults = defaultConfig({ r: dbReplicatorSchema }).r;
type ReplicatorConfig = ConfigOf<typeof dbReplicatorSchema>;

async function withNodes(fn: (rig: DbNodes, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const rig = await startDbNodes({ clock });
  try {
    await fn(rig, clock);
  } finally {
    await rig.close();
  }
}

const node = (rig: DbNodes, n: number): DbNode => rig.nodes[n - 1] as DbNode;

/** A request straight to node n's container server for /AUTH_a/<container>[/<object>]. */
function direct(rig: DbNodes, n: number, method: string, container: string, object?: string, headers: Record<string, string> = {}): Promise<number> {
  const part = rig.rings.container.getPart('AUTH_a', container);
  const path = backendPath(node(rig, n).device, part, 'AUTH_a', container, ...(object === undefined ? [] : [object]));
  return httpRequest(node(rig, n).ports.container, method, path, headers).then((r) => r.status);
}

const putObject = (rig: DbNodes, n: number, container: string, name: string, at: number, size = 10): Promise<number> =>
  direct(rig, n, 'PUT', container, name, { 'X-Timestamp': T(at), 'X-Size': String(size), 'X-Content-Type': 'text/plain', 'X-Etag': 'etag' });

async function broker(rig: DbNodes, n: number, container: string): Promise<ContainerBroker> {
  return (await node(rig, n).container.datadirs.get(node(rig, n).device)).broker(rig.hashPath.hash('AUTH_a', container));
}

async function names(rig: DbNodes, n: number, container: string): Promise<string[]> {
  const b = await broker(rig, n, container);
  if (!(await b.exists())) return [];
  return (await b.listObjects({ limit: 10_000 })).map((e) => ('name' in e ? e.name : e.subdir));
}

/** One pass of node n's container replicator; its counts. */
async function replicate(rig: DbNodes, n: number, config: Partial<ReplicatorConfig> = {}): Promise<Readonly<Record<string, number>>> {
  const daemon = new ContainerReplicator(node(rig, n).ctx, { ...defaults, databases_per_second: 0, ...config });
  await daemon.runPass();
  return daemon.recon().lastPass;
}

test('primaries converge: each gets the rows and metadata it lacks, and the next pass finds them in sync', () =>
  withNodes(async (rig) => {
    const [p0, p1, p2] = rig.primaries('container', 'AUTH_a', 'c') as [number, number, number];
    for (const n of [p0, p1, p2]) assert.is(await direct(rig, n, 'PUT', 'c', undefined, { 'X-Timestamp': T(1) }), 201);
    for (let i = 0; i < 10; i++) await putObject(rig, p0, 'c', `a${i}`, 10 + i, i);
    for (let i = 0; i < 5; i++) await putObject(rig, p1, 'c', `b${i}`, 30 + i, 100);
    await putObject(rig, p1, 'c', 'a3', 5, 999); // older than p0's a3: loses
    await direct(rig, p1, 'POST', 'c', undefined, { 'X-Timestamp': T(40), 'X-Container-Meta-Color': 'blue' });

    const first = await replicate(rig, p0);
    assert.is(first['attempted'], 1);
    assert.is(first['success'], 2);
    assert.is(first['diffs'], 2);
    await replicate(rig, p1);
    await replicate(rig, p2);

    const infos = await Promise.all([p0, p1, p2].map(async (n) => (await broker(rig, n, 'c')).getState()));
    for (const state of infos) {
      assert.is(state?.info.object_count, 15);
      assert.is(state?.info.bytes_used, 45 + 500);
      assert.is(state?.info.hash, infos[0]?.info.hash);
      assert.equal(state?.metadata['X-Container-Meta-Color']?.[0], 'blue');
    }
    const a3 = (await (await broker(rig, p2, 'c')).listObjects({ limit: 1, prefix: 'a3' }))[0] as { size: number };
    assert.is(a3.size, 3, 'the newer row won everywhere');

    for (const n of [p0, p1, p2]) {
      const again = await replicate(rig, n);
      assert.is(again['rows_sent'] ?? 0, 0, `node ${n} sent nothing the second time`);
      assert.is((again['no_change'] ?? 0) + (again['hashmatch'] ?? 0), 2);
    }
  }));

test('a replica without the database gets all of it in one load', () =>
  withNodes(async (rig) => {
    const [p0, p1, p2] = rig.primaries('container', 'AUTH_a', 'c') as [number, number, number];
    await direct(rig, p0, 'PUT', 'c', undefined, { 'X-Timestamp': T(1), 'X-Container-Meta-Color': 'red' });
    await direct(rig, p1, 'PUT', 'c', undefined, { 'X-Timestamp': T(1) });
    for (let i = 0; i < 30; i++) await putObject(rig, p0, 'c', `o${i}`, 10 + i);
    await direct(rig, p0, 'DELETE', 'c', 'o7', { 'X-Timestamp': T(100) });
    const counts = await replicate(rig, p0, { per_diff: 7 });
    assert.is(counts['loads'], 1);
    assert.is(counts['success'], 2);
    assert.equal(await names(rig, p2, 'c'), await names(rig, p0, 'c'));
    const loaded = await (await broker(rig, p2, 'c')).getState();
    assert.is(loaded?.info.object_count, 29);
    assert.is(loaded?.metadata['X-Container-Meta-Color']?.[0], 'red');
    assert.is((await (await broker(rig, p2, 'c')).getItemsSince(-1, 100)).filter((r) => r.deleted === 1).length, 1, 'the tombstone came too');
    const again = await replicate(rig, p0);
    assert.is(again['loads'] ?? 0, 0);
    assert.is(again['no_change'], 2, 'the loaded replica is in sync with its source');
  }));

test('a replica far behind gets every row at once; one a little behind catches up max_diffs at a time', () =>
  withNodes(async (rig) => {
    const [p0, p1, p2] = rig.primaries('container', 'AUTH_a', 'c') as [number, number, number];
    for (const n of [p0, p1, p2]) await direct(rig, n, 'PUT', 'c', undefined, { 'X-Timestamp': T(1) });
    for (let i = 0; i < 20; i++) await putObject(rig, p0, 'c', `o${String(i).padStart(2, '0')}`, 10 + i);
    // p2 already has the first 12 rows (from elsewhere): a little behind.
    for (let i = 0; i < 12; i++) await putObject(rig, p2, 'c', `o${String(i).padStart(2, '0')}`, 10 + i);
    const counts = await replicate(rig, p0, { per_diff: 2, max_diffs: 3 });
    assert.is(counts['remote_merges'], 1, 'p1 (no rows) is far behind');
    assert.is((await names(rig, p1, 'c')).length, 20);
    assert.is(counts['diff_capped'], 1, 'p2 got max_diffs pages, not all');
    assert.is(counts['rows_sent'], 20 + 6);
    let passes = 1;
    for (let capped = true; capped; passes++) {
      assert.ok(passes < 6, 'caught up within a few passes');
      capped = (await replicate(rig, p0, { per_diff: 2, max_diffs: 3 }))['diff_capped'] === 1;
    }
    assert.is(passes, 4, '14 more rows, 6 a pass');
    assert.is((await names(rig, p2, 'c')).length, 20);
    const [a, b] = await Promise.all([broker(rig, p0, 'c'), broker(rig, p2, 'c')]);
    assert.is((await a.getReplicationInfo()).hash, (await b.getReplicationInfo()).hash);
  }));

test('a handoff database goes to every primary and leaves the handoff; not while a primary is away', () =>
  withNodes(async (rig) => {
    const primaries = rig.primaries('container', 'AUTH_a', 'h');
    const handoff = rig.nodes.map((n) => n.n).find((n) => !primaries.includes(n)) as number;
    assert.is(await direct(rig, handoff, 'PUT', 'h', undefined, { 'X-Timestamp': T(1) }), 201);
    for (let i = 0; i < 4; i++) await putObject(rig, handoff, 'h', `o${i}`, 10 + i);
    await direct(rig, primaries[0] as number, 'PUT', 'h', undefined, { 'X-Timestamp': T(1) });

    await rig.pause(primaries[2] as number);
    const kept = await replicate(rig, handoff);
    assert.is(kept['failure'], 1);
    assert.is(kept['handoffs_removed'] ?? 0, 0);
    assert.ok(await (await broker(rig, handoff, 'h')).exists(), 'kept while a primary lacks it');

    await rig.resume(primaries[2] as number);
    const moved = await replicate(rig, handoff);
    assert.is(moved['success'], 3, 'a handoff replicates to all three primaries');
    assert.is(moved['handoffs_removed'], 1);
    assert.not.ok(await (await broker(rig, handoff, 'h')).exists());
    for (const n of primaries) assert.equal(await names(rig, n, 'h'), ['o0', 'o1', 'o2', 'o3'], `primary ${n}`);
  }));

test('deleted rows are purged after reclaim_age; a deleted container goes once the account has its final stats', () =>
  withNodes(async (rig, clock) => {
    const [p0] = rig.primaries('container', 'AUTH_a', 'c') as [number];
    await direct(rig, p0, 'PUT', 'c', undefined, { 'X-Timestamp': T(1) });
    await putObject(rig, p0, 'c', 'gone', 2);
    await direct(rig, p0, 'DELETE', 'c', 'gone', { 'X-Timestamp': T(3) });
    assert.is(await direct(rig, p0, 'DELETE', 'c', undefined, { 'X-Timestamp': T(4) }), 204);
    const fresh = await replicate(rig, p0, { reclaim_age: 100 });
    assert.is(fresh['reclaimed_rows'] ?? 0, 0, 'too young');

    clock.advance(200_000);
    const old = await replicate(rig, p0, { reclaim_age: 100 });
    assert.is(old['reclaimed_rows'], 1);
    const b = await broker(rig, p0, 'c');
    assert.equal(await b.getItemsSince(-1, 10), []);
    assert.ok(await b.exists(), 'the account has not heard of the deletion yet');
    assert.is(old['removes'] ?? 0, 0);

    const info = await b.getInfo();
    await b.reported(info?.put_timestamp ?? '', info?.delete_timestamp ?? '', 0, 0);
    const gone = await replicate(rig, p0, { reclaim_age: 100 });
    assert.is(gone['removes'], 1);
    assert.not.ok(await b.exists());
  }));

test("the sender takes the remote's newer timestamps: a deletion on one replica reaches the others", () =>
  withNodes(async (rig) => {
    const [p0, p1, p2] = rig.primaries('container', 'AUTH_a', 'c') as [number, number, number];
    for (const n of [p0, p1, p2]) await direct(rig, n, 'PUT', 'c', undefined, { 'X-Timestamp': T(1) });
    assert.is(await direct(rig, p1, 'DELETE', 'c', undefined, { 'X-Timestamp': T(5) }), 204);
    const deleted = async (n: number): Promise<boolean> => (await (await broker(rig, n, 'c')).getState())?.deleted === true;
    await replicate(rig, p0);
    assert.ok(await deleted(p0), 'the sender took the newer delete timestamp from its sync answer');
    assert.not.ok(await deleted(p2), 'it sent p2 what it had when the pass began');
    await replicate(rig, p0);
    assert.ok(await deleted(p2));
    assert.is((await (await broker(rig, p2, 'c')).getInfo())?.delete_timestamp, T(5));
  }));

test('the account replicator: account databases converge the same way', () =>
  withNodes(async (rig) => {
    const [p0, p1] = rig.primaries('account', 'AUTH_a') as [number, number];
    const part = rig.rings.account.getPart('AUTH_a');
    const put = (n: number, path: string, headers: Record<string, string>): Promise<number> =>
      httpRequest(node(rig, n).ports.account, 'PUT', backendPath(node(rig, n).device, part, 'AUTH_a', ...(path ? [path] : [])), headers).then((r) => r.status);
    assert.is(await put(p0, '', { 'X-Timestamp': T(1) }), 201);
    const report = (objects: number): Record<string, string> => ({ 'X-Put-Timestamp': T(2), 'X-Delete-Timestamp': new Timestamp(0).internal, 'X-Object-Count': String(objects), 'X-Bytes-Used': String(objects * 10), 'X-Timestamp': T(2) });
    await put(p0, 'c1', report(3));
    await put(p0, 'c2', report(4));
    const daemon = new AccountReplicator(node(rig, p0).ctx, { ...defaults, databases_per_second: 0 });
    await daemon.runPass();
    assert.is(daemon.recon().lastPass['loads'], 2);
    const accountBroker = async (n: number) => (await node(rig, n).account.datadirs.get(node(rig, n).device)).broker(rig.hashPath.hash('AUTH_a'));
    const info = await (await accountBroker(p1)).getInfo();
    assert.is(info?.container_count, 2);
    assert.is(info?.object_count, 7);
    assert.is(info?.bytes_used, 70);
  }));

test('a dump read while its database changes loads without a row twice, and the next pass sends what it missed', () =>
  withNodes(async (rig) => {
    const [p0, p1] = rig.primaries('container', 'AUTH_a', 'c') as [number, number];
    await direct(rig, p0, 'PUT', 'c', undefined, { 'X-Timestamp': T(1) });
    for (let i = 0; i < 6; i++) await putObject(rig, p0, 'c', `o${i}`, 10 + i);
    const source = await broker(rig, p0, 'c');
    const target = await broker(rig, p1, 'c');
    const info = await source.getReplicationInfo();
    const dump = source.dump(2)[Symbol.asyncIterator]();
    const header = (await dump.next()).value as DumpHeader;
    const first = (await dump.next()).value as unknown[]; // o0, o1: read live
    // While the rest is read, o0 is deleted (its tombstone comes with the deleted rows, after
    // its live row was sent), o3 changes and o9, a0 and zz are added.
    await direct(rig, p0, 'DELETE', 'c', 'o0', { 'X-Timestamp': T(50) });
    await putObject(rig, p0, 'c', 'o3', 51, 333);
    await putObject(rig, p0, 'c', 'o9', 52, 9);
    await putObject(rig, p0, 'c', 'a0', 53, 1); // before the live rows already read: not in the dump
    await putObject(rig, p0, 'c', 'zz', 54, 1); // numbered after a0, and in the dump
    async function* rest(): AsyncGenerator<readonly unknown[]> {
      yield first;
      for (let next = await dump.next(); !next.done; next = await dump.next()) yield next.value as unknown[];
    }
    await target.load(header, rest(), rig.rings.container.getPart('AUTH_a', 'c'), info.id);
    const live = (await target.listObjects({ limit: 100 })).map((e) => ('name' in e ? e.name : ''));
    assert.not.ok(live.includes('o0'), 'the newer tombstone won over the live row read before it');
    const loaded = await target.getState();
    assert.is(loaded?.info.object_count, live.length, 'counts match the rows');
    await replicate(rig, p0);
    const [a, b] = await Promise.all([source.getReplicationInfo(), target.getReplicationInfo()]);
    assert.is(b.hash, a.hash, 'the next pass brought the replicas together');
    assert.equal(await names(rig, p1, 'c'), ['a0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o9', 'zz'], 'a0, missed by the dump, came with the next pass');
  }));

test.run();
