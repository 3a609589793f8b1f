import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backendPath } from '../../common/http/backend-client.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest, type TestResponse } from '../helpers/http.ts';

/** Six nodes: 1-3 in region 1 (the proxy's), 4-6 in region 2. */
const regionOf = (n: number): number => (n <= 3 ? 1 : 2);

async function withCluster(proxy: Record<string, unknown>, fn: (c: TestCluster) => Promise<void>): Promise<void> {
  const c = await startCluster({ nodes: 6, regionOf, proxy });
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

/** A request straight to node n's object server. */
function direct(c: TestCluster, n: number, method: string, names: [string, string, string]): Promise<TestResponse> {
  const node = c.nodes[n - 1] as TestCluster['nodes'][number];
  return httpRequest(node.ports.object, method, backendPath(node.device, c.rings.object.getPart(...names), ...names), { 'X-Backend-Storage-Policy-Index': '0' });
}

/** The node numbers of an object's primaries (devices are d<n>). */
function primaries(c: TestCluster, names: [string, string, string]): number[] {
  const ring = c.rings.object;
  return ring.getPartNodes(ring.getPart(...names)).map((d) => Number(d.device.slice(1)));
}

/** An object name with two of its three primaries in region 2 (the ring spreads replicas over both regions). */
function remoteName(c: TestCluster): [string, string, string] {
  for (let i = 0; i < 10_000; i++) {
    const names: [string, string, string] = ['AUTH_test', 'c', `o-${i}`];
    if (primaries(c, names).filter((n) => regionOf(n) === 2).length === 2) return names;
  }
  throw new Error('no name with two remote primaries');
}

test('write_affinity = r1: a PUT lands on region 1 only (its primary there and two local handoffs), reads find it, a DELETE reaches the local handoffs', () =>
  withCluster({ write_affinity: 'r1' }, async (c) => {
    assert.is((await c.request('PUT', '/v1/AUTH_test/c')).status, 201);
    const names = remoteName(c);
    const path = `/v1/${names.join('/')}`;
    assert.is((await c.request('PUT', path, {}, 'written locally')).status, 201);
    for (const n of [1, 2, 3]) assert.is((await direct(c, n, 'HEAD', names)).status, 200, `local node ${n} took the write`);
    for (const n of [4, 5, 6]) assert.is((await direct(c, n, 'HEAD', names)).status, 404, `remote node ${n} did not`);
    const got = await c.request('GET', path);
    assert.is(got.status, 200);
    assert.is(got.body.toString(), 'written locally');
    assert.is((await c.request('HEAD', path)).status, 200);
    // A DELETE goes to the primaries and, per remote primary, a local handoff: every region 1 node.
    assert.is((await c.request('DELETE', path)).status, 204);
    for (const n of [1, 2, 3]) assert.is((await direct(c, n, 'HEAD', names)).status, 404, `local node ${n} has the tombstone`);
    assert.is((await c.request('GET', path)).status, 404);
  }));

test('write_affinity = r1: the replicators carry a locally written object to its primaries in region 2, and off the handoffs', () =>
  withCluster({ write_affinity: 'r1' }, async (c) => {
    assert.is((await c.request('PUT', '/v1/AUTH_test/c')).status, 201);
    const names = remoteName(c);
    assert.is((await c.request('PUT', `/v1/${names.join('/')}`, {}, 'moves later')).status, 201);
    const owners = primaries(c, names);
    for (let pass = 0; pass < 3; pass++) await c.runDaemons('object-replicator');
    for (const n of [1, 2, 3, 4, 5, 6]) assert.is((await direct(c, n, 'HEAD', names)).status, owners.includes(n) ? 200 : 404, `node ${n}`);
    const got = await c.request('GET', `/v1/${names.join('/')}`);
    assert.is(got.body.toString(), 'moves later');
  }));

test('without write_affinity the same PUT goes to the primaries, two of them in region 2', () =>
  withCluster({}, async (c) => {
    assert.is((await c.request('PUT', '/v1/AUTH_test/c')).status, 201);
    const names = remoteName(c);
    assert.is((await c.request('PUT', `/v1/${names.join('/')}`, {}, 'x')).status, 201);
    for (const n of [1, 2, 3, 4, 5, 6]) assert.is((await direct(c, n, 'HEAD', names)).status, primaries(c, names).includes(n) ? 200 : 404, `node ${n}`);
  }));

test('a read finds an object held only by a handoff (regression: reads stopped once every primary said 404, and never asked the handoffs)', () =>
  withCluster({}, async (c) => {
    assert.is((await c.request('PUT', '/v1/AUTH_test/c')).status, 201);
    const names: [string, string, string] = ['AUTH_test', 'c', 'on-a-handoff'];
    const ring = c.rings.object;
    const part = ring.getPart(...names);
    const handoff = [...ring.moreNodes(part)][0] as NonNullable<ReturnType<typeof ring.getPartNodes>[number]>;
    const node = c.nodes.find((n) => n.device === handoff.device) as TestCluster['nodes'][number];
    // As a write lands when its primaries are down: on a handoff, which replication later moves.
    const put = await httpRequest(node.ports.object, 'PUT', backendPath(node.device, part, ...names), { 'X-Backend-Storage-Policy-Index': '0', 'X-Timestamp': '1700000000.00000', 'Content-Type': 'text/plain', 'Content-Length': '4' }, 'kept');
    assert.is(put.status, 201);
    const got = await c.request('GET', `/v1/${names.join('/')}`);
    assert.is(got.status, 200);
    assert.is(got.body.toString(), 'kept');
    // A name no node holds is still a 404: the handoffs' own 404s are no answers, the primaries' are.
    assert.is((await c.request('GET', '/v1/AUTH_test/c/nowhere')).status, 404);
  }));

test.run();
