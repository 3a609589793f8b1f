import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pathExists } from '../../../../common/path-exists.ts';
import { describeDomain } from '../../../../compute/agent/hypervisor/domain-description.ts';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server rescue [--image] [--password]` / `unrescue`: Nova's rescue API and the libvirt driver's rescue on a memory hypervisor. */
const IMAGE = Buffer.alloc(4096, 'the server image ');
const RESCUE = Buffer.alloc(4096, 'a rescue system ');

test('rescue boots the server from a copy of the rescue image with its own disk second; unrescue boots its own disk again', async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }, { data: RESCUE, name: 'rescue-img' }] });
  try {
    const { c, demo, admin, id } = s;
    const dir = join(s.agent.stateDir, id);
    const own = Buffer.alloc(4096, 'what the guest wrote ');
    await writeFile(join(dir, 'disk'), own);
    const act = (body: unknown) => c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body });
    const show = async () => (await c.request('GET', `/v2.1/servers/${id}`, { token: admin })).json.server;
    const disks = async () => describeDomain(await s.agent.hypervisor.domainXml(`instance-${id}`, { inactive: true })).disks.map((d) => d.path.slice(dir.length + 1));

    const res = await act({ rescue: { adminPass: 'MySecret1', rescue_image_ref: s.imageIds[1] } });
    assert.equal([res.status, res.json], [200, { adminPass: 'MySecret1' }]);
    assert.is((await show())['OS-EXT-STS:task_state'], 'rescuing');
    await s.agent.agent.drain();
    const rescued = await show();
    assert.equal([rescued.status, rescued['OS-EXT-STS:vm_state'], rescued['OS-EXT-STS:task_state'], rescued['OS-EXT-STS:power_state']], ['RESCUE', 'rescued', null, 1]);
    assert.equal(await disks(), ['disk.rescue', 'disk'], 'the rescue disk first (vda), its own disk second (vdb)');
    assert.ok((await readFile(join(dir, 'disk.rescue'))).equals(RESCUE));
    assert.ok((await readFile(join(dir, 'disk'))).equals(own), 'its own disk is left as it was');
    assert.is((await s.agent.hypervisor.info(`instance-${id}`)).powerState, 'running');

    assert.is((await act({ unrescue: null })).status, 202);
    await s.agent.agent.drain();
    const back = await show();
    assert.equal([back.status, back['OS-EXT-STS:task_state'], back['OS-EXT-STS:power_state']], ['ACTIVE', null, 1]);
    assert.equal(await disks(), ['disk']);
    assert.is(await pathExists(join(dir, 'disk.rescue')), false);
    assert.ok((await readFile(join(dir, 'disk'))).equals(own));

    // Without an image the server's own image rescues it; a password is made.
    const again = await act({ rescue: null });
    assert.is(again.status, 200);
    assert.match(again.json.adminPass, /^[A-Za-z0-9_-]{12}$/);
    await s.agent.agent.drain();
    assert.ok((await readFile(join(dir, 'disk.rescue'))).equals(IMAGE));
    const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((a: { action: string }) => a.action);
    assert.equal(actions.slice(0, 3), ['rescue', 'unrescue', 'rescue']);
    const first = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin })).json.instanceActions.find((a: { action: string }) => a.action === 'unrescue');
    const events = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions/${first.request_id}`, { token: admin })).json.instanceAction.events;
    assert.equal(events.map((e: { event: string; result: string }) => [e.event, e.result]), [['compute_unrescue_instance', 'Success']]);
    // Deleting a rescued server takes both disks.
    assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
    await s.agent.agent.drain();
    assert.is(await pathExists(dir), false);
  } finally {
    await s.close();
  }
});

test("rescue's refusals are Nova's: the schema, an image Glance does not show, the states, a lock; nothing changes", async () => {
  const s = await startServerOnAgent({ images: [{ data: IMAGE }] });
  try {
    const { c, demo, admin, id } = s;
    const act = (body: unknown, token = demo) => c.request('POST', `/v2.1/servers/${id}/action`, { token, body });
    const message = async (body: unknown) => {
      const r = await act(body);
      return [r.status, (r.json.badRequest ?? r.json.conflictingRequest)?.message];
    };
    assert.equal(await message({ rescue: { rescue_image_ref: 'nope' } }), [400, "Invalid input for field/attribute rescue_image_ref. Value: nope. 'nope' is not a 'uuid'"]);
    assert.equal(await message({ rescue: { adminPass: 5 } }), [400, "Invalid input for field/attribute adminPass. Value: 5. 5 is not of type 'string'"]);
    assert.equal(await message({ rescue: { image: 'x' } }), [400, "Invalid input for field/attribute rescue. Value: {'image': 'x'}. Additional properties are not allowed ('image' was unexpected)"]);
    const unknown = '7d7f3a2c-5a43-4f4e-9c55-5f0b7e6a0c11';
    assert.equal(await message({ rescue: { rescue_image_ref: unknown } }), [400, `Requested rescue image '${unknown}' is not supported`]);
    assert.equal(await message({ unrescue: null }), [409, `Cannot 'unrescue' instance ${id} while it is in vm_state active`]);
    assert.is((await act({ pause: null })).status, 202);
    await s.agent.agent.drain();
    assert.equal(await message({ rescue: null }), [409, `Cannot 'rescue' instance ${id} while it is in vm_state paused`]);
    assert.is((await act({ unpause: null })).status, 202);
    await s.agent.agent.drain();
    assert.is((await act({ lock: null }, admin)).status, 202);
    assert.equal(await message({ rescue: null }), [409, `Instance ${id} is locked`]);
    const server = (await c.request('GET', `/v2.1/servers/${id}`, { token: admin })).json.server;
    assert.equal([server.status, server['OS-EXT-STS:task_state']], ['ACTIVE', null]);
    assert.equal(describeDomain(await s.agent.hypervisor.domainXml(`instance-${id}`, { inactive: true })).disks.length, 1);
  } finally {
    await s.close();
  }
});

test.run();
