import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComputeHostRecord } from '../../compute/host-record.ts';
import { T } from '../../compute/records.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { COMPUTE_ACCOUNT_USERS, makeAgent, startCompute, type TestCompute } from '../helpers/compute.ts';

/**
 * The compute API and an agent with their records in a real (in-process) cluster, in
 * `AUTH_.compute` through its tempauth owner: flavors, a boot to ACTIVE, concurrent boots
 * whose claims race on the host's record through the proxy's conditional writes, delete.
 */
let cluster: TestCluster;
let c: TestCompute;
let a: Awaited<ReturnType<typeof makeAgent>>;
let admin: string;
let demo: string;
test.before(async () => {
  cluster = await startCluster({ users: COMPUTE_ACCOUNT_USERS });
  c = await startCompute({ cluster });
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  a = await makeAgent(c, 'node1', { vcpus: 2, memoryMiB: 2048, diskGiB: 100 });
  await a.agent.register();
});
test.after(async () => {
  await a.remove();
  await c.close();
  await cluster.close();
});

test('flavor create and list through the cluster; a second create of the name is 409', async () => {
  assert.is((await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } })).status, 200);
  assert.is((await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '2', ram: 512, vcpus: 1, disk: 1 } } })).status, 409);
  assert.equal((await c.request('GET', '/v2.1/flavors', { token: demo })).json.flavors.map((f: { name: string }) => f.name), ['m1.tiny']);
});

test('five concurrent boots on a host with room for three: three ACTIVE, two NoValidHost, the host never overcommitted', async () => {
  const imageId = c.images.add().id;
  const netId = c.networks.addNetwork('private').id;
  const made = await Promise.all(Array.from({ length: 5 }, (_, i) => c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: `vm${i}`, imageRef: imageId, flavorRef: '1', networks: [{ uuid: netId }] } } })));
  assert.equal(made.map((m) => m.status), [202, 202, 202, 202, 202]);
  await a.agent.drain();
  const list = await c.request('GET', '/v2.1/servers/detail', { token: demo });
  const statuses = list.json.servers.map((s: { status: string }) => s.status).sort();
  assert.equal(statuses, ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ERROR', 'ERROR']);
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value;
  assert.is(host?.used.memoryMiB, 1536);
  assert.is(host?.instances.length, 3);
});

test('delete every server: the host\'s claims go back to zero and the queue is empty', async () => {
  for (const s of (await c.request('GET', '/v2.1/servers', { token: demo })).json.servers) assert.is((await c.request('DELETE', `/v2.1/servers/${s.id}`, { token: demo })).status, 204);
  await a.agent.drain();
  assert.is((await c.request('GET', '/v2.1/servers', { token: demo })).json.servers.length, 0);
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value;
  assert.is(host?.used.memoryMiB, 0);
  assert.equal(host?.instances, []);
});

test.run();
