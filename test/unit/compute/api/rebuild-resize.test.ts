import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { T } from '../../../../compute/records.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import { type ServerOnAgent, startServerOnAgent, type TestCompute } from '../../../helpers/compute.ts';

/** `openstack server rebuild`, `server resize`, `server resize confirm` and `--revert`, as Nova answers them. */
let c: TestCompute;
let demo: string;
let a: ServerOnAgent['agent'];
let id: string;
let firstImage: string;
let secondImage: string;
let setup: ServerOnAgent;
test.before(async () => {
  setup = await startServerOnAgent({
    flavors: [{ name: 'm1.small', id: '2', ram: 1024, vcpus: 2, disk: 1 }, { name: 'm1.huge', id: '3', ram: 8000, vcpus: 2, disk: 1 }],
    images: [{ data: Buffer.alloc(1024, 'first ') }, { name: 'second', data: Buffer.alloc(2048, 'second ') }],
    allowResizeToSameHost: true,
  });
  ({ c, demo, agent: a, id } = setup);
  [firstImage, secondImage] = setup.imageIds as [string, string];
});
test.after(() => setup.close());

const act = (body: unknown, version = '2.1', token = demo) => c.request('POST', `/v2.1/servers/${id}/action`, { token, body, version });
const show = async (version = '2.47') => (await c.request('GET', `/v2.1/servers/${id}`, { token: demo, version })).json.server;
const used = async () => (await c.records.get<HostState>(T.hosts, 'node1'))?.value.used;
const domain = () => a.hypervisor.info(`instance-${id}`);

test('rebuild: 202 with the server and adminPass, REBUILD, then ACTIVE on the new image with the same ports and addresses', async () => {
  const before = await show();
  const res = await act({ rebuild: { imageRef: secondImage, name: 'rebuilt', adminPass: 'S3cret', metadata: { role: 'db' } } });
  assert.is(res.status, 202);
  assert.is(res.json.server.adminPass, 'S3cret');
  assert.is(res.json.server.status, 'REBUILD');
  assert.is(res.json.server.name, 'rebuilt');
  assert.is(res.json.server.image.id, secondImage);
  assert.is(res.json.server['OS-EXT-STS:task_state'], undefined, 'the extended attributes only from 2.75');
  assert.equal((await act({ rebuild: { imageRef: secondImage } })).json, { conflictingRequest: { code: 409, message: `Cannot 'rebuild' instance ${id} while it is in task_state rebuilding` } });
  await a.agent.drain();
  const after = await show();
  assert.is(after.status, 'ACTIVE');
  assert.equal(after.metadata, { role: 'db' });
  assert.equal(after.addresses, before.addresses);
  assert.ok(Object.keys(after.addresses).length > 0);
  assert.ok((await readFile(join(a.stateDir, id, 'disk'))).equals(Buffer.alloc(2048, 'second ')), 'the new image\'s bytes');
  assert.is((await domain()).powerState, 'running');
  const at275 = await act({ rebuild: { imageRef: firstImage } }, '2.75');
  assert.is(at275.json.server['OS-EXT-STS:task_state'], 'rebuilding');
  assert.match(at275.json.server.adminPass, /^.{12}$/);
  await a.agent.drain();
});

test('rebuild of a stopped server leaves it SHUTOFF; an unknown image is 400 "Cannot find image for rebuild"', async () => {
  await act({ 'os-stop': null });
  await a.agent.drain();
  assert.equal((await act({ rebuild: { imageRef: '0e7a5a8b-3a1c-4a8e-9a43-1b7e7b2f0c99' } })).json, { badRequest: { code: 400, message: 'Cannot find image for rebuild' } });
  assert.equal((await act({ rebuild: {} })).json.badRequest.message, "Invalid input for field/attribute rebuild. Value: {}. 'imageRef' is a required property");
  assert.is((await act({ rebuild: { imageRef: secondImage } })).status, 202);
  await a.agent.drain();
  assert.is((await show()).status, 'SHUTOFF');
  assert.is((await domain()).powerState, 'shutdown');
  await act({ 'os-start': null });
  await a.agent.drain();
  assert.is((await show()).status, 'ACTIVE');
});

test("resize: Nova's refusals (same flavor 400, unknown flavor 400, paused 409, confirm before resize 409)", async () => {
  assert.equal((await act({ resize: { flavorRef: '1' } })).json, { badRequest: { code: 400, message: 'When resizing, instances must change flavor!' } });
  assert.equal((await act({ resize: { flavorRef: '42' } })).json, { badRequest: { code: 400, message: 'Flavor 42 could not be found.' } });
  assert.equal((await act({ confirmResize: null })).json, { conflictingRequest: { code: 409, message: `Cannot 'confirmResize' instance ${id} while it is in vm_state active` } });
  assert.equal((await act({ revertResize: null })).json, { conflictingRequest: { code: 409, message: `Cannot 'revertResize' instance ${id} while it is in vm_state active` } });
  await act({ pause: null });
  await a.agent.drain();
  assert.equal((await act({ resize: { flavorRef: '2' } })).json, { conflictingRequest: { code: 409, message: `Cannot 'resize' instance ${id} while it is in vm_state paused` } });
  await act({ unpause: null });
  await a.agent.drain();
});

test('resize then confirmResize: RESIZE, VERIFY_RESIZE with the new flavor and both claims held, then ACTIVE holding only the new', async () => {
  assert.equal(await used(), { vcpus: 1, memoryMiB: 512, diskGiB: 1 });
  const res = await act({ resize: { flavorRef: '2' } });
  assert.is(res.status, 202);
  assert.is((await show()).status, 'RESIZE');
  assert.equal(await used(), { vcpus: 3, memoryMiB: 1536, diskGiB: 2 }, 'old and new flavor held while the resize is open');
  await a.agent.drain();
  const resized = await show();
  assert.is(resized.status, 'VERIFY_RESIZE');
  assert.is(resized.flavor.original_name, 'm1.small');
  assert.is((await domain()).vcpus, 2);
  assert.is((await domain()).memoryKiB, 1024 * 1024);
  assert.is((await domain()).powerState, 'running');
  assert.is((await act({ confirmResize: null })).status, 204);
  assert.is((await show()).status, 'ACTIVE');
  assert.equal(await used(), { vcpus: 2, memoryMiB: 1024, diskGiB: 1 });
  const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((x: { action: string }) => x.action);
  for (const n of ['rebuild', 'resize', 'confirmResize']) assert.ok(actions.includes(n), n);
});

test('resize then revertResize: REVERT_RESIZE, then ACTIVE with the old flavor, the domain and the claims as before', async () => {
  assert.is((await act({ resize: { flavorRef: '1' } })).status, 202);
  await a.agent.drain();
  assert.is((await show()).flavor.original_name, 'm1.tiny');
  assert.is((await act({ revertResize: null })).status, 202);
  assert.is((await show()).status, 'REVERT_RESIZE');
  await a.agent.drain();
  const s = await show();
  assert.is(s.status, 'ACTIVE');
  assert.is(s.flavor.original_name, 'm1.small');
  assert.is((await domain()).vcpus, 2);
  assert.equal(await used(), { vcpus: 2, memoryMiB: 1024, diskGiB: 1 });
  const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((x: { action: string }) => x.action);
  assert.ok(actions.includes('revertResize'));
});

test('a resize that does not fit beside the old flavor is accepted, then the server is back ACTIVE on its flavor with nothing claimed', async () => {
  assert.is((await act({ resize: { flavorRef: '3' } })).status, 202);
  await a.agent.drain();
  const s = await show();
  assert.is(s.status, 'ACTIVE');
  assert.is(s['OS-EXT-STS:task_state'], null);
  assert.is(s.flavor.original_name, 'm1.small');
  assert.equal(await used(), { vcpus: 2, memoryMiB: 1024, diskGiB: 1 });
});

test('a stopped server resizes and stays SHUTOFF after confirm; deleting a server awaiting confirmation gives both claims back', async () => {
  await act({ 'os-stop': null });
  await a.agent.drain();
  await act({ resize: { flavorRef: '1' } });
  await a.agent.drain();
  const s = await show();
  assert.is(s.status, 'VERIFY_RESIZE');
  assert.is(s['OS-EXT-STS:power_state'], 4);
  assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
  await a.agent.drain();
  assert.equal(await used(), { vcpus: 0, memoryMiB: 0, diskGiB: 0 });
  assert.equal((await c.records.get<HostState>(T.hosts, 'node1'))?.value.instances, []);
});

test.run();
