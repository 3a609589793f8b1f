import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXPIRING_OBJECTS_ACCOUNT } from '../../common/expirer-queue.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { directListing } from '../../replicator/direct-client.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { OffsetClock } from '../helpers/offset-clock.ts';

async function listing(c: TestCluster, container: string): Promise<string[]> {
  const res = await c.request('GET', `/v1/AUTH_test/${container}?format=json`);
  return (JSON.parse(res.body.toString() || '[]') as { name: string }[]).map((o) => o.name);
}

/** Every row of the expirer's queue, read from the container servers directly. */
async function queueRows(c: TestCluster): Promise<string[]> {
  const backend = new UndiciBackendClient();
  try {
    const deps = { backend, timeoutMs: 2000 };
    const queues = await directListing(deps, c.rings.account, [EXPIRING_OBJECTS_ACCOUNT]);
    const rows: string[] = [];
    for (const q of queues) rows.push(...(await directListing(deps, c.rings.container, [EXPIRING_OBJECTS_ACCOUNT, String(q['name'])])).map((r) => String(r['name'])));
    return rows;
  } finally {
    await backend.close();
  }
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

test.run();
