import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { ImageUnacceptable } from '../../../../../compute/volume/errors.ts';
import { imageToRaw } from '../../../../../compute/volume/image-to-raw.ts';
import { FakeImageApi } from '../../../../helpers/fake-openstack.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { knownData, readVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/**
 * `volume create --image` of images that are not raw: converted to raw with qemu-img as Cinder's
 * `fetch_to_raw` does, with its checks (the claimed format, backing files, the virtual size).
 * The images are real: made by `qemu-img convert` from known bytes.
 */
let api: TestVolumeApi;
let glance: FakeImageApi;
let alice: string;
let dir: { path: string; remove(): Promise<void> };

test.before(async () => {
  dir = await makeTempDir('qcow2-images-');
  glance = new FakeImageApi();
  api = await startVolumeApi({ images: glance });
  ({ alice } = volumeUsers(api));
});
test.after(async () => {
  await api.close();
  await dir.remove();
});

/** `data` as an image of `format` (qcow2, vmdk...), by qemu-img. */
async function image(data: Buffer, format: string, name: string, extra: readonly string[] = []): Promise<Buffer> {
  const raw = join(dir.path, `${name}.raw`);
  const out = join(dir.path, `${name}.${format}`);
  await writeFile(raw, data);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', format, ...extra, raw, out]);
  return readFile(out);
}

async function createFrom(imageId: string, size = 1): Promise<{ id: string; volume: Record<string, unknown> }> {
  const res = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size, imageRef: imageId } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  const id = res.json.volume.id as string;
  return { id, volume: (await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume };
}

test('a qcow2 image becomes a raw volume holding the guest bytes, bootable, with its volume_image_metadata', async () => {
  // Data with holes, so the qcow2 is smaller than the disk it describes.
  const data = Buffer.concat([knownData(64 * 1024, 3), Buffer.alloc(128 * 1024), knownData(64 * 1024, 9)]);
  const qcow2 = await image(data, 'qcow2', 'guest');
  assert.ok(!qcow2.equals(data) && qcow2.subarray(0, 4).toString('latin1') === 'QFI\xfb', 'a real qcow2 file');
  const img = glance.add({ name: 'guest-qcow2', data: qcow2, disk_format: 'qcow2', virtual_size: data.length, os_distro: 'cirros' });
  const { id, volume } = await createFrom(img.id);
  assert.is(volume['status'], 'available');
  assert.is(volume['bootable'], 'true');
  const meta = volume['volume_image_metadata'] as Record<string, string>;
  assert.equal([meta['disk_format'], meta['image_id'], meta['os_distro'], meta['size']], ['qcow2', img.id, 'cirros', String(qcow2.length)]);
  const bytes = await readVolume(api.driver, id);
  assert.is(bytes.length, UNIT);
  assert.ok(Buffer.from(bytes.subarray(0, data.length)).equals(data), 'the guest bytes, not the qcow2 file');
  assert.ok(bytes.subarray(data.length).every((b) => b === 0));
});

test('a single-file VMDK (monolithicSparse) converts too', async () => {
  const data = knownData(96 * 1024, 5);
  const vmdk = await image(data, 'vmdk', 'guest-vmdk', ['-o', 'subformat=monolithicSparse']);
  const img = glance.add({ data: vmdk, disk_format: 'vmdk' });
  const { id, volume } = await createFrom(img.id);
  assert.is(volume['status'], 'available');
  assert.ok(Buffer.from((await readVolume(api.driver, id)).subarray(0, data.length)).equals(data));
});

test('images Cinder refuses end the volume in error and write nothing: a format other than claimed, a backing file, a virtual size over the volume', async () => {
  const data = knownData(64 * 1024, 1);
  // Claimed qcow2, but raw data.
  const liar = glance.add({ data, disk_format: 'qcow2' });
  // A qcow2 overlay naming a backing file on this host.
  const backing = join(dir.path, 'secret.raw');
  await writeFile(backing, knownData(64 * 1024, 2));
  const overlayPath = join(dir.path, 'overlay.qcow2');
  execFileSync('qemu-img', ['create', '-f', 'qcow2', '-b', backing, '-F', 'raw', overlayPath]);
  const overlay = glance.add({ data: await readFile(overlayPath), disk_format: 'qcow2' });
  // A qcow2 whose disk is larger than the volume (2 "GiB" of the test's 1 MiB ones).
  const hugePath = join(dir.path, 'huge.qcow2');
  execFileSync('qemu-img', ['create', '-f', 'qcow2', hugePath, String(2 * UNIT)]);
  const huge = glance.add({ data: await readFile(hugePath), disk_format: 'qcow2' });
  for (const img of [liar, overlay, huge]) {
    const { id, volume } = await createFrom(img.id);
    assert.is(volume['status'], 'error', img.id);
    assert.ok((await readVolume(api.driver, id)).every((b) => b === 0), 'nothing written');
  }
  // Each for Cinder's reason, and nothing left in the conversion directory.
  const driver = new MemoryVolumeDriver();
  await driver.createVolume('v', UNIT);
  const file = await driver.openVolume('v', 'rw');
  const conversionDir = join(dir.path, 'conversion');
  const reasons: string[] = [];
  for (const img of [liar, overlay, huge]) {
    const data = glance.images.get(img.id)?.data as Buffer;
    try {
      await imageToRaw({ conversionDir, qemuImg: 'qemu-img', bytesPerGiB: UNIT }, img, (async function* () { yield data; })(), file);
      reasons.push('accepted');
    } catch (err) {
      reasons.push(err instanceof ImageUnacceptable ? err.reason : String(err));
    }
  }
  await file.close();
  assert.equal(reasons, [
    "The image format was claimed to be 'qcow2' but the image data appears to be in a different format.",
    `fmt=qcow2 backed by:${backing}`,
    "Image virtual size is 2GB and doesn't fit in a volume of size 1GB.",
  ]);
  assert.equal(await readdir(conversionDir), []);
});

test.run();
