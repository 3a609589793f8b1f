import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let alice: string;
const V = { 'OpenStack-API-Version': 'volume 3.44' };

test.before(async () => {
  api = await startVolumeApi();
  ({ alice } = volumeUsers(api));
});
test.after(() => api.close());

test('attachments: reserve, connect, complete (in-use, listed on the volume), delete (available again)', async () => {
  const vol = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } });
  await api.worker.idle();
  const id = vol.json.volume.id;
  const server = '0f5c5a58-1111-4222-8333-444455556666';
  assert.is((await api.request('POST', '/v3/p-alice/attachments', alice, { attachment: { volume_uuid: id, instance_uuid: server } })).status, 404, 'no attachments API before 3.27');

  const made = await api.request('POST', '/v3/p-alice/attachments', alice, { attachment: { volume_uuid: id, instance_uuid: server } }, V);
  assert.is(made.status, 200, JSON.stringify(made.json));
  const a = made.json.attachment;
  assert.is(a.status, 'reserved');
  assert.is(a.instance, server);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'reserved');
  const again = await api.request('POST', '/v3/p-alice/attachments', alice, { attachment: { volume_uuid: id, instance_uuid: server } }, V);
  assert.equal(again.json, { badRequest: { code: 400, message: `Invalid volume: Volume ${id} status must be available or downloading to reserve, but the current status is reserved.` } });

  const connected = await api.request('PUT', `/v3/p-alice/attachments/${a.id}`, alice, { attachment: { connector: { host: 'node1', mountpoint: '/dev/vdb', initiator: 'iqn.x' } } }, V);
  assert.is(connected.status, 200);
  assert.is(connected.json.attachment.status, 'attaching');
  assert.is(connected.json.attachment.connection_info.driver_volume_type, 'local');
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'attaching');

  assert.is((await api.request('POST', `/v3/p-alice/attachments/${a.id}/action`, alice, { 'os-complete': {} }, V)).status, 204);
  const inUse = (await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume;
  assert.is(inUse.status, 'in-use');
  assert.is(inUse.attachments.length, 1);
  assert.is(inUse.attachments[0].server_id, server);
  assert.is(inUse.attachments[0].attachment_id, a.id);
  assert.is(inUse.attachments[0].device, '/dev/vdb');
  assert.is(inUse.attachments[0].host_name, 'node1');
  const listed = await api.request('GET', `/v3/p-alice/attachments/detail?volume_id=${id}`, alice, undefined, V);
  assert.is(listed.json.attachments[0].status, 'attached');

  // The bad input of issue 19: an in-use volume is not deleted, and nothing changes.
  const del = await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice);
  assert.is(del.status, 400);
  assert.match(del.json.badRequest.message, /must not be migrating, attached/);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'in-use');
  assert.ok(await api.driver.getVolume(id));
  // A snapshot of an attached volume needs --force.
  const snap = await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: id } });
  assert.is(snap.status, 400);
  assert.is((await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: id, force: true } })).status, 202);
  await api.worker.idle();

  assert.is((await api.request('DELETE', `/v3/p-alice/attachments/${a.id}`, alice, undefined, V)).status, 200);
  const back = (await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume;
  assert.is(back.status, 'available');
  assert.equal(back.attachments, []);
  assert.is((await api.request('GET', `/v3/p-alice/attachments/${a.id}`, alice, undefined, V)).status, 404);
});

test("attach modes: a read-only volume's attachment is ro whatever was asked; 3.54's mode, else the connector's, else rw; a mode not rw/ro is a 400", async () => {
  const make = async (readonly?: boolean): Promise<string> => {
    const id = (await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } })).json.volume.id as string;
    await api.worker.idle();
    if (readonly !== undefined) await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-update_readonly_flag': { readonly } });
    return id;
  };
  const attach = async (id: string, extra: Record<string, unknown>, connector: Record<string, unknown>, version = '3.54') => {
    const made = await api.request('POST', '/v3/p-alice/attachments', alice, { attachment: { volume_uuid: id, instance_uuid: '0f5c5a58-1111-4222-8333-444455556666', ...extra } }, { 'OpenStack-API-Version': `volume ${version}` });
    assert.is(made.status, 200, JSON.stringify(made.json));
    const first = made.json.attachment.attach_mode;
    const updated = (await api.request('PUT', `/v3/p-alice/attachments/${made.json.attachment.id}`, alice, { attachment: { connector: { host: 'node1', mountpoint: '/dev/vdb', ...connector } } }, V)).json.attachment;
    await api.request('DELETE', `/v3/p-alice/attachments/${made.json.attachment.id}`, alice, undefined, V);
    return [first, updated.attach_mode, updated.connection_info.data.access_mode];
  };
  const ro = await make(true);
  assert.equal(await attach(ro, {}, {}), ['ro', 'ro', 'ro']);
  assert.equal(await attach(ro, { mode: 'rw' }, {}), ['ro', 'ro', 'ro'], 'the flag wins over the mode asked for');
  assert.equal(await attach(ro, {}, { mode: 'rw' }), ['ro', 'ro', 'ro'], 'and over the connector');
  const plain = await make();
  assert.equal(await attach(plain, {}, {}), ['null', 'rw', 'rw']);
  assert.equal(await attach(plain, { mode: 'ro' }, {}), ['ro', 'ro', 'ro']);
  assert.equal(await attach(plain, {}, { mode: 'ro' }), ['null', 'ro', 'ro']);
  assert.equal(await attach(plain, { mode: 'ro' }, {}, '3.44'), ['null', 'rw', 'rw'], 'no mode before 3.54');
  // Set back to read-write, the volume attaches read-write (the value decides, not the key's presence).
  assert.equal(await attach(await make(false), {}, {}), ['null', 'rw', 'rw']);
  const bad = await api.request('POST', '/v3/p-alice/attachments', alice, { attachment: { volume_uuid: plain, mode: 'wo' } }, { 'OpenStack-API-Version': 'volume 3.54' });
  assert.equal(bad.json, { badRequest: { code: 400, message: "Invalid input for field/attribute mode. Value: wo. 'wo' is not one of ['rw', 'ro']" } });
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${plain}`, alice)).json.volume.status, 'available');
});

test.run();
