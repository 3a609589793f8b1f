import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backendPath, UndiciBackendClient } from '../../common/http/backend-client.ts';
import { MISPLACED_OBJECTS_ACCOUNT } from '../../common/misplaced-queue.ts';
import { directListing } from '../../replicator/direct-client.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest, type TestResponse } from '../helpers/http.ts';
import { OffsetClock } from '../helpers/offset-clock.ts';

/** gold (policy 0, the default, 3 replicas), silver (policy 1, 2 replicas), bronze (deprecated). */
const POLICIES = {
  0: { name: 'gold', aliases: 'yellow', default: true },
  1: { name: 'silver', replicas: 2 },
  2: { name: 'bronze', deprecated: true },
};

async function withCluster(fn: (c: TestCluster) => Promise<void>, clock?: OffsetClock): Promise<void> {
  const c = await startCluster({ policies: POLICIES, proxy: { allow_account_management: true }, ...(clock ? { clock } : {}) });
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

/** A request straight to node n's object server for one policy. */
function direct(c: TestCluster, n: number, policy: number, method: string, names: [string, string, string]): Promise<TestResponse> {
  const node = c.nodes[n - 1] as TestCluster['nodes'][number];
  const ring = c.rings.objects.get(policy);
  if (!ring) throw new Error(`no ring for policy ${policy}`);
  return httpRequest(node.ports.object, method, backendPath(node.device, ring.getPart(...names), ...names), { 'X-Backend-Storage-Policy-Index': String(policy) });
}

/** Node numbers holding an object's primaries in a policy's ring. */
function primaries(c: TestCluster, policy: number, names: [string, string, string]): number[] {
  const ring = c.rings.objects.get(policy);
  if (!ring) throw new Error(`no ring for policy ${policy}`);
  return ring.getNodes(...names).nodes.map((d) => c.nodes.findIndex((n) => n.ports.object === d.port) + 1);
}

/** The object directories (`objects`, `objects-1`, ...) on node n's device that hold a partition. */
async function datadirs(c: TestCluster, n: number): Promise<string[]> {
  const node = c.nodes[n - 1] as TestCluster['nodes'][number];
  const dev = join(node.devices, node.device);
  const out: string[] = [];
  for (const name of (await readdir(dev)).filter((d) => /^objects(-\d+)?$/.test(d)).sort()) {
    if ((await readdir(join(dev, name))).some((p) => /^\d+$/.test(p))) out.push(name);
  }
  return out;
}

test('/info lists every policy that is not deprecated, the default marked', () =>
  withCluster(async (c) => {
    const info = JSON.parse((await c.request('GET', '/info', { 'X-Auth-Token': '' })).body.toString()) as { swift: { policies: unknown } };
    assert.equal(info.swift.policies, [
      { name: 'gold', aliases: 'gold, yellow', default: true },
      { name: 'silver', aliases: 'silver' },
    ]);
  }));

test('a container keeps the policy it was made with: 409 for another on PUT, POST cannot change it, unknown and deprecated names are 400', () =>
  withCluster(async (c) => {
    assert.is((await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'Silver' })).status, 201);
    const head = async (): Promise<string | undefined> => (await c.request('HEAD', '/v1/AUTH_test/s')).headers['x-storage-policy'];
    assert.is(await head(), 'silver', 'the primary name, whatever case the client used');
    assert.is((await c.request('PUT', '/v1/AUTH_test/s')).status, 202, 'a PUT naming no policy keeps it');
    assert.is(await head(), 'silver');
    assert.is((await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'silver' })).status, 202);
    const conflict = await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'yellow' });
    assert.is(conflict.status, 409);
    assert.is(conflict.headers['x-backend-storage-policy-index'], undefined, 'backend headers stay inside');
    for (const header of ['X-Storage-Policy', 'X-Storage-Policy-Index']) {
      assert.is((await c.request('POST', '/v1/AUTH_test/s', { [header]: 'gold' })).status, 204);
    }
    assert.is(await head(), 'silver');

    const unknown = await c.request('PUT', '/v1/AUTH_test/u', { 'X-Storage-Policy': 'platinum' });
    assert.is(unknown.status, 400);
    assert.is(unknown.body.toString(), "Invalid X-Storage-Policy 'platinum'");
    const deprecated = await c.request('PUT', '/v1/AUTH_test/u', { 'X-Storage-Policy': 'bronze' });
    assert.is(deprecated.status, 400);
    assert.is(deprecated.body.toString(), "Storage Policy 'bronze' is deprecated");
    assert.is((await c.request('HEAD', '/v1/AUTH_test/u')).status, 404, 'nothing was made');

    assert.is((await c.request('PUT', '/v1/AUTH_test/d', { 'X-Storage-Policy': '' })).status, 201, 'an empty name is no name');
    assert.is((await c.request('HEAD', '/v1/AUTH_test/d')).headers['x-storage-policy'], 'gold', 'the default');
  }));

test('a deleted container can be made again in another policy; its 404 names none', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/again', { 'X-Storage-Policy': 'silver' });
    assert.is((await c.request('DELETE', '/v1/AUTH_test/again')).status, 204);
    const gone = await c.request('HEAD', '/v1/AUTH_test/again');
    assert.is(gone.status, 404);
    assert.is(gone.headers['x-storage-policy'], undefined);
    assert.is((await c.request('PUT', '/v1/AUTH_test/again', { 'X-Storage-Policy': 'gold' })).status, 201);
    assert.is((await c.request('HEAD', '/v1/AUTH_test/again')).headers['x-storage-policy'], 'gold');
  }));

test("objects live on their container's policy ring and directories: silver's 2 replicas in objects-1, gold's 3 in objects", () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'silver' });
    await c.request('PUT', '/v1/AUTH_test/g');
    const body = randomBytes(100_000);
    assert.is((await c.request('PUT', '/v1/AUTH_test/s/o', {}, body)).status, 201);
    assert.is((await c.request('PUT', '/v1/AUTH_test/g/o', {}, 'gold')).status, 201);
    assert.ok((await c.request('GET', '/v1/AUTH_test/s/o')).body.equals(body));
    assert.is((await c.request('GET', '/v1/AUTH_test/g/o')).body.toString(), 'gold');

    const silver = primaries(c, 1, ['AUTH_test', 's', 'o']);
    assert.is(silver.length, 2);
    for (const n of silver) assert.is((await direct(c, n, 1, 'HEAD', ['AUTH_test', 's', 'o'])).status, 200, `node ${n} has the silver object`);
    for (const n of [1, 2, 3, 4].filter((x) => !silver.includes(x))) {
      assert.not.ok((await datadirs(c, n)).includes('objects-1') && (await direct(c, n, 1, 'HEAD', ['AUTH_test', 's', 'o'])).status === 200);
    }
    for (const n of primaries(c, 0, ['AUTH_test', 'g', 'o'])) assert.is((await direct(c, n, 0, 'HEAD', ['AUTH_test', 'g', 'o'])).status, 200);
    // The silver object is nowhere in policy 0.
    for (const n of [1, 2, 3, 4]) assert.is((await direct(c, n, 0, 'HEAD', ['AUTH_test', 's', 'o'])).status, 404);

    const listing = JSON.parse((await c.request('GET', '/v1/AUTH_test/s?format=json')).body.toString()) as { name: string; bytes: number }[];
    assert.equal(listing.map((o) => [o.name, o.bytes]), [['o', 100_000]]);
    assert.is((await c.request('DELETE', '/v1/AUTH_test/s/o')).status, 204);
    assert.is((await c.request('GET', '/v1/AUTH_test/s/o')).status, 404);
    assert.is((await c.request('GET', '/v1/AUTH_test/g/o')).status, 200);
  }));

test('account HEAD counts containers, objects and bytes per policy (X-Account-Storage-Policy-<name>-*)', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'silver' });
    await c.request('PUT', '/v1/AUTH_test/g');
    await c.request('PUT', '/v1/AUTH_test/s/a', {}, '12345');
    await c.request('PUT', '/v1/AUTH_test/s/b', {}, '123');
    await c.request('PUT', '/v1/AUTH_test/g/a', {}, '1');
    // Containers report their counts to the account through the container updater, as in Swift.
    await c.runDaemons('container-updater');
    const h = (await c.request('HEAD', '/v1/AUTH_test')).headers;
    assert.is(h['x-account-storage-policy-silver-container-count'], '1');
    assert.is(h['x-account-storage-policy-silver-object-count'], '2');
    assert.is(h['x-account-storage-policy-silver-bytes-used'], '8');
    assert.is(h['x-account-storage-policy-gold-object-count'], '1');
    assert.is(h['x-account-object-count'], '3');
  }));

test("the replicator restores a silver replica from the other one, in objects-1 (REPLICATE and SSYNC name the policy)", () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'silver' });
    const names: [string, string, string] = ['AUTH_test', 's', 'heal'];
    const [first, second] = primaries(c, 1, names) as [number, number];
    await c.stopNode(second);
    // One of two silver primaries down: the write lands on the other and a handoff.
    assert.is((await c.request('PUT', '/v1/AUTH_test/s/heal', {}, 'silver data')).status, 201);
    await c.startNode(second);
    assert.is((await direct(c, second, 1, 'HEAD', names)).status, 404);
    await c.runDaemons('object-replicator');
    assert.is((await direct(c, second, 1, 'GET', names)).body.toString(), 'silver data');
    assert.is((await direct(c, first, 1, 'GET', names)).body.toString(), 'silver data');
    assert.is((await direct(c, second, 0, 'HEAD', names)).status, 404, 'nothing leaked into policy 0');
    // The handoff copy went home and was removed.
    const holders = [];
    for (const n of [1, 2, 3, 4]) if ((await direct(c, n, 1, 'HEAD', names)).status === 200) holders.push(n);
    assert.equal(holders.sort(), [first, second].sort());
  }));

test('the expirer deletes an expired silver object from the silver ring', () => {
  const clock = new OffsetClock();
  return withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'silver' });
    assert.is((await c.request('PUT', '/v1/AUTH_test/s/soon', { 'X-Delete-After': '60' }, 'short-lived')).status, 201);
    await c.runDaemons('container-updater');
    clock.advance(61_000);
    await c.runDaemons('object-expirer');
    assert.equal(JSON.parse((await c.request('GET', '/v1/AUTH_test/s?format=json')).body.toString() || '[]'), []);
    for (const n of primaries(c, 1, ['AUTH_test', 's', 'soon'])) {
      const res = await direct(c, n, 1, 'HEAD', ['AUTH_test', 's', 'soon']);
      assert.is(res.status, 404);
      assert.ok(res.headers['x-backend-timestamp'], 'a tombstone, not an object that never was');
    }
  }, clock);
});

test('the reaper deletes a deleted account\'s silver objects from the silver ring', () =>
  withCluster(async (c) => {
    const admin = await c.token('admin:admin');
    await c.request('PUT', '/v1/AUTH_test/s', { 'X-Storage-Policy': 'silver' });
    await c.request('PUT', '/v1/AUTH_test/s/o', {}, 'reap me');
    await c.runDaemons('container-updater');
    assert.is((await c.request('DELETE', '/v1/AUTH_test', { 'X-Auth-Token': admin })).status, 204);
    await c.runDaemons('account-reaper');
    for (const n of primaries(c, 1, ['AUTH_test', 's', 'o'])) assert.is((await direct(c, n, 1, 'HEAD', ['AUTH_test', 's', 'o'])).status, 404);
  }));

test('an object written through a proxy that still had the old policy of a re-made container is moved to the new policy by the reconciler, not lost', () =>
  withCluster(async (c) => {
    // Proxy B keeps container info for a minute, as every proxy worker does by default.
    const other = await c.anotherProxy({ recheck_container_existence: 60 });
    const b = { request: async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => httpRequest(other.port, method, path, { 'X-Auth-Token': await c.token(), ...headers }, body) };
    await c.request('PUT', '/v1/AUTH_test/moved');
    assert.is((await b.request('PUT', '/v1/AUTH_test/moved/first', {}, 'gold')).status, 201, 'B now has the container as gold');
    await c.request('DELETE', '/v1/AUTH_test/moved/first');
    assert.is((await c.request('DELETE', '/v1/AUTH_test/moved')).status, 204);
    assert.is((await c.request('PUT', '/v1/AUTH_test/moved', { 'X-Storage-Policy': 'silver' })).status, 201);
    // Through B the new object goes to gold's ring: the container row names gold, the container is silver.
    assert.is((await b.request('PUT', '/v1/AUTH_test/moved/stray', { 'X-Object-Meta-Kept': 'yes', 'Content-Type': 'text/x-stray' }, 'stray bytes')).status, 201);
    assert.is((await c.request('GET', '/v1/AUTH_test/moved/stray')).status, 404, 'misplaced: not where the container says');
    assert.is((await c.request('GET', '/v1/AUTH_test/moved')).status, 204, 'and not listed');

    await c.runDaemons('container-replicator'); // queues the gold row in .misplaced_objects
    await c.runDaemons('container-reconciler');

    const got = await c.request('GET', '/v1/AUTH_test/moved/stray');
    assert.is(got.status, 200);
    assert.is(got.body.toString(), 'stray bytes');
    assert.is(got.headers['x-object-meta-kept'], 'yes');
    assert.is(got.headers['content-type'], 'text/x-stray');
    assert.equal(JSON.parse((await c.request('GET', '/v1/AUTH_test/moved?format=json')).body.toString()).map((o: { name: string }) => o.name), ['stray']);
    for (const n of primaries(c, 0, ['AUTH_test', 'moved', 'stray'])) {
      assert.is((await direct(c, n, 0, 'HEAD', ['AUTH_test', 'moved', 'stray'])).status, 404, 'the gold copy is tombstoned');
    }
    // Nothing left to do: the queue is empty and another round changes nothing.
    await c.runDaemons('container-replicator');
    await c.runDaemons('container-reconciler');
    await c.runDaemons('container-updater');
    const backend = new UndiciBackendClient();
    try {
      const deps = { backend, timeoutMs: 2000 };
      const queues = await directListing(deps, c.rings.account, [MISPLACED_OBJECTS_ACCOUNT]);
      assert.ok(queues.length > 0, 'the queue container reached the account listing');
      for (const q of queues) assert.equal(await directListing(deps, c.rings.container, [MISPLACED_OBJECTS_ACCOUNT, String(q['name'])]), [], 'the queue is empty');
    } finally {
      await backend.close();
    }
    assert.is((await c.request('GET', '/v1/AUTH_test/moved/stray')).body.toString(), 'stray bytes');
    await other.close();
  }));

test.run();
