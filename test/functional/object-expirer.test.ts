import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXPIRING_OBJECTS_ACCOUNT, expirerContainer, expirerEntry } from '../../common/expirer-queue.ts';
import { backendPath, UndiciBackendClient } from '../../common/http/backend-client.ts';
import { directListing } from '../../replicator/direct-client.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { OffsetClock } from '../helpers/offset-clock.ts';

async function listing(c: TestCluster, container: string): Promise<string[]> {
  const res = await c.request('GET', `/v1/AUTH_test/${container}?format=json`);
  return (JSON.parse(res.body.toString() || '[]') as { name: string }[]).map((o) => o.name);
}

/** `fn` with a backend client of its own, closed after. */
async function withBackend<T>(fn: (backend: UndiciBackendClient) => Promise<T>): Promise<T> {
  const backend = new UndiciBackendClient();
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** Every row of the expirer's queue, read from the container servers directly. */
function queueRows(c: TestCluster): Promise<string[]> {
  return withBackend(async (backend) => {
    const deps = { backend, timeoutMs: 2000 };
    const queues = await directListing(deps, c.rings.account, [EXPIRING_OBJECTS_ACCOUNT]);
    const rows: string[] = [];
    for (const q of queues) rows.push(...(await directListing(deps, c.rings.container, [EXPIRING_OBJECTS_ACCOUNT, String(q['name'])])).map((r) => String(r['name'])));
    return rows;
  });
}

test('an expiring object is queued, 404 once due, and leaves the listing when the expirer runs', async () => {
  const clock = new OffsetClock();
  const c = await startCluster({ clock });
  try {
    await c.request('PUT', '/v1/AUTH_test/exp');
    assert.is((await c.request('PUT', '/v1/AUTH_test/exp/soon', { 'X-Delete-After': '60' }, 'short-lived')).status, 201);
    assert.is((await c.request('PUT', '/v1/AUTH_test/exp/keeper', {}, 'stays')).status, 201);
    // As in Swift, a queue container reaches the queue account's listing through the
    // container updater; the expirer finds its work there.
    await c.runDaemons('container-updater');
    const rows = await queueRows(c);
    assert.is(rows.length, 1);
    assert.match(rows[0] ?? '', /^\d{10}-AUTH_test\/exp\/soon$/);
    assert.is((await c.request('GET', '/v1/AUTH_test/exp/soon')).status, 200);

    clock.advance(61_000);
    assert.is((await c.request('GET', '/v1/AUTH_test/exp/soon')).status, 404, 'gone from GET at once');
    assert.equal(await listing(c, 'exp'), ['keeper', 'soon'], 'the listing still has it until the expirer runs');

    await c.runDaemons('object-expirer');
    assert.equal(await listing(c, 'exp'), ['keeper']);
    assert.equal(await queueRows(c), [], 'the queue is emptied');
    assert.is((await c.request('GET', '/v1/AUTH_test/exp/keeper')).status, 200);
  } finally {
    await c.close();
  }
});

test('a POST without X-Delete-At cancels expiry; a rewrite is not deleted by the old queue row', async () => {
  const clock = new OffsetClock();
  const c = await startCluster({ clock });
  try {
    await c.request('PUT', '/v1/AUTH_test/exp');
    await c.request('PUT', '/v1/AUTH_test/exp/reprieve', { 'X-Delete-After': '60' }, 'saved');
    assert.is((await c.request('POST', '/v1/AUTH_test/exp/reprieve', { 'X-Object-Meta-Saved': 'yes' })).status, 202);
    await c.request('PUT', '/v1/AUTH_test/exp/rewritten', { 'X-Delete-After': '60' }, 'v1');
    await c.request('PUT', '/v1/AUTH_test/exp/rewritten', {}, 'v2 without expiry');
    // The old queue rows are removed through async pendings, which the updater delivers.
    await c.runDaemons('object-updater');
    await c.runDaemons('container-updater');
    clock.advance(61_000);
    await c.runDaemons('object-expirer');
    assert.is((await c.request('GET', '/v1/AUTH_test/exp/reprieve')).status, 200);
    assert.is((await c.request('GET', '/v1/AUTH_test/exp/rewritten')).body.toString(), 'v2 without expiry');
    assert.equal(await listing(c, 'exp'), ['reprieve', 'rewritten']);
    assert.equal(await queueRows(c), []);
  } finally {
    await c.close();
  }
});

/** The object names each primary of a queue container lists, read from each one. */
function queueReplicaRows(c: TestCluster, queue: string): Promise<string[][]> {
  return withBackend((backend) => {
    const ring = c.rings.container;
    const part = ring.getPart(EXPIRING_OBJECTS_ACCOUNT, queue);
    return Promise.all(ring.getPartNodes(part).map(async (node) => {
      const res = await backend.request(node, { method: 'GET', path: backendPath(node.device, part, EXPIRING_OBJECTS_ACCOUNT, queue), query: 'format=json', timeoutMs: 2000 });
      if (res.status !== 200) {
        await res.body.dump();
        return [];
      }
      return ((await res.body.json()) as { name: string }[]).map((r) => r.name);
    }));
  });
}

test('the expirer pops a queue row on every replica of its queue container (bug: the pop went to the partition of the row name, so the row stayed)', async () => {
  const clock = new OffsetClock();
  const c = await startCluster({ clock });
  try {
    await c.request('PUT', '/v1/AUTH_test/exp');
    const deleteAt = Math.floor(clock.now() / 1000) + 60;
    const ring = c.rings.container;
    const nodesOf = (...names: [string, string, string?]): string => ring.getPartNodes(ring.getPart(...names)).map((n) => n.device).sort().join();
    // An object whose queue row, hashed by its own name, would land on other nodes than its queue.
    let object = '';
    let queue = '';
    for (let i = 0; ; i++) {
      object = `doomed-${i}`;
      queue = expirerContainer(deleteAt, 'AUTH_test', 'exp', object, c.hashPath);
      if (nodesOf(EXPIRING_OBJECTS_ACCOUNT, queue, expirerEntry(deleteAt, 'AUTH_test', 'exp', object)) !== nodesOf(EXPIRING_OBJECTS_ACCOUNT, queue)) break;
    }
    assert.is((await c.request('PUT', `/v1/AUTH_test/exp/${object}`, { 'X-Delete-At': String(deleteAt) }, 'doomed')).status, 201);
    await c.runDaemons('container-updater');
    assert.equal(await queueReplicaRows(c, queue), [[expirerEntry(deleteAt, 'AUTH_test', 'exp', object)], [expirerEntry(deleteAt, 'AUTH_test', 'exp', object)], [expirerEntry(deleteAt, 'AUTH_test', 'exp', object)]]);

    clock.advance(61_000);
    await c.runDaemons('object-expirer');
    assert.equal(await listing(c, 'exp'), []);
    assert.equal(await queueReplicaRows(c, queue), [[], [], []], 'no replica of the queue keeps the row');
  } finally {
    await c.close();
  }
});

test.run();
