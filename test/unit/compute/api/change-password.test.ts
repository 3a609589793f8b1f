import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server set --root-password`: Nova's changePassword with the libvirt driver's answers. */
test("changePassword: the schema's 400, a stopped server's 409, then Nova's 409s: no guest agent in the image, or a driver that cannot set one", async () => {
  const s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'disk ') }] });
  try {
    const { c, demo, id } = s;
    const act = async (body: unknown) => {
      const r = await c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body });
      return [r.status, (Object.values(r.json ?? {})[0] as { message: string } | undefined)?.message];
    };
    assert.equal(await act({ changePassword: {} }), [400, "Invalid input for field/attribute changePassword. Value: {}. 'adminPass' is a required property"]);
    assert.equal(await act({ changePassword: { adminPass: 1 } }), [400, "Invalid input for field/attribute adminPass. Value: 1. 1 is not of type 'string'"]);
    assert.equal(await act({ changePassword: { adminPass: 's3cret' } }), [409, 'QEMU guest agent is not enabled']);
    const image = c.images.images.get(s.imageIds[0] as string);
    if (image) c.images.images.set(image.image.id, { ...image, image: { ...image.image, hw_qemu_guest_agent: 'yes' } });
    assert.equal(await act({ changePassword: { adminPass: 's3cret' } }), [409, 'Set admin password is not supported']);
    assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body: { 'os-stop': null } })).status, 202);
    await s.agent.agent.drain();
    assert.equal(await act({ changePassword: { adminPass: 's3cret' } }), [409, `Cannot 'changePassword' instance ${id} while it is in vm_state stopped`]);
    const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: demo })).json.instanceActions.map((a: { action: string }) => a.action);
    assert.equal(actions.filter((a: string) => a === 'changePassword').length, 2);
  } finally {
    await s.close();
  }
});

test.run();
