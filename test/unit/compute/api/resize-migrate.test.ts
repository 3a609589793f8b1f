import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathExists } from '../../../../common/path-exists.ts';
import { T } from '../../../../compute/records.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import { type ServerOnAgent, type ServerOnTwoHosts, startServerOnTwoHosts, type TestCompute } from '../../../helpers/compute.ts';

/**
 * `openstack server resize` and `server migrate` to another host (Nova's default
 * allow_resize_to_same_host = False), with two agents on memory hypervisors sharing one
 * record store and one disk transfer, as two storage nodes share the cluster.
 */
let c: TestCompute;
let demo: string;
let admin: string;
let id: string;
let node1: ServerOnAgent['agent'];
let node2: ServerOnTwoHosts['node2'];
let setup: ServerOnTwoHosts;
const IMAGE = Buffer.alloc(4096, 'moving disk ');
test.before(async () => {
  setup = await startServerOnTwoHosts({
    flavors: [{ name: 'm1.small', id: '2', ram: 1024, vcpus: 2, disk: 1 }, { name: 'm1.giant', id: '9', ram: 40_000, vcpus: 2, disk: 1 }],
    images: [{ data: IMAGE }],
  });
  ({ c, demo, admin, id, agent: node1, node2 } = setup);
});
test.after(() => setup.close());

const act = (body: unknown, version = '2.1', token = demo) => c.request('POST', `/v2.1/servers/${id}/action`, { token, body, version });
const show = async () => (await c.request('GET', `/v2.1/servers/${id}`, { token: admin, version: '2.47' })).json.server;
const used = async (host: string) => (await c.records.get<HostState>(T.hosts, host))?.value.used;
const bound = () => [...c.networks.ports.values()].filter((p) => p.device_id === id).map((p) => p['binding:host_id']);
const TINY = { vcpus: 1, memoryMiB: 512, diskGiB: 1 };
const SMALL = { vcpus: 2, memoryMiB: 1024, diskGiB: 1 };
const NONE = { vcpus: 0, memoryMiB: 0, diskGiB: 0 };

test('resize goes to the other host: the target claims the new flavor, the source keeps the old, the disk and ports follow; confirm cleans the source', async () => {
  assert.equal(await used('node1'), TINY);
  assert.is((await act({ resize: { flavorRef: '2' } })).status, 202);
  assert.is((await show()).status, 'RESIZE');
  assert.equal(await used('node1'), TINY, 'the old flavor stays claimed on the source');
  assert.equal(await used('node2'), SMALL, 'the new flavor is claimed on the target');
  await node1.agent.drain();
  assert.is((await show())['OS-EXT-STS:task_state'], 'resize_migrated');
  assert.is((await node1.hypervisor.info(`instance-${id}`)).powerState, 'shutdown', 'the source guest is stopped before its disk is sent');
  await node2.agent.drain();
  const s = await show();
  assert.is(s.status, 'VERIFY_RESIZE');
  assert.is(s['OS-EXT-SRV-ATTR:host'], 'node2');
  assert.is(s.flavor.original_name, 'm1.small');
  const guest = await node2.hypervisor.info(`instance-${id}`);
  assert.is(guest.powerState, 'running');
  assert.is(guest.vcpus, 2);
  assert.ok((await readFile(join(node2.stateDir, id, 'disk'))).equals(IMAGE), "the target's disk holds the source's bytes");
  assert.equal(bound(), ['node2']);
  assert.is(c.disks.objects.size, 1, 'the disk waits in the cluster until confirm');

  assert.is((await act({ confirmResize: null })).status, 204);
  assert.is((await show()).status, 'ACTIVE');
  assert.equal(await used('node1'), NONE, "confirm gives the source's claim back");
  await node1.agent.drain();
  assert.not.ok(await node1.hypervisor.info(`instance-${id}`).then(() => true, () => false), 'the source guest is undefined');
  assert.not.ok(await pathExists(join(node1.stateDir, id)), "the source's files are removed");
  assert.is(c.disks.objects.size, 0, 'the temporary object is removed');
  const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((x: { action: string }) => x.action);
  assert.ok(actions.includes('resize') && actions.includes('confirmResize'));
});

test("migrate: admin only, Nova's 400s for its own host, an unknown host", async () => {
  assert.is((await act({ migrate: null })).status, 403);
  const own = await act({ migrate: { host: 'node2' } }, '2.56', admin);
  assert.is(own.status, 400);
  assert.is(own.json.badRequest.message, 'Cannot migrate to the host where the server exists.');
  const unknown = await act({ migrate: { host: 'node7' } }, '2.56', admin);
  assert.is(unknown.status, 400);
  assert.is(unknown.json.badRequest.message, 'Compute host node7 could not be found.');
  assert.is((await show()).status, 'ACTIVE');
});

test('migrate to a named host (2.56), then revertResize: the server is back on its source, running, its ports bound there, every claim as before', async () => {
  assert.is((await act({ migrate: { host: 'node1' } }, '2.56', admin)).status, 202);
  await node2.agent.drain();
  await node1.agent.drain();
  const moved = await show();
  assert.is(moved.status, 'VERIFY_RESIZE');
  assert.is(moved['OS-EXT-SRV-ATTR:host'], 'node1');
  assert.is(moved.flavor.original_name, 'm1.small', 'a migration keeps the flavor');
  assert.equal(await used('node1'), SMALL);
  assert.equal(await used('node2'), SMALL);
  assert.equal(bound(), ['node1']);

  assert.is((await act({ revertResize: null })).status, 202);
  assert.is((await show()).status, 'REVERT_RESIZE');
  await node1.agent.drain();
  assert.equal(await used('node1'), NONE, "the target's claim is given back");
  await node2.agent.drain();
  const back = await show();
  assert.is(back.status, 'ACTIVE');
  assert.is(back['OS-EXT-SRV-ATTR:host'], 'node2');
  assert.equal(await used('node2'), SMALL);
  assert.equal(bound(), ['node2']);
  assert.is((await node2.hypervisor.info(`instance-${id}`)).powerState, 'running');
  assert.not.ok(await pathExists(join(node1.stateDir, id)), "the target's copy is removed");
  assert.is(c.disks.objects.size, 0);
});

test('a resize that fits no other host: accepted, then the server is ACTIVE on its host and flavor with its claims unchanged', async () => {
  assert.is((await act({ resize: { flavorRef: '9' } }, '2.1', admin)).status, 202);
  const s = await show();
  assert.is(s.status, 'ACTIVE');
  assert.is(s['OS-EXT-STS:task_state'], null);
  assert.is(s['OS-EXT-SRV-ATTR:host'], 'node2');
  assert.equal(await used('node1'), NONE);
  assert.equal(await used('node2'), SMALL);
});

test('a stopped server migrates and stays SHUTOFF; deleting it while it awaits confirmation gives both hosts their claims back and cleans the source', async () => {
  await act({ 'os-stop': null });
  await node2.agent.drain();
  assert.is((await act({ migrate: null }, '2.1', admin)).status, 202);
  await node2.agent.drain();
  await node1.agent.drain();
  const s = await show();
  assert.is(s.status, 'VERIFY_RESIZE');
  assert.is(s['OS-EXT-STS:vm_state'], 'resized');
  assert.is((await node1.hypervisor.info(`instance-${id}`)).powerState, 'shutdown', 'a stopped server is not started on its target');
  assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
  await node1.agent.drain();
  await node2.agent.drain();
  assert.equal(await used('node1'), NONE);
  assert.equal(await used('node2'), NONE);
  assert.not.ok(await pathExists(join(node2.stateDir, id)));
  assert.is(c.disks.objects.size, 0);
});

test("a move whose disk never reaches the target: ERROR on its source with the fault, each host's claims as before the move", async () => {
  const made = await c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name: 'vm3', imageRef: setup.imageIds[0], flavorRef: '1', networks: 'none' } } });
  const vm3 = made.json.server.id as string;
  await node1.agent.drain();
  await node2.agent.drain();
  const get = async () => (await c.request('GET', `/v2.1/servers/${vm3}`, { token: admin, version: '2.47' })).json.server;
  const source = (await get())['OS-EXT-SRV-ATTR:host'] as string;
  const [from, to] = source === 'node1' ? [node1, node2] : [node2, node1];
  const before = { node1: await used('node1'), node2: await used('node2') };
  assert.is((await c.request('POST', `/v2.1/servers/${vm3}/action`, { token: admin, body: { migrate: null } })).status, 202);
  await from.agent.drain();
  c.disks.objects.clear();
  await to.agent.drain();
  const s = await get();
  assert.is(s.status, 'ERROR');
  assert.is(s['OS-EXT-SRV-ATTR:host'], source);
  assert.ok(s.fault.message.length > 0);
  assert.equal({ node1: await used('node1'), node2: await used('node2') }, before);
  assert.not.ok(await to.hypervisor.info(`instance-${vm3}`).then(() => true, () => false), 'nothing is left on the target');
});

test.run();
