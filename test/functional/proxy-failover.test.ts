import { createHash, randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HEADER_SIZE } from '../../object/diskfile/format.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/** Storage node numbers (1-based) of the primaries for an object, in ring order. */
function primaryNodes(c: TestCluster, account: string, container: string, object: string): number[] {
  const { nodes } = c.rings.object.getNodes(account, container, object);
  return nodes.map((d) => c.nodes.findIndex((n) => n.ports.object === d.port) + 1);
}

async function withCluster(fn: (c: TestCluster) => Promise<void>): Promise<void> {
  // Bodies relayed from the object servers: local reads have their own tests (local-reads.test.ts).
  const c = await startCluster({ proxy: { local_file_reads: false } });
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

test('one storage node down: writes, reads, listings and deletes still work', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/one');
    const [first] = primaryNodes(c, 'AUTH_test', 'one', 'obj');
    await c.stopNode(first as number);
    const body = randomBytes(50_000);
    assert.is((await c.request('PUT', '/v1/AUTH_test/one/obj', {}, body)).status, 201);
    const get = await c.request('GET', '/v1/AUTH_test/one/obj');
    assert.is(get.status, 200);
    assert.is(md5(get.body), md5(body));
    const list = JSON.parse((await c.request('GET', '/v1/AUTH_test/one?format=json')).body.toString());
    assert.equal(list.map((e: { name: string }) => e.name), ['obj']);
    assert.is((await c.request('DELETE', '/v1/AUTH_test/one/obj')).status, 204);
    assert.is((await c.request('GET', '/v1/AUTH_test/one/obj')).status, 404);
  }));

test('two of three primaries down: the write lands on handoffs and reads back; it is still there when they return', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/two');
    const primaries = primaryNodes(c, 'AUTH_test', 'two', 'obj');
    await c.stopNode(primaries[0] as number);
    await c.stopNode(primaries[1] as number);
    const body = randomBytes(200_000);
    const put = await c.request('PUT', '/v1/AUTH_test/two/obj', {}, body);
    assert.is(put.status, 201);
    assert.is(put.headers['etag'], md5(body));
    const get = await c.request('GET', '/v1/AUTH_test/two/obj');
    assert.is(get.status, 200);
    assert.is(md5(get.body), md5(body));
    await c.startNode(primaries[0] as number);
    await c.startNode(primaries[1] as number);
    const again = await c.request('GET', '/v1/AUTH_test/two/obj');
    assert.is(md5(again.body), md5(body), 'readable once the primaries are back (a 404 from them is not the last word)');
  }));

test('three nodes down out of four: no quorum, 503, and nothing is claimed stored', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/three');
    await c.stopNode(1);
    await c.stopNode(2);
    await c.stopNode(3);
    const put = await c.request('PUT', '/v1/AUTH_test/three/obj', {}, 'x');
    assert.is(put.status, 503);
    assert.match(put.headers['x-trans-id'] ?? '', /^tx/);
  }));

test('a GET whose replica breaks mid-stream resumes from another at the same byte', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/resume');
    const body = randomBytes(2 * 1024 * 1024);
    assert.is((await c.request('PUT', '/v1/AUTH_test/resume/big', {}, body)).status, 201);
    // Corrupt a block far into the first primary's copy: it serves the start, then cuts.
    const [first] = primaryNodes(c, 'AUTH_test', 'resume', 'big');
    const node = c.nodes[(first as number) - 1] as (typeof c.nodes)[number];
    const hash = c.hashPath.hash('AUTH_test', 'resume', 'big');
    const part = c.rings.object.getPart('AUTH_test', 'resume', 'big');
    const dir = join(node.devices, node.device, 'objects', String(part), hash.slice(-3), hash);
    const [file] = await readdir(dir);
    const handle = await open(join(dir, file as string), 'r+');
    const offset = 1_500_000;
    const at = HEADER_SIZE + offset + Math.floor(offset / 65_536) * 8;
    await handle.write(Buffer.from([(body[offset] as number) ^ 0xff]), 0, 1, at);
    await handle.close();
    const get = await c.request('GET', '/v1/AUTH_test/resume/big');
    assert.is(get.status, 200);
    assert.is(get.body.length, body.length);
    assert.is(md5(get.body), md5(body), 'every byte right');
    // A range read resumes too.
    const ranged = await c.request('GET', '/v1/AUTH_test/resume/big', { Range: 'bytes=1000000-1999999' });
    assert.is(ranged.status, 206);
    assert.ok(ranged.body.equals(body.subarray(1_000_000, 2_000_000)));
  }));

test('X-Newest asks every replica and returns the newest version', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/newest');
    await c.request('PUT', '/v1/AUTH_test/newest/o', {}, 'version 1');
    const [first] = primaryNodes(c, 'AUTH_test', 'newest', 'o');
    await c.stopNode(first as number);
    await c.request('PUT', '/v1/AUTH_test/newest/o', {}, 'version 2');
    await c.startNode(first as number);
    // The first primary missed version 2: a plain GET that asks it first sees version 1 (a proxy
    // whose read_affinity puts its zone first: zones are node numbers here); X-Newest asks all.
    const proxy = await c.anotherProxy({ sorting_method: 'affinity', read_affinity: `r1z${first}=1` });
    try {
      const token = await c.token();
      const stale = await httpRequest(proxy.port, 'GET', '/v1/AUTH_test/newest/o', { 'X-Auth-Token': token });
      assert.is(stale.body.toString(), 'version 1');
      const fresh = await httpRequest(proxy.port, 'GET', '/v1/AUTH_test/newest/o', { 'X-Auth-Token': token, 'X-Newest': 'true' });
      assert.is(fresh.body.toString(), 'version 2');
    } finally {
      await proxy.close();
    }
  }));

test('an error-limited node is skipped instead of waited for', () =>
  withCluster(async (c) => {
    await c.request('PUT', '/v1/AUTH_test/limited');
    await c.stopNode(1);
    // Enough failed connections bench node 1; later requests do not try it first.
    for (let i = 0; i < 20; i++) await c.request('PUT', `/v1/AUTH_test/limited/o${i}`, {}, 'x');
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.is((await c.request('GET', `/v1/AUTH_test/limited/o${i}`)).status, 200);
    assert.ok(performance.now() - started < 5_000);
  }));

/** Sends a whole request and drops the connection after `afterMs`, before the answer is read. */
function hangUp(port: number, head: string, body: Buffer, afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from(head), body]), () => setTimeout(() => socket.destroy(), afterMs));
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

test('client hang-ups do not error-limit storage nodes (regression: a benchmark run left every node benched and the proxy answering 503)', () =>
  withCluster(async (c) => {
    const token = await c.token();
    await c.request('PUT', '/v1/AUTH_test/hangup');
    assert.is((await c.request('PUT', '/v1/AUTH_test/hangup/big', {}, randomBytes(4 * 1024 * 1024))).status, 201);
    // Far more hang-ups than error_suppression_limit (10) per node, while the proxy waits on
    // the storage nodes, on reads and on uploads (as a load generator does when it stops).
    for (let i = 0; i < 40; i++) {
      const afterMs = i % 4;
      await hangUp(c.port, `GET /v1/AUTH_test/hangup/big HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\n\r\n`, Buffer.alloc(0), afterMs);
      await hangUp(c.port, `PUT /v1/AUTH_test/hangup/part-${i} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${token}\r\nContent-Length: 4096\r\n\r\n`, randomBytes(4096), afterMs);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const node of c.nodes) {
      const limited = c.rings.object.devices.filter((d) => d.port === node.ports.object).some((d) => c.proxy.context.limiter.isLimited(d));
      assert.is(limited, false, `node${node.n} is not error-limited`);
    }
    for (let i = 0; i < 5; i++) {
      assert.is((await c.request('PUT', `/v1/AUTH_test/hangup/after-${i}`, {}, 'still welcome')).status, 201);
      assert.is((await c.request('GET', `/v1/AUTH_test/hangup/after-${i}`)).status, 200);
    }
  }));

test.run();
