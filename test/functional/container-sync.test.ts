import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { freePort } from '../../bench/free-port.ts';

/** Two clusters of one realm, as two sites' operators set them up: the same realms file on both. */
async function withTwoClusters(fn: (a: TestCluster, b: TestCluster) => Promise<void>, receiving: Parameters<typeof startCluster>[0] = {}): Promise<void> {
  const [portA, portB] = [await freePort(), await freePort()];
  const realms = `[test]\nkey = realm-secret\ncluster_alpha = http://127.0.0.1:${portA}/v1/\ncluster_beta = http://127.0.0.1:${portB}/v1/\n`;
  const a = await startCluster({ proxyPort: portA, swiftFiles: { 'container-sync-realms.conf': realms } });
  try {
    const b = await startCluster({ ...receiving, proxyPort: portB, swiftFiles: { 'container-sync-realms.conf': realms } });
    try {
      await fn(a, b);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

const names = async (c: TestCluster, container: string): Promise<string[]> =>
  (JSON.parse((await c.request('GET', `/v1/AUTH_test/${container}?format=json`)).body.toString() || '[]') as { name: string }[]).map((o) => o.name);

test('/info lists the realm and its clusters', () =>
  withTwoClusters(async (a) => {
    const info = JSON.parse((await a.request('GET', '/info', { 'X-Auth-Token': '' })).body.toString()) as Record<string, unknown>;
    assert.equal(info['container_sync'], { realms: { TEST: { clusters: { ALPHA: {}, BETA: {} } } } });
  }));

test("a container's PUTs, POSTed metadata and DELETEs reach the other cluster's container, signed with the realm key, with their timestamps", () =>
  withTwoClusters(async (a, b) => {
    assert.is((await b.request('PUT', '/v1/AUTH_test/inbox', { 'X-Container-Sync-Key': 'shared-secret' })).status, 201);
    assert.is((await a.request('PUT', '/v1/AUTH_test/outbox', { 'X-Container-Sync-To': '//test/beta/AUTH_test/inbox', 'X-Container-Sync-Key': 'shared-secret' })).status, 201);
    for (let i = 0; i < 10; i++) assert.is((await a.request('PUT', `/v1/AUTH_test/outbox/obj%20${i}`, { 'X-Object-Meta-N': String(i), 'Content-Type': 'text/x-n' }, `body ${i}`)).status, 201);
    assert.is((await a.request('DELETE', '/v1/AUTH_test/outbox/obj%209')).status, 204);
    // Each primary sends its share of the rows, then (next pass) the rest, so two passes sync all.
    await a.runDaemons('container-sync');
    await a.runDaemons('container-sync');
    assert.equal(await names(b, 'inbox'), Array.from({ length: 9 }, (_, i) => `obj ${i}`));
    const local = await a.request('GET', '/v1/AUTH_test/outbox/obj%203');
    const remote = await b.request('GET', '/v1/AUTH_test/inbox/obj%203');
    assert.is(remote.body.toString(), 'body 3');
    assert.is(remote.headers['x-object-meta-n'], '3');
    assert.is(remote.headers['content-type'], 'text/x-n');
    assert.is(remote.headers['etag'], local.headers['etag']);
    assert.is(remote.headers['x-timestamp'], local.headers['x-timestamp'], 'the same version on both sides');

    // Later changes follow on the next pass: deletes, new versions, and metadata a POST changed.
    assert.is((await a.request('POST', '/v1/AUTH_test/outbox/obj%202', { 'X-Object-Meta-N': 'two' })).status, 202);
    assert.is((await a.request('DELETE', '/v1/AUTH_test/outbox/obj%200')).status, 204);
    assert.is((await a.request('PUT', '/v1/AUTH_test/outbox/obj%201', {}, 'new body')).status, 201);
    await a.runDaemons('container-sync');
    await a.runDaemons('container-sync');
    assert.is((await b.request('GET', '/v1/AUTH_test/inbox/obj%200')).status, 404);
    assert.is((await b.request('GET', '/v1/AUTH_test/inbox/obj%201')).body.toString(), 'new body');
    const posted = await b.request('GET', '/v1/AUTH_test/inbox/obj%202');
    assert.is(posted.headers['x-object-meta-n'], 'two');
    assert.is(posted.body.toString(), 'body 2');
  }));

test('a container whose key does not match gets nothing; an unknown realm or cluster is refused with Swift\'s 400', () =>
  withTwoClusters(async (a, b) => {
    await b.request('PUT', '/v1/AUTH_test/inbox', { 'X-Container-Sync-Key': 'other-secret' });
    await a.request('PUT', '/v1/AUTH_test/outbox', { 'X-Container-Sync-To': '//test/beta/AUTH_test/inbox', 'X-Container-Sync-Key': 'shared-secret' });
    await a.request('PUT', '/v1/AUTH_test/outbox/o', {}, 'x');
    await a.runDaemons('container-sync');
    await a.runDaemons('container-sync');
    assert.equal(await names(b, 'inbox'), []);
    const unknown = await a.request('POST', '/v1/AUTH_test/outbox', { 'X-Container-Sync-To': '//nowhere/beta/AUTH_test/inbox' });
    assert.is(unknown.status, 400);
    assert.is(unknown.body.toString(), "No realm key for 'nowhere'");
    const noCluster = await a.request('PUT', '/v1/AUTH_test/other', { 'X-Container-Sync-To': '//test/gamma/AUTH_test/inbox' });
    assert.is(noCluster.status, 400);
    assert.is(noCluster.body.toString(), "No cluster endpoint for 'test' 'gamma'");
    assert.is((await a.request('HEAD', '/v1/AUTH_test/other')).status, 404, 'nothing made');
    // Only the account's owner sees the sync settings.
    const head = await a.request('HEAD', '/v1/AUTH_test/outbox');
    assert.is(head.headers['x-container-sync-to'], '//test/beta/AUTH_test/inbox');
  }));

test('a full URL to an allowed host syncs with the container key itself (X-Container-Sync-Key), where the receiving proxy keeps client timestamps', () =>
  withTwoClusters(async (a, b) => {
    await b.request('PUT', '/v1/AUTH_test/inbox', { 'X-Container-Sync-Key': 'shared-secret' });
    await a.request('PUT', '/v1/AUTH_test/outbox', { 'X-Container-Sync-To': `http://127.0.0.1:${b.port}/v1/AUTH_test/inbox`, 'X-Container-Sync-Key': 'shared-secret' });
    await a.request('PUT', '/v1/AUTH_test/outbox/legacy', {}, 'by key');
    await a.runDaemons('container-sync');
    await a.runDaemons('container-sync');
    assert.is((await b.request('GET', '/v1/AUTH_test/inbox/legacy')).body.toString(), 'by key');
    const refused = await a.request('POST', '/v1/AUTH_test/outbox', { 'X-Container-Sync-To': 'http://10.9.8.7/v1/AUTH_test/inbox' });
    assert.is(refused.status, 400);
    assert.is(refused.body.toString(), "Invalid host '10.9.8.7' in X-Container-Sync-To");
  }, { middleware: { gatekeeper: { shunt_inbound_x_timestamp: false } } }));

test("the old style is refused by a proxy whose gatekeeper sets client timestamps aside (Swift's default): the key alone does not authorize", () =>
  withTwoClusters(async (a, b) => {
    await b.request('PUT', '/v1/AUTH_test/inbox', { 'X-Container-Sync-Key': 'shared-secret' });
    await a.request('PUT', '/v1/AUTH_test/outbox', { 'X-Container-Sync-To': `http://127.0.0.1:${b.port}/v1/AUTH_test/inbox`, 'X-Container-Sync-Key': 'shared-secret' });
    await a.request('PUT', '/v1/AUTH_test/outbox/legacy', {}, 'by key');
    await a.runDaemons('container-sync');
    await a.runDaemons('container-sync');
    assert.is((await b.request('GET', '/v1/AUTH_test/inbox/legacy')).status, 404);
  }));

test.run();
