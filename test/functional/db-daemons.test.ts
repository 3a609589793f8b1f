import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccountBroker } from '../../account/backend.ts';
import type { Datadir } from '../../common/db/datadir.ts';
import type { OrderedKv } from '../../common/db/kv.ts';
import { decodeRecord, encodeRecord } from '../../common/db/record-codec.ts';
import { backendPath } from '../../common/http/backend-client.ts';
import type { ContainerBroker } from '../../container/backend.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

type Node = TestCluster['nodes'][number];

/** Node numbers (1-based) of an object's, container's or account's primaries, in ring order. */
function primaries(c: TestCluster, account: string, container?: string, object?: string): number[] {
  const kind = object !== undefined ? 'object' : container !== undefined ? 'container' : 'account';
  return c.rings[kind].getNodes(account, container, object).nodes.map((d) => c.nodes.findIndex((n) => n.ports[kind] === d.port) + 1);
}

function running(c: TestCluster, n: number): NonNullable<Node['running']> {
  const node = c.nodes[n - 1] as Node;
  if (!node.running) throw new Error(`node ${n} is stopped`);
  return node.running;
}

async function containerDb(c: TestCluster, n: number, account: string, container: string): Promise<ContainerBroker> {
  return (await running(c, n).container.datadirs.get((c.nodes[n - 1] as Node).device)).broker(c.hashPath.hash(account, container));
}

async function accountDb(c: TestCluster, n: number, account: string): Promise<AccountBroker> {
  return (await running(c, n).account.datadirs.get((c.nodes[n - 1] as Node).device)).broker(c.hashPath.hash(account));
}

interface ListedContainer {
  readonly name: string;
  readonly count: number;
  readonly bytes: number;
}

async function accountListing(c: TestCluster, account: string, token?: string): Promise<ListedContainer[]> {
  const res = await c.request('GET', `/v1/${account}?format=json`, token ? { 'X-Auth-Token': token } : {});
  return JSON.parse(res.body.toString() || '[]') as ListedContainer[];
}

let c: TestCluster;

test.before(async () => {
  c = await startCluster({ proxy: { allow_account_management: true } });
});

test.after(async () => {
  await c.close();
});

test('the container updater makes account listings true after object writes, even where the account update failed', async () => {
  // A container whose account replicas include a node that holds none of its container replicas.
  let container = '';
  let away = 0;
  for (let i = 0; !away; i++) {
    container = `counted${i}`;
    const holders = primaries(c, 'AUTH_test', container);
    away = primaries(c, 'AUTH_test').find((n) => !holders.includes(n)) ?? 0;
  }
  assert.is((await c.request('PUT', '/v1/AUTH_test/warmup')).status, 201, 'the account exists on all its replicas');
  await c.stopNode(away);
  assert.is((await c.request('PUT', `/v1/AUTH_test/${container}`)).status, 201);
  const sizes = [10, 20, 30, 40, 50];
  for (const [i, size] of sizes.entries()) assert.is((await c.request('PUT', `/v1/AUTH_test/${container}/o${i}`, {}, 'x'.repeat(size))).status, 201);
  await c.startNode(away);
  const missing = await (await accountDb(c, away, 'AUTH_test')).listContainers({ limit: 100, prefix: container });
  assert.equal(missing, [], 'the account replica that was away never heard of the container');
  const stale = (await accountListing(c, 'AUTH_test')).find((e) => e.name === container);
  assert.is(stale?.count ?? 0, 0, 'object writes alone do not reach the account');

  await c.runDaemons('container-updater');

  for (const n of primaries(c, 'AUTH_test')) {
    const [row] = await (await accountDb(c, n, 'AUTH_test')).listContainers({ limit: 1, prefix: container });
    assert.ok(row && 'object_count' in row, `account replica on node ${n} has the container`);
    assert.equal(row && 'object_count' in row ? [row.object_count, row.bytes_used] : [], [5, 150], `node ${n}`);
  }
  const listed = (await accountListing(c, 'AUTH_test')).find((e) => e.name === container);
  assert.equal([listed?.count, listed?.bytes], [5, 150]);
  for (const n of primaries(c, 'AUTH_test', container)) {
    const info = await (await containerDb(c, n, 'AUTH_test', container)).getInfo();
    assert.equal([info?.reported_object_count, info?.reported_bytes_used], [5, 150], `container replica on node ${n} remembers what it reported`);
  }
  // A delete is reported too.
  assert.is((await c.request('DELETE', `/v1/AUTH_test/${container}/o4`)).status, 204);
  await c.runDaemons('container-updater');
  const after = (await accountListing(c, 'AUTH_test')).find((e) => e.name === container);
  assert.equal([after?.count, after?.bytes], [4, 100]);
  const head = await c.request('HEAD', '/v1/AUTH_test');
  assert.ok(Number(head.headers['x-account-object-count']) >= 4);
});

test('a broken container database is quarantined by the auditor and restored by the replicator', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/audited')).status, 201);
  for (let i = 0; i < 4; i++) await c.request('PUT', `/v1/AUTH_test/audited/o${i}`, {}, 'abcd');
  const [, victim] = primaries(c, 'AUTH_test', 'audited') as [number, number];
  const hash = c.hashPath.hash('AUTH_test', 'audited');
  const datadir = await running(c, victim).container.datadirs.get((c.nodes[victim - 1] as Node).device);
  const kv = (datadir as unknown as Datadir<unknown> & { ctx: { kv: OrderedKv } }).ctx.kv;
  const stats = decodeRecord((await kv.get(`${hash}S`)) as Uint8Array) as Record<string, unknown>;
  await kv.batch([{ type: 'put', key: `${hash}S`, value: encodeRecord({ ...stats, policies: { '0': [40, 1] } }) }]);
  assert.is((await (await containerDb(c, victim, 'AUTH_test', 'audited')).getInfo())?.object_count, 40, 'it now claims 40 objects');

  await c.runDaemons('container-auditor');
  const node = c.nodes[victim - 1] as Node;
  const saved = await readdir(join(node.devices, node.device, 'quarantined', 'containers'));
  assert.equal(saved.filter((f) => f.startsWith(hash)).length, 1);
  assert.not.ok(await (await containerDb(c, victim, 'AUTH_test', 'audited')).exists());

  await c.runDaemons('container-replicator');
  const restored = await (await containerDb(c, victim, 'AUTH_test', 'audited')).getInfo();
  assert.equal([restored?.object_count, restored?.bytes_used], [4, 16]);
  await c.runDaemons('container-auditor');
  assert.is(running(c, victim).daemons.find((d) => d.name === 'container-auditor')?.recon().lastPass['quarantined'] ?? 0, 0);
});

test('the reaper empties a deleted account: objects and containers go, on every server', async () => {
  const tester2 = await c.token('test2:tester2');
  const as2 = { 'X-Auth-Token': tester2 };
  const containers = ['r1', 'r2', 'r3', 'r4'];
  const objects = ['a', 'b', 'c'];
  for (const name of containers) {
    assert.is((await c.request('PUT', `/v1/AUTH_test2/${name}`, as2)).status, 201);
    for (const o of objects) assert.is((await c.request('PUT', `/v1/AUTH_test2/${name}/${o}`, as2, `${name}/${o}`)).status, 201);
  }
  await c.runDaemons('container-updater');
  assert.equal((await accountListing(c, 'AUTH_test2', tester2)).map((e) => [e.name, e.count]), containers.map((n) => [n, 3]));
  const admin = await c.token('admin:admin');
  assert.is((await c.request('DELETE', '/v1/AUTH_test2', { 'X-Auth-Token': admin })).status, 204);

  await c.runDaemons('account-reaper');

  const reaped = c.nodes.reduce(
    (sum, node) => {
      const pass = running(c, node.n).daemons.find((d) => d.name === 'account-reaper')?.recon().lastPass ?? {};
      return { containers: sum.containers + (pass['containers_deleted'] ?? 0), objects: sum.objects + (pass['objects_deleted'] ?? 0) };
    },
    { containers: 0, objects: 0 },
  );
  assert.equal(reaped, { containers: 4, objects: 12 });
  for (const name of containers) {
    for (const o of objects) {
      const part = c.rings.object.getPart('AUTH_test2', name, o);
      for (const n of primaries(c, 'AUTH_test2', name, o)) {
        const node = c.nodes[n - 1] as Node;
        const head = await httpRequest(node.ports.object, 'HEAD', backendPath(node.device, part, 'AUTH_test2', name, o));
        assert.is(head.status, 404, `object ${name}/${o} on node ${n}`);
      }
    }
    for (const n of primaries(c, 'AUTH_test2', name)) {
      const state = await (await containerDb(c, n, 'AUTH_test2', name)).getState();
      assert.ok(state?.deleted, `container ${name} on node ${n} is deleted`);
      assert.is(state?.info.object_count, 0);
    }
  }
  for (const n of primaries(c, 'AUTH_test2')) {
    const info = await (await accountDb(c, n, 'AUTH_test2')).getInfo();
    assert.equal([info?.container_count, info?.object_count, info?.bytes_used], [0, 0, 0], `account replica on node ${n} is empty`);
  }
  // Nothing is left for a second pass.
  await c.runDaemons('account-reaper');
  for (const node of c.nodes) assert.is(running(c, node.n).daemons.find((d) => d.name === 'account-reaper')?.recon().lastPass['accounts'] ?? 0, 0);
});

test.run();
