import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server backup create --type T --rotation N`: Nova's createBackup and the host's `_rotate_backups`. */
test('backups of a type are kept to their rotation, oldest deleted first, other types untouched; rotation 0 keeps none; the answer by microversion', async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root disk ') }] });
  try {
    const backup = async (body: Record<string, unknown>, version = '2.1') => {
      const res = await s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, version, body: { createBackup: body } });
      await s.agent.agent.drain();
      return res;
    };
    const backups = (type: string) => [...s.c.images.images.values()].map((i) => i.image).filter((i) => i['image_type'] === 'backup' && i['backup_type'] === type && i['instance_uuid'] === s.id);
    const first = await backup({ name: 'b1', backup_type: 'daily', rotation: 2, metadata: { why: 'test' } });
    assert.is(first.status, 202);
    assert.match(first.headers.location ?? '', /\/v2\/images\/[0-9a-f-]{36}$/);
    const made = backups('daily');
    assert.equal(made.map((i) => [i.name, i.status, i['why']]), [['b1', 'active', 'test']]);
    assert.ok((s.c.images.images.get(made[0]?.id ?? '')?.data.length ?? 0) > 0, 'the disk was uploaded');
    await backup({ name: 'weekly-1', backup_type: 'weekly', rotation: 1 });
    await backup({ name: 'b2', backup_type: 'daily', rotation: '2' });
    const third = await backup({ name: 'b3', backup_type: 'daily', rotation: 2 }, '2.45');
    assert.equal(Object.keys(third.json), ['image_id']);
    assert.equal(backups('daily').map((i) => i.name).sort(), ['b2', 'b3'], 'b1 rotated out');
    assert.equal(backups('weekly').map((i) => i.name), ['weekly-1']);
    const none = await backup({ name: 'b4', backup_type: 'daily', rotation: 0 });
    assert.is(none.status, 202);
    assert.is(none.headers.location, undefined, 'no Location with rotation 0');
    assert.equal(backups('daily'), [], 'rotation 0 keeps none, the new one neither');
    const server = (await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.demo })).json.server;
    assert.equal([server.status, server['OS-EXT-STS:task_state']], ['ACTIVE', null]);
    const actions = (await s.c.request('GET', `/v2.1/servers/${s.id}/os-instance-actions`, { token: s.demo })).json.instanceActions;
    const last = actions.find((a: { action: string }) => a.action === 'createBackup');
    const events = (await s.c.request('GET', `/v2.1/servers/${s.id}/os-instance-actions/${last.request_id}`, { token: s.admin })).json.instanceAction.events;
    assert.equal(events.map((e: { event: string; result: string }) => [e.event, e.result]), [['compute_backup_instance', 'Success']]);
  } finally {
    await s.close();
  }
});

test("createBackup's refusals: the schema's 400s, a task in progress 409, and nothing made", async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root disk ') }] });
  try {
    const act = (body: unknown) => s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, body: { createBackup: body } });
    const count = () => s.c.images.images.size;
    const before = count();
    assert.match((await act({ name: 'b', rotation: 1 })).json.badRequest.message, /'backup_type' is a required property/);
    assert.match((await act({ name: 'b', backup_type: 'daily', rotation: -1 })).json.badRequest.message, /-1 is less than the minimum of 0$/);
    assert.match((await act({ name: 'b', backup_type: 'daily', rotation: 'x' })).json.badRequest.message, /'x' does not match '\^\[0-9\]\*\$'$/);
    assert.match((await act({ name: 'b', backup_type: 'daily', rotation: 1, extra: 1 })).json.badRequest.message, /Additional properties are not allowed \('extra' was unexpected\)/);
    assert.is((await s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, body: { 'os-stop': null } })).status, 202);
    assert.equal((await act({ name: 'b', backup_type: 'daily', rotation: 1 })).json, { conflictingRequest: { code: 409, message: `Cannot 'createBackup' instance ${s.id} while it is in task_state powering-off` } });
    assert.is(count(), before, 'no image made');
  } finally {
    await s.close();
  }
});

test.run();
