import { createHash, randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backendPath } from '../../common/http/backend-client.ts';
import { HEADER_SIZE } from '../../object/diskfile/format.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest, type TestResponse } from '../helpers/http.ts';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** Node numbers (1-based) holding an object's primaries, and the rest. */
function placement(c: TestCluster, names: [string, string, string]): { primaries: number[]; others: number[] } {
  const nodes = c.rings.object.getNodes(...names).nodes;
  const primaries = nodes.map((d) => c.nodes.findIndex((n) => n.ports.object === d.port) + 1);
  return { primaries, others: c.nodes.map((n) => n.n).filter((n) => !primaries.includes(n)) };
}

/** A request straight to one node's object server, as swift-get-nodes' curl lines do. */
function direct(c: TestCluster, n: number, method: string, names: [string, string, string], headers: Record<string, string> = {}): Promise<TestResponse> {
  const node = c.nodes[n - 1] as TestCluster['nodes'][number];
  const part = c.rings.object.getPart(...names);
  return httpRequest(node.ports.object, method, backendPath(node.device, part, ...names), headers);
}

/** Whether node n has any file for the object's partition on its device. */
async function holdsPartition(c: TestCluster, n: number, names: [string, string, string]): Promise<boolean> {
  const node = c.nodes[n - 1] as TestCluster['nodes'][number];
  const part = c.rings.object.getPart(...names);
  return readdir(join(node.devices, node.device, 'objects', String(part))).then((e) => e.some((x) => /^[0-9a-f]{3}$/.test(x)), () => false);
}

async function withCluster(fn: (c: TestCluster) => Promise<void>): Promise<void> {
  const c = await startCluster();
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

test('an object written while a primary was down reaches it, and leaves the handoff', () =>
  withCluster(async (c) => {
    const names: [string, string, string] = ['AUTH_test', 'rep', 'obj'];
    await c.request('PUT', '/v1/AUTH_test/rep');
    const { primaries, others } = placement(c, names);
    const down = primaries[0] as number;
    const handoff = others[0] as number;
    await c.stopNode(down);
    const body = randomBytes(150_000);
    assert.is((await c.request('PUT', '/v1/AUTH_test/rep/obj', { 'X-Object-Meta-Color': 'green' }, body)).status, 201);
    assert.is((await direct(c, handoff, 'HEAD', names)).status, 200, 'the handoff took the write');
    await c.startNode(down);
    assert.is((await direct(c, down, 'HEAD', names)).status, 404);

    await c.runDaemons('object-replicator');

    for (const n of primaries) {
      const got = await direct(c, n, 'GET', names);
      assert.is(got.status, 200, `primary ${n}`);
      assert.is(md5(got.body), md5(body));
      assert.is(got.headers['x-object-meta-color'], 'green');
    }
    assert.is((await direct(c, handoff, 'HEAD', names)).status, 404, 'the handoff copy is gone');
    assert.is(await holdsPartition(c, handoff, names), false, 'and its partition with it');
  }));

test('a delete while a node is down does not resurrect when it returns', () =>
  withCluster(async (c) => {
    const names: [string, string, string] = ['AUTH_test', 'rep', 'zombie'];
    await c.request('PUT', '/v1/AUTH_test/rep');
    await c.request('PUT', '/v1/AUTH_test/rep/zombie', {}, 'alive');
    const { primaries } = placement(c, names);
    const down = primaries[2] as number;
    await c.stopNode(down);
    assert.is((await c.request('DELETE', '/v1/AUTH_test/rep/zombie')).status, 204);
    await c.startNode(down);
    assert.is((await direct(c, down, 'GET', names)).status, 200, 'the returning node still has the old copy');

    // The returning node's own replicator pushes nothing newer; the others push the tombstone.
    await c.runDaemons('object-replicator');
    for (const n of primaries) {
      const head = await direct(c, n, 'HEAD', names);
      assert.is(head.status, 404, `primary ${n} still serves the deleted object`);
      assert.ok(head.headers['x-backend-timestamp'], 'a tombstone, not nothing');
    }
    assert.is((await c.request('GET', '/v1/AUTH_test/rep/zombie', { 'X-Newest': 'true' })).status, 404);
  }));

test('metadata posted while a node was down reaches it', () =>
  withCluster(async (c) => {
    const names: [string, string, string] = ['AUTH_test', 'rep', 'meta'];
    await c.request('PUT', '/v1/AUTH_test/rep');
    await c.request('PUT', '/v1/AUTH_test/rep/meta', { 'X-Object-Meta-Version': '1' }, 'data');
    const { primaries } = placement(c, names);
    const down = primaries[1] as number;
    await c.stopNode(down);
    assert.is((await c.request('POST', '/v1/AUTH_test/rep/meta', { 'X-Object-Meta-Version': '2' })).status, 202);
    await c.startNode(down);
    await c.runDaemons('object-replicator');
    const head = await direct(c, down, 'HEAD', names);
    assert.is(head.headers['x-object-meta-version'], '2');
    assert.is(head.headers['etag'], md5(Buffer.from('data')));
  }));

test('a corrupted copy is quarantined by the auditor and restored by the replicator', () =>
  withCluster(async (c) => {
    const names: [string, string, string] = ['AUTH_test', 'rep', 'rot'];
    await c.request('PUT', '/v1/AUTH_test/rep');
    const body = randomBytes(200_000);
    await c.request('PUT', '/v1/AUTH_test/rep/rot', {}, body);
    const { primaries } = placement(c, names);
    const victim = primaries[1] as number;
    const node = c.nodes[victim - 1] as TestCluster['nodes'][number];
    const hash = c.hashPath.hash(...names);
    const dir = join(node.devices, node.device, 'objects', String(c.rings.object.getPart(...names)), hash.slice(-3), hash);
    const [file] = await readdir(dir);
    const handle = await open(join(dir, file as string), 'r+');
    await handle.write(Buffer.from([(body[150_000] as number) ^ 1]), 0, 1, HEADER_SIZE + 150_000 + 2 * 8);
    await handle.close();

    await c.runDaemons('object-auditor');
    const quarantined = await readdir(join(node.devices, node.device, 'quarantined', 'objects'));
    assert.equal(quarantined, [hash]);
    assert.is((await direct(c, victim, 'HEAD', names)).status, 404, 'the bad copy is gone');

    await c.runDaemons('object-replicator');
    const restored = await direct(c, victim, 'GET', names);
    assert.is(restored.status, 200);
    assert.is(md5(restored.body), md5(body), 'restored byte for byte');
  }));

test.run();
