import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathExists } from '../../../../common/path-exists.ts';
import { T } from '../../../../compute/records.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import { type ServerOnAgent, type ServerOnTwoHosts, startServerOnTwoHosts, type TestCompute } from '../../../helpers/compute.ts';

/**
 * `openstack server evacuate`: a server whose host is down is rebuilt on another from its image
 * (the hosts share no storage), and the host that comes back destroys its copy. Two agents on
 * memory hypervisors sharing one record store: node1 roomy, node2 with 1.5 GiB of RAM to give.
 */
let c: TestCompute;
let demo: string;
let admin: string;
let id: string;
let node1: ServerOnAgent['agent'];
let node2: ServerOnTwoHosts['node2'];
let setup: ServerOnTwoHosts;
const IMAGE = Buffer.alloc(4096, 'image bytes ');
test.before(async () => {
  setup = await startServerOnTwoHosts({ flavors: [{ name: 'm1.big', id: '3', ram: 2048, vcpus: 1, disk: 1 }], images: [{ data: IMAGE }] }, { resources: { vcpus: 4, memoryMiB: 2048, diskGiB: 100 } });
  ({ c, demo, admin, id, agent: node1, node2 } = setup);
});
test.after(() => setup.close());

const evacuate = (body: unknown, version: string, token = admin, server = id) => c.request('POST', `/v2.1/servers/${server}/action`, { token, body: { evacuate: body }, version });
const show = async (server = id) => (await c.request('GET', `/v2.1/servers/${server}`, { token: admin, version: '2.47' })).json.server;
const used = async (host: string) => (await c.records.get<HostState>(T.hosts, host))?.value.used;
const bound = () => [...c.networks.ports.values()].filter((p) => p.device_id === id).map((p) => p['binding:host_id']);
const defined = (agent: typeof node2, server = id) => agent.hypervisor.info(`instance-${server}`).then((i) => i.powerState, () => undefined);
const evacuations = async (server = id) => ((await c.request('GET', `/v2.1/os-migrations?instance_uuid=${server}&migration_type=evacuation`, { token: admin, version: '2.59' })).json.migrations as { status: string; source_compute: string; dest_compute: string | null }[]);
/** os-services' forced_down (2.53), as `openstack compute service set --down`. */
const forceDown = async (host: string, down: boolean) => {
  const service = (await c.request('GET', `/v2.1/os-services?host=${host}`, { token: admin, version: '2.53' })).json.services[0];
  assert.is((await c.request('PUT', `/v2.1/os-services/${service.id}`, { token: admin, version: '2.53', body: { forced_down: down } })).status, 200);
};
const TINY = { vcpus: 1, memoryMiB: 512, diskGiB: 1 };
const NONE = { vcpus: 0, memoryMiB: 0, diskGiB: 0 };

test("Nova's refusals: admin only, the body by microversion, an unknown or own host, a host still up", async () => {
  const policy = await evacuate({}, '2.14', demo);
  assert.is(policy.status, 403);
  assert.is(policy.json.forbidden.message, "Policy doesn't allow os_compute_api:os-evacuate to be performed.");
  const up = await evacuate({}, '2.14');
  assert.is(up.status, 400);
  assert.is(up.json.badRequest.message, 'Compute service of node1 is still in use.');
  const unknown = await evacuate({ host: 'node9' }, '2.14');
  assert.is(unknown.status, 404);
  assert.is(unknown.json.itemNotFound.message, 'Compute host node9 not found.');
  const own = await evacuate({ host: 'node1' }, '2.14');
  assert.is(own.json.badRequest.message, "The target host can't be the same one.");
  const shared = await evacuate({}, '2.1');
  assert.is(shared.json.badRequest.message, "Invalid input for field/attribute evacuate. Value: {}. 'onSharedStorage' is a required property");
  const force = await evacuate({ force: true }, '2.29');
  assert.is(force.json.badRequest.message, "Can't force to a non-provided destination");
  const gone = await evacuate({ host: 'node2', force: true }, '2.68');
  assert.is(gone.json.badRequest.message, "Invalid input for field/attribute evacuate. Value: {'host': 'node2', 'force': True}. Additional properties are not allowed ('force' was unexpected)");
  assert.is((await show()).status, 'ACTIVE');
  assert.equal(await evacuations(), []);
});

test('node1 forced down: evacuate (2.14) rebuilds the server on node2 from its image, its port bound there, node1 keeping its claim', async () => {
  await writeFile(join(node1.stateDir, id, 'disk'), 'what the guest wrote');
  await forceDown('node1', true);
  const res = await evacuate({}, '2.14');
  assert.is(res.status, 200);
  assert.is(res.json, undefined, 'no body from 2.14');
  const rebuilding = await show();
  assert.is(rebuilding.status, 'REBUILD');
  assert.is(rebuilding['OS-EXT-SRV-ATTR:host'], 'node1');
  const [m] = await evacuations();
  assert.equal([m?.status, m?.source_compute, m?.dest_compute], ['pre-migrating', 'node1', 'node2']);
  assert.equal(await used('node2'), TINY, 'the target claims the flavor');
  await node2.agent.drain();
  const s = await show();
  assert.is(s.status, 'ACTIVE');
  assert.is(s['OS-EXT-SRV-ATTR:host'], 'node2');
  assert.is(await defined(node2), 'running');
  assert.ok((await readFile(join(node2.stateDir, id, 'disk'))).equals(IMAGE), 'the disk is the image again: nothing is shared between hosts');
  assert.equal(bound(), ['node2']);
  assert.is((await evacuations())[0]?.status, 'done');
  assert.equal(await used('node1'), TINY, 'the source holds its claim until it comes back');
  const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((x: { action: string }) => x.action);
  assert.ok(actions.includes('evacuate'));
});

test("node1 comes back: its init_host destroys the evacuated guest and files and gives its claim back, and does not start the server there", async () => {
  assert.is(await defined(node1), 'running', 'the guest the down host still had');
  await node1.agent.initHost();
  assert.is(await defined(node1), undefined);
  assert.not.ok(await pathExists(join(node1.stateDir, id)));
  assert.equal(await used('node1'), NONE);
  assert.is((await evacuations())[0]?.status, 'completed');
  const s = await show();
  assert.is(s.status, 'ACTIVE');
  assert.is(s['OS-EXT-SRV-ATTR:host'], 'node2');
  await forceDown('node1', false);
});

test('before 2.14: adminPass in the answer, a named host forced (no scheduler), a stopped server stays SHUTOFF; onSharedStorage with adminPass is 400', async () => {
  assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body: { 'os-stop': null } })).status, 202);
  await node2.agent.drain();
  await forceDown('node2', true);
  const both = await evacuate({ onSharedStorage: true, adminPass: 'secret' }, '2.1');
  assert.is(both.json.badRequest.message, "admin password can't be changed on existing disk");
  const res = await evacuate({ onSharedStorage: 'False', host: 'node1' }, '2.1');
  assert.is(res.status, 200);
  assert.match(res.json.adminPass, /^.{12}$/);
  await node1.agent.drain();
  const s = await show();
  assert.is(s.status, 'SHUTOFF');
  assert.is(s['OS-EXT-SRV-ATTR:host'], 'node1');
  assert.is(await defined(node1), 'shutdown');
  await node2.agent.initHost();
  assert.is(await defined(node2), undefined);
  assert.equal(await used('node2'), NONE);
  await forceDown('node2', false);
});

test('onSharedStorage true (2.1): the target finds no shared disk, the server is ERROR on its source with the fault; evacuated again (2.14) it comes back ACTIVE', async () => {
  await forceDown('node1', true);
  const res = await evacuate({ onSharedStorage: true }, '2.1');
  assert.is(res.status, 200);
  assert.equal(res.json, { adminPass: null });
  await node2.agent.drain();
  const failed = await show();
  assert.is(failed.status, 'ERROR');
  assert.is(failed['OS-EXT-SRV-ATTR:host'], 'node1');
  assert.is(failed.fault.message, 'Invalid state of instance files on shared storage');
  assert.equal(await used('node2'), NONE, "the target's claim is given back");
  assert.is((await evacuations())[0]?.status, 'failed');
  assert.is(await defined(node2), undefined);

  assert.is((await evacuate({}, '2.14')).status, 200);
  await node2.agent.drain();
  const back = await show();
  assert.is(back.status, 'ACTIVE');
  assert.is(back['OS-EXT-SRV-ATTR:host'], 'node2');
  assert.is(await defined(node2), 'running');
  await node1.agent.initHost();
  assert.equal(await used('node1'), NONE);
  assert.equal((await evacuations()).map((m) => m.status), ['completed', 'failed', 'completed', 'completed']);
  await forceDown('node1', false);
});

test('a server with volumes attached is refused: volumes do not move with an evacuated server here', async () => {
  await c.records.put(T.blockDevices, id, { server: id, mappings: [{ uuid: 'b1', volume_id: 'v1', device_name: '/dev/vdb', tag: null, delete_on_termination: false, attachment_id: 'a1', attached: true, created_at: '2026-01-01T00:00:00.000000' }] });
  await forceDown('node2', true);
  const res = await evacuate({}, '2.14');
  assert.is(res.status, 409);
  assert.is(res.json.conflictingRequest.message, `Cannot evacuate instance ${id} with volumes attached: this cloud does not move volumes with an evacuated server.`);
  await c.records.delete(T.blockDevices, id);
  await forceDown('node2', false);
});

test('no host fits: a forced host keeps the vm state, a scheduled one leaves the server ERROR with No valid host; both migrations error', async () => {
  const made = await c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name: 'big', imageRef: setup.imageIds[0], flavorRef: '3', networks: 'none' } } });
  const big = made.json.server.id as string;
  await node1.agent.drain();
  assert.is((await show(big))['OS-EXT-SRV-ATTR:host'], 'node1', 'only node1 has room for it');
  await forceDown('node1', true);
  assert.is((await evacuate({ host: 'node2', force: true }, '2.29', admin, big)).status, 200);
  const kept = await show(big);
  assert.is(kept.status, 'ACTIVE');
  assert.is(kept['OS-EXT-STS:task_state'], null);
  assert.is((await evacuate({}, '2.14', admin, big)).status, 200);
  const s = await show(big);
  assert.is(s.status, 'ERROR');
  assert.is(s['OS-EXT-SRV-ATTR:host'], 'node1');
  assert.is(s.fault.message, 'No valid host was found. There are not enough hosts available.');
  assert.equal((await evacuations(big)).map((m) => m.status), ['error', 'error']);
  assert.equal(await used('node2'), TINY, 'node2 holds only the first server');
  await forceDown('node1', false);
});

test.run();
