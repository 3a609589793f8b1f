import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { T } from '../../../../compute/records.ts';
import { type ServerOnAgent, startServerOnAgent, type TestCompute } from '../../../helpers/compute.ts';

/** `openstack server stop/start/reboot/pause/unpause/suspend/resume/lock/unlock` and the actions list. */
let c: TestCompute;
let admin: string;
let demo: string;
let a: ServerOnAgent['agent'];
let id: string;
let setup: ServerOnAgent;
test.before(async () => {
  // A disk of whole 512-byte sectors, as real images are (qemu-img reads sectors).
  setup = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'disk sector ') }] });
  ({ c, admin, demo, agent: a, id } = setup);
});
test.after(() => setup.close());

const act = (body: unknown, token = demo, version = '2.1') => c.request('POST', `/v2.1/servers/${id}/action`, { token, body, version });
const show = async () => (await c.request('GET', `/v2.1/servers/${id}`, { token: demo, version: '2.73' })).json.server;
const queued = async (): Promise<void> => {
  while ((await c.records.list(T.queue)).entries.length === 0) await new Promise((r) => setImmediate(r));
};
const domainState = async () => (await a.hypervisor.info(`instance-${id}`)).powerState;

test('os-stop: powering-off, then SHUTOFF with power state 4 and the domain shut off; stopping again is 409', async () => {
  assert.is((await act({ 'os-stop': null })).status, 202);
  assert.is((await show())['OS-EXT-STS:task_state'], 'powering-off');
  const again = await act({ 'os-stop': null });
  assert.equal(again.json, { conflictingRequest: { code: 409, message: `Cannot 'stop' instance ${id} while it is in task_state powering-off` } });
  await a.agent.drain();
  const s = await show();
  assert.is(s.status, 'SHUTOFF');
  assert.is(s['OS-EXT-STS:power_state'], 4);
  assert.is(await domainState(), 'shutdown');
  assert.equal((await act({ 'os-stop': null })).json.conflictingRequest.message, `Cannot 'stop' instance ${id} while it is in vm_state stopped`);
});

test('os-start, reboot SOFT (REBOOT while it runs) and HARD, pause/unpause, suspend/resume', async () => {
  assert.is((await act({ 'os-start': null })).status, 202);
  await a.agent.drain();
  assert.is((await show()).status, 'ACTIVE');
  assert.is(await domainState(), 'running');
  assert.is((await act({ reboot: { type: 'SOFT' } })).status, 202);
  assert.is((await show()).status, 'REBOOT');
  await a.agent.drain();
  assert.is((await show()).status, 'ACTIVE');
  assert.is((await act({ reboot: { type: 'HARD' } })).status, 202);
  assert.is((await show()).status, 'HARD_REBOOT');
  await a.agent.drain();
  assert.is((await act({ reboot: {} })).status, 400);
  for (const [action, status, domain] of [['pause', 'PAUSED', 'paused'], ['unpause', 'ACTIVE', 'running'], ['suspend', 'SUSPENDED', 'suspended'], ['resume', 'ACTIVE', 'running']] as const) {
    assert.is((await act({ [action]: null })).status, 202, action);
    await a.agent.drain();
    assert.is((await show()).status, status, action);
    assert.is(await domainState(), domain, action);
  }
  assert.equal((await act({ unpause: null })).json.conflictingRequest.message, `Cannot 'unpause' instance ${id} while it is in vm_state active`);
  assert.equal((await act({ frobnicate: null })).json, { badRequest: { code: 400, message: 'There is no such action: frobnicate' } });
});

test('createImage: a Glance snapshot image with Nova\'s properties; image_snapshot until the host uploaded the disk; 2.45 answers image_id', async () => {
  const old = await act({ createImage: { name: 'snap1', metadata: { purpose: 'backup' } } });
  assert.is(old.status, 202);
  assert.match(old.headers['location'] ?? '', /^http:\/\/glance\.example:9292\/v2\/images\/[0-9a-f-]{36}$/);
  const imageId = (old.headers['location'] as string).split('/').at(-1) as string;
  assert.is((await show())['OS-EXT-STS:task_state'], 'image_snapshot');
  assert.equal((await act({ createImage: { name: 'snap2' } })).json.conflictingRequest.message, `Cannot 'createImage' instance ${id} while it is in task_state image_snapshot`);
  await a.agent.drain();
  assert.is((await show())['OS-EXT-STS:task_state'], null);
  const image = c.images.images.get(imageId);
  assert.is(image?.image.status, 'active');
  assert.is(image?.image.disk_format, 'raw');
  assert.is(image?.image['image_type'], 'snapshot');
  assert.is(image?.image['instance_uuid'], id);
  assert.is(image?.image['purpose'], 'backup');
  assert.ok(image?.data.equals(Buffer.alloc(4096, 'disk sector ')), 'the server\'s disk, uploaded');
  const at245 = await act({ createImage: { name: 'snap3' } }, demo, '2.45');
  assert.match(at245.json.image_id, /^[0-9a-f-]{36}$/);
  await a.agent.drain();
  assert.is(c.images.images.get(at245.json.image_id)?.image.status, 'active');
});

test('createImage by an admin of another project\'s server (bug: the owner could not see it): a shared image, the server\'s project its member', async () => {
  const res = await act({ createImage: { name: 'admin-snap' } }, admin, '2.45');
  assert.is(res.status, 202, JSON.stringify(res.json));
  const imageId = res.json.image_id as string;
  const project = (await show()).tenant_id as string;
  assert.is(c.images.images.get(imageId)?.image['visibility'], 'shared');
  assert.equal(c.images.members.get(imageId), [project]);
  await a.agent.drain();
  assert.is(c.images.images.get(imageId)?.image.status, 'active');
  assert.is(c.images.members.get((await act({ createImage: { name: 'own-snap' } }, demo, '2.45')).json.image_id), undefined, 'the owner\'s own snapshot stays private, no members');
  await a.agent.drain();
});

test('lock: the owner can no longer stop or delete it (409); an admin\'s lock only an admin lifts; 2.73 reason', async () => {
  assert.is((await act({ lock: { locked_reason: 'maintenance' } }, demo, '2.73')).status, 202);
  const s = await show();
  assert.is(s.locked, true);
  assert.is(s.locked_reason, 'maintenance');
  assert.equal((await act({ 'os-stop': null })).json, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
  assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 409);
  assert.is((await act({ unlock: null })).status, 202);
  assert.is((await act({ lock: null }, admin)).status, 202);
  assert.is((await act({ unlock: null })).status, 403);
  assert.is((await act({ unlock: null }, admin)).status, 202);
  assert.is((await show()).locked, false);
});

test('os-getConsoleOutput: the console log from the host, the last `length` lines; control characters dropped', async () => {
  await writeFile(join(a.stateDir, id, 'console.log'), 'boot\nlogin: \x07\nline3\n');
  const asked = act({ 'os-getConsoleOutput': { length: 2 } });
  // The host answers through its queue, once the question is in it.
  await queued();
  await a.agent.drain();
  const res = await asked;
  assert.is(res.status, 200);
  assert.equal(res.json, { output: 'login: \nline3\n' });
  const all = act({ 'os-getConsoleOutput': {} });
  await queued();
  await a.agent.drain();
  assert.equal((await all).json, { output: 'boot\nlogin: \nline3\n' });
  assert.is((await act({ 'os-getConsoleOutput': { length: 'x' } })).status, 400);
});

test('os-instance-actions: every request, newest first; one by request id; 404 for an unknown one', async () => {
  const list = await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo });
  const names = list.json.instanceActions.map((x: { action: string }) => x.action);
  assert.is(names.at(-1), 'create');
  for (const n of ['stop', 'start', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock']) assert.ok(names.includes(n), n);
  const one = list.json.instanceActions[0];
  assert.match(one.request_id, /^req-/);
  const shown = await c.request('GET', `/v2.1/servers/${id}/os-instance-actions/${one.request_id}`, { token: demo });
  assert.is(shown.json.instanceAction.action, one.action);
  assert.is((await c.request('GET', `/v2.1/servers/${id}/os-instance-actions/req-nope`, { token: demo })).status, 404);
});

test.run();
