import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathExists } from '../../../../common/path-exists.ts';
import { DomainNotFound } from '../../../../compute/agent/hypervisor/errors.ts';
import { T } from '../../../../compute/records.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import { OffsetClock } from '../../../helpers/offset-clock.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { startServerOnAgent, startServerOnTwoHosts, type TestCompute } from '../../../helpers/compute.ts';

/**
 * `openstack server shelve` / `unshelve`: Nova's shelve API, the host's shelve and offload
 * (compute/agent/shelve-steps.ts) and the conductor's unshelve, on memory hypervisors.
 */
const IMAGE = Buffer.alloc(4096, 'image bytes ');
const TINY = { vcpus: 1, memoryMiB: 512, diskGiB: 1 };
const NONE = { vcpus: 0, memoryMiB: 0, diskGiB: 0 };

const act = (c: TestCompute, token: string, id: string, body: unknown, version = '2.1') => c.request('POST', `/v2.1/servers/${id}/action`, { token, body, version });
const show = async (c: TestCompute, token: string, id: string) => (await c.request('GET', `/v2.1/servers/${id}`, { token, version: '2.47' })).json.server;
const used = async (c: TestCompute, host: string) => (await c.records.get<HostState>(T.hosts, host))?.value.used;
const shelvedImages = (c: TestCompute, name = 'vm-shelved') => [...c.images.images.values()].filter((i) => i.image.name === name);
const events = async (c: TestCompute, admin: string, id: string, action: string) => {
  const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin })).json.instanceActions;
  const a = actions.find((x: { action: string }) => x.action === action);
  return (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions/${a.request_id}`, { token: admin, version: '2.84' })).json.instanceAction.events.map((e: { event: string; result: string }) => [e.event, e.result]);
};

test('shelve offloads at once: the snapshot holds the disk, the host keeps nothing; unshelve boots the snapshot again and deletes it', async () => {
  const s = await startServerOnTwoHosts({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    const disk = join(s.agent.stateDir, id, 'disk');
    // Whole sectors, as a snapshot writes them.
    const written = Buffer.alloc(8192, 7);
    written.write('what the guest wrote before it was shelved\n');
    await writeFile(disk, written);
    const ports = () => [...c.networks.ports.values()].filter((p) => p.device_id === id).map((p) => p['binding:host_id']);
    assert.equal(ports(), ['node1']);

    const res = await act(c, demo, id, { shelve: null });
    assert.is(res.status, 202);
    assert.is(res.json, undefined);
    assert.is((await show(c, demo, id))['OS-EXT-STS:task_state'], 'shelving');
    await s.agent.agent.drain();
    const shelved = await show(c, admin, id);
    assert.equal([shelved.status, shelved['OS-EXT-STS:vm_state'], shelved['OS-EXT-STS:task_state'], shelved['OS-EXT-STS:power_state'], shelved['OS-EXT-SRV-ATTR:host'], shelved.hostId], ['SHELVED_OFFLOADED', 'shelved_offloaded', null, 4, null, '']);
    const [image] = shelvedImages(c);
    assert.ok(image, 'the snapshot image <name>-shelved');
    assert.equal([image.image.status, image.image['image_type'], image.image['instance_uuid'], image.image.visibility], ['active', 'snapshot', id, 'private']);
    assert.ok(image.data.equals(written), `the snapshot is the disk as the guest left it (${image.data.length} bytes: ${image.data.subarray(0, 40).toString()})`);
    assert.equal(await used(c, 'node1'), NONE, 'the claim is given back');
    assert.is(await pathExists(join(s.agent.stateDir, id)), false, "the server's files are gone from the host");
    await rejects(s.agent.hypervisor.info(`instance-${id}`), DomainNotFound, 'the domain is gone');
    assert.equal(ports(), [''], 'the port stays with the server, unbound from the host');
    assert.ok(Object.keys(shelved.addresses).length > 0, 'its addresses stay');
    assert.equal(await events(c, admin, id, 'shelve'), [['compute_shelve_instance', 'Success']]);

    // The cloud fills up meanwhile: unshelve goes wherever the scheduler finds room.
    assert.is((await act(c, demo, id, { unshelve: null })).status, 202);
    const placed = await show(c, admin, id);
    assert.equal([placed.status, placed['OS-EXT-STS:task_state']], ['SHELVED_OFFLOADED', 'unshelving']);
    const host = placed['OS-EXT-SRV-ATTR:host'] as string;
    const agent = host === 'node1' ? s.agent : s.node2;
    await agent.agent.drain();
    const back = await show(c, admin, id);
    assert.equal([back.status, back['OS-EXT-STS:task_state'], back['OS-EXT-STS:power_state'], back['OS-EXT-SRV-ATTR:host']], ['ACTIVE', null, 1, host]);
    assert.ok((await readFile(join(agent.stateDir, id, 'disk'))).equals(written), 'the disk is the snapshot');
    assert.is((await agent.hypervisor.info(`instance-${id}`)).powerState, 'running');
    assert.equal(shelvedImages(c), [], 'the snapshot is deleted once the server runs');
    assert.is(await pathExists(join(agent.stateDir, '_base', image.image.id)), false, 'nor kept in the image cache');
    assert.equal(await used(c, host), TINY);
    assert.equal(ports(), [host]);
    assert.equal(await events(c, admin, id, 'unshelve'), [['get_image_info', 'Success'], ['schedule_instances', 'Success'], ['compute_unshelve_instance', 'Success']]);
  } finally {
    await s.close();
  }
});

test("Nova's refusals: the vm and task states, a lock, shelveOffload for admins, unshelve's zone and host by microversion; nothing changed", async () => {
  const s = await startServerOnTwoHosts({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    const unshelveActive = await act(c, demo, id, { unshelve: null });
    assert.equal(unshelveActive.json, { conflictingRequest: { code: 409, message: `Cannot 'unshelve' instance ${id} while it is in vm_state active` } });
    assert.equal((await act(c, admin, id, { shelveOffload: null })).json, { conflictingRequest: { code: 409, message: `Cannot 'shelveOffload' instance ${id} while it is in vm_state active` } });
    assert.is((await act(c, demo, id, { 'os-stop': null })).status, 202);
    assert.equal((await act(c, demo, id, { shelve: null })).json, { conflictingRequest: { code: 409, message: `Cannot 'shelve' instance ${id} while it is in task_state powering-off` } });
    await s.agent.agent.drain();
    assert.is((await act(c, admin, id, { lock: null })).status, 202);
    assert.equal((await act(c, demo, id, { shelve: null })).json, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
    assert.is((await act(c, admin, id, { unlock: null })).status, 202);
    assert.equal(shelvedImages(c), [], 'no image made by a refused shelve');

    assert.is((await act(c, demo, id, { shelve: {} })).status, 202, 'SHUTOFF shelves too; any value is accepted');
    await s.agent.agent.drain();
    assert.is((await show(c, demo, id)).status, 'SHELVED_OFFLOADED');
    assert.equal((await act(c, demo, id, { shelve: null })).json.conflictingRequest.message, `Cannot 'shelve' instance ${id} while it is in vm_state shelved_offloaded`);
    const body = async (unshelve: unknown, version: string, token = demo) => (await act(c, token, id, { unshelve }, version)).json;
    assert.is((await body({}, '2.77')).badRequest.message, "Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property");
    assert.is((await body('x', '2.77')).badRequest.message, "Invalid input for field/attribute unshelve. Value: x. 'x' is not of type 'object', 'null'");
    assert.is((await body({ availability_zone: 'nova', host: 'node2' }, '2.77')).badRequest.message, "Invalid input for field/attribute unshelve. Value: {'availability_zone': 'nova', 'host': 'node2'}. Additional properties are not allowed ('host' was unexpected)");
    assert.is((await body({ availability_zone: 'mars' }, '2.77')).badRequest.message, 'The requested availability zone is not available');
    assert.is((await body({ host: 'node2' }, '2.91')).forbidden.message, "Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
    assert.is((await body({ host: 'node9' }, '2.91', admin)).badRequest.message, 'Compute host node9 could not be found.');
    assert.is((await body({ host: 'node2', availability_zone: 'other' }, '2.91', admin)).badRequest.message, 'The requested availability zone is not available');
    assert.is((await body({ foo: 1 }, '2.91')).badRequest.message, "Invalid input for field/attribute unshelve. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)");
    const after = await show(c, admin, id);
    assert.equal([after.status, after['OS-EXT-STS:task_state'], after['OS-EXT-SRV-ATTR:host']], ['SHELVED_OFFLOADED', null, null], 'nothing changed');
    assert.equal(await used(c, 'node1'), NONE);
    assert.equal(await used(c, 'node2'), NONE);

    // An admin names the host (2.91): the scheduler checks it, and the server lands there.
    assert.is((await act(c, admin, id, { unshelve: { host: 'node2' } }, '2.91')).status, 202);
    await s.node2.agent.drain();
    const there = await show(c, admin, id);
    assert.equal([there.status, there['OS-EXT-SRV-ATTR:host'], there['OS-EXT-STS:power_state']], ['ACTIVE', 'node2', 1], 'unshelved servers run, as Nova spawns them');
    assert.equal(await used(c, 'node2'), TINY);
  } finally {
    await s.close();
  }
});

test('with shelved_offload_time -1 a server stays SHELVED on its host: unshelve powers it on there; shelveOffload (admins) and the periodic offload take it off', async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }], agent: { shelvedOffloadTimeSeconds: -1 } });
  const { c, admin, demo, id } = s;
  const agent = s.agent;
  try {
    assert.is((await act(c, demo, id, { shelve: null })).status, 202);
    await agent.agent.drain();
    const shelved = await show(c, admin, id);
    assert.equal([shelved.status, shelved['OS-EXT-STS:power_state'], shelved['OS-EXT-SRV-ATTR:host']], ['SHELVED', 4, 'node1']);
    assert.is((await agent.hypervisor.info(`instance-${id}`)).powerState, 'shutdown', 'the guest is off but still defined');
    assert.equal(await used(c, 'node1'), TINY, 'the claim stays');
    assert.is(shelvedImages(c).length, 1);
    assert.is((await act(c, demo, id, { unshelve: { availability_zone: 'nova' } }, '2.77')).json.conflictingRequest.message, `Specifying an availability zone or a host when unshelving server "${id}" with status "shelved" is not supported. The server status must be SHELVED_OFFLOADED.`);

    assert.is((await act(c, demo, id, { unshelve: null })).status, 202);
    assert.is((await show(c, demo, id))['OS-EXT-STS:task_state'], 'powering-on');
    await agent.agent.drain();
    const on = await show(c, admin, id);
    assert.equal([on.status, on['OS-EXT-STS:power_state']], ['ACTIVE', 1]);
    assert.equal(shelvedImages(c), [], 'the start deletes the snapshot');
    assert.equal(await events(c, admin, id, 'unshelve'), [['compute_start_instance', 'Success']]);

    assert.is((await act(c, demo, id, { shelve: null })).status, 202);
    await agent.agent.drain();
    const offload = await act(c, demo, id, { shelveOffload: null });
    assert.is(offload.status, 403);
    assert.is(offload.json.forbidden.message, "Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed.");
    assert.is((await act(c, admin, id, { shelveOffload: null })).status, 202);
    await agent.agent.drain();
    assert.equal([(await show(c, admin, id)).status, await used(c, 'node1')], ['SHELVED_OFFLOADED', NONE]);
    assert.equal(await events(c, admin, id, 'shelveOffload'), [['compute_shelve_offload_instance', 'Success']]);
  } finally {
    await s.close();
  }
});

test("Nova's _poll_shelved_instances: a server shelved longer than shelved_offload_time is offloaded, a newer one is not", async () => {
  const clock = new OffsetClock();
  const s = await startServerOnAgent({ images: [{ data: IMAGE }], clock, agent: { shelvedOffloadTimeSeconds: 600 } });
  const { c, admin, demo, agent } = s;
  const imageId = s.imageIds[0] as string;
  try {
    const boot = async (name: string) => (await c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name, imageRef: imageId, flavorRef: '1', networks: 'none' } } })).json.server.id as string;
    const old = await boot('old');
    const young = await boot('young');
    await agent.agent.drain();
    assert.is((await act(c, demo, old, { shelve: null }, '2.37')).status, 202);
    await agent.agent.drain();
    clock.advance(400_000);
    assert.is((await act(c, demo, young, { shelve: null }, '2.37')).status, 202);
    await agent.agent.drain();
    clock.advance(300_000);
    assert.is(await agent.agent.pollShelved(), 1);
    await agent.agent.drain();
    assert.is((await show(c, admin, old)).status, 'SHELVED_OFFLOADED');
    assert.is((await show(c, admin, young)).status, 'SHELVED');
    assert.equal(await used(c, 'node1'), { vcpus: 2, memoryMiB: 1024, diskGiB: 2 }, "the young server's claim is left, beside the server never shelved");
  } finally {
    await s.close();
  }
});

test('deleting a shelved offloaded server deletes its snapshot and the ports compute made, with no host involved', async () => {
  const s = await startServerOnTwoHosts({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, id } = s;
    assert.is((await act(c, demo, id, { shelve: null })).status, 202);
    await s.agent.agent.drain();
    assert.is(shelvedImages(c).length, 1);
    assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
    assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).status, 404);
    assert.equal(shelvedImages(c), []);
    assert.equal([...c.networks.ports.values()].filter((p) => p.device_id === id), []);
  } finally {
    await s.close();
  }
});

test('unshelve without room: the server stays SHELVED_OFFLOADED with no task and the schedule event fails; a snapshot deleted meanwhile puts it in ERROR', async () => {
  const s = await startServerOnTwoHosts({ flavors: [{ name: 'm1.big', id: '3', ram: 6144, vcpus: 1, disk: 1 }], images: [{ data: IMAGE }] }, { resources: { vcpus: 4, memoryMiB: 1024, diskGiB: 100 } });
  try {
    const { c, demo, admin, imageIds } = s;
    const net = [...c.networks.networks.values()][0]?.id as string;
    const big = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'big', imageRef: imageIds[0], flavorRef: '3', networks: [{ uuid: net }] } } })).json.server.id as string;
    await s.agent.agent.drain();
    assert.is((await show(c, admin, big))['OS-EXT-SRV-ATTR:host'], 'node1');
    assert.is((await act(c, demo, big, { shelve: null })).status, 202);
    await s.agent.agent.drain();
    // A boot takes node1's room meanwhile; node2 never had room for the big flavor.
    const filler = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'filler', imageRef: imageIds[0], flavorRef: '3', networks: [{ uuid: net }] } } })).json.server.id as string;
    await s.agent.agent.drain();
    assert.is((await show(c, admin, filler)).status, 'ACTIVE');
    assert.is((await act(c, demo, big, { unshelve: null })).status, 202);
    const stuck = await show(c, admin, big);
    assert.equal([stuck.status, stuck['OS-EXT-STS:task_state'], stuck.fault], ['SHELVED_OFFLOADED', null, undefined]);
    const schedule = await events(c, admin, big, 'unshelve');
    assert.equal(schedule, [['get_image_info', 'Success'], ['schedule_instances', 'Error']]);

    for (const i of shelvedImages(c, 'big-shelved')) c.images.images.delete(i.image.id);
    assert.is((await act(c, demo, big, { unshelve: null })).status, 202);
    const error = await show(c, admin, big);
    assert.equal([error.status, error['OS-EXT-STS:task_state']], ['ERROR', null]);
    assert.match(error.fault.message, /^Unshelve attempted but the image [0-9a-f-]{36} cannot be found\.$/);
  } finally {
    await s.close();
  }
});

test('a shelve task run again after its upload (the agent stopped before it recorded SHELVED) uploads nothing again and offloads', async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    assert.is((await act(c, demo, id, { shelve: null })).status, 202);
    // What the first run left: the snapshot uploaded, the server still at its shelving task.
    const made = shelvedImages(c)[0] as ReturnType<typeof shelvedImages>[number];
    const first = Buffer.from('the first run uploaded this');
    c.images.images.set(made.image.id, { image: { ...made.image, status: 'active', size: first.length }, data: first });
    await s.agent.agent.drain();
    const after = await show(c, admin, id);
    assert.equal([after.status, after['OS-EXT-STS:task_state']], ['SHELVED_OFFLOADED', null]);
    assert.ok(c.images.images.get(made.image.id)?.data.equals(first), 'the uploaded snapshot is kept as it was');
  } finally {
    await s.close();
  }
});

test('an unshelve whose image lookup fails (Glance down) answers the error and leaves the server SHELVED_OFFLOADED without a task', async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    assert.is((await act(c, demo, id, { shelve: null })).status, 202);
    await s.agent.agent.drain();
    const get = c.images.get.bind(c.images);
    c.images.get = async () => {
      throw new Error('glance is down');
    };
    const res = await act(c, demo, id, { unshelve: null });
    c.images.get = get;
    assert.is(res.status, 500);
    const after = await show(c, admin, id);
    assert.equal([after.status, after['OS-EXT-STS:task_state']], ['SHELVED_OFFLOADED', null], 'it can be unshelved again');
    assert.is((await act(c, demo, id, { unshelve: null })).status, 202);
    await s.agent.agent.drain();
    assert.is((await show(c, admin, id)).status, 'ACTIVE');
  } finally {
    await s.close();
  }
});

test.run();
