import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeImageApi } from '../../../../helpers/fake-openstack.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let glance: FakeImageApi;
let alice: string;

test.before(async () => {
  glance = new FakeImageApi();
  api = await startVolumeApi({ images: glance });
  ({ alice } = volumeUsers(api));
});
test.after(() => api.close());

test("volume create --image: the image's bytes in the volume, bootable, volume_image_metadata as Cinder shows it", async () => {
  const data = knownData(UNIT / 2, 7);
  const image = glance.add({ name: 'cirros', data, min_disk: 1, os_distro: 'cirros', hw_disk_bus: 'virtio' });
  const res = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, imageRef: image.id, name: 'boot' } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  const id = res.json.volume.id;
  await api.worker.idle();
  const v = (await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume;
  assert.is(v.status, 'available');
  assert.is(v.bootable, 'true');
  assert.equal(v.volume_image_metadata, {
    os_distro: 'cirros',
    hw_disk_bus: 'virtio',
    image_id: image.id,
    image_name: 'cirros',
    container_format: 'bare',
    disk_format: 'raw',
    min_disk: '1',
    min_ram: '0',
    size: String(data.length),
  });
  const bytes = await readVolume(api.driver, id);
  assert.ok(Buffer.from(bytes.subarray(0, data.length)).equals(data), 'the image data is at the start of the volume');
  assert.ok(bytes.subarray(data.length).every((b) => b === 0), 'the rest is zeros');
  // The same through `image_id`, v3's other name for it.
  const again = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, image_id: image.id } });
  assert.is(again.status, 202);
  await api.worker.idle();
});

test("volume create --image refusals are Cinder's 400 and make nothing", async () => {
  const before = (await api.request('GET', '/v3/p-alice/volumes', alice)).json.volumes.length;
  const unknown = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, imageRef: '7d0b1b52-0000-4000-8000-000000000000' } });
  assert.equal(unknown.json, { badRequest: { code: 400, message: 'Invalid image identifier or unable to access requested image.' } });
  const queued = glance.add({ status: 'queued' });
  const notActive = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, imageRef: queued.id } });
  assert.equal(notActive.json, { badRequest: { code: 400, message: `Invalid input received: Image ${queued.id} is not active.` } });
  const needsTwo = glance.add({ min_disk: 2 });
  const small = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, imageRef: needsTwo.id } });
  assert.equal(small.json, { badRequest: { code: 400, message: 'Invalid input received: Volume size 1GB cannot be smaller than the image minDisk size 2GB.' } });
  const bigImage = glance.add({ size: 3 * 1024 ** 3 });
  const tooBig = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 2, imageRef: bigImage.id } });
  assert.equal(tooBig.json, { badRequest: { code: 400, message: 'Invalid input received: Size of specified image 3GB is larger than volume size 2GB.' } });
  assert.is((await api.request('GET', '/v3/p-alice/volumes', alice)).json.volumes.length, before);
  assert.is((await api.request('GET', '/v3/p-alice/limits', alice)).json.limits.absolute.totalVolumesUsed, before, 'no quota held by a refused create');
});

test('os-volume_upload_image: a new image in Glance with the volume\'s bytes; the volume goes uploading, then available', async () => {
  const create = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, name: 'up' } });
  const id = create.json.volume.id;
  await api.worker.idle();
  const data = knownData(UNIT, 11);
  await writeVolume(api.driver, id, data);
  const res = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-volume_upload_image': { image_name: 'from-volume', force: false } }, { 'OpenStack-API-Version': 'volume 3.1' });
  assert.is(res.status, 202, JSON.stringify(res.json));
  const up = res.json['os-volume_upload_image'];
  assert.is(up.id, id);
  assert.is(up.status, 'uploading');
  assert.is(up.disk_format, 'raw');
  assert.is(up.container_format, 'bare');
  assert.is(up.image_name, 'from-volume');
  assert.is(up.visibility, 'private');
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
  const stored = glance.images.get(up.image_id);
  assert.ok(stored);
  assert.is(stored.image.status, 'active');
  assert.ok(stored.data.equals(data), "the image holds the volume's bytes");

  const noName = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-volume_upload_image': { disk_format: 'raw' } });
  assert.is(noName.status, 400);
  assert.match(noName.json.badRequest.message, /'image_name' is a required property/);
  const badFormat = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-volume_upload_image': { image_name: 'x', disk_format: 'iso' } });
  assert.is(badFormat.status, 400);
  // An upload in progress holds the volume: a second one is refused and makes no image.
  let release = (): void => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const upload = glance.upload.bind(glance);
  glance.upload = async (...args) => {
    await gate;
    return upload(...args);
  };
  try {
  const first = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-volume_upload_image': { image_name: 'first' } });
  assert.is(first.status, 202, JSON.stringify(first.json));
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'uploading');
  const count = glance.images.size;
  const busy = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-volume_upload_image': { image_name: 'busy' } });
  assert.equal(busy.json, { badRequest: { code: 400, message: `Invalid volume: Volume ${id} status must be available` } });
  assert.is(glance.images.size, count, 'no image made for a refused upload');
  } finally {
  release();
  }
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
});

test.run();
