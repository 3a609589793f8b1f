import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readVolume, knownData, changeSpots, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let alice: string;
let bob: string;
let admin: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, bob, admin } = volumeUsers(api));
});
test.after(() => api.close());

async function createVolume(token: string, project: string, body: Record<string, unknown>): Promise<string> {
  const res = await api.request('POST', `/v3/${project}/volumes`, token, { volume: body });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  return res.json.volume.id;
}

test('version discovery: / is 300 Multiple Choices, /v3/ 200, both without a token', async () => {
  const root = await api.request('GET', '/', '');
  assert.is(root.status, 300);
  assert.is(root.json.versions[0].id, 'v3.0');
  assert.is(root.json.versions[0].version, '3.71');
  assert.is(root.json.versions[0].min_version, '3.0');
  const v3 = await api.request('GET', '/v3/', '');
  assert.is(v3.status, 200);
  assert.match(v3.json.versions[0].links[1].href, /\/v3\/$/);
});

test("no token or a bad one is keystonemiddleware's 401; a bad microversion Cinder's 400/406, with the version headers", async () => {
  const none = await api.request('GET', '/v3/p-alice/volumes', '');
  assert.is(none.status, 401);
  assert.equal(none.json, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
  assert.is((await api.request('GET', '/v3/p-alice/volumes', 'gAAAAAnot-a-token')).status, 401);
  const tooNew = await api.request('GET', '/v3/p-alice/volumes', alice, undefined, { 'OpenStack-API-Version': 'volume 3.72' });
  assert.is(tooNew.status, 406);
  assert.equal(tooNew.json, { computeFault: { code: 406, message: 'Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71.' } });
  const ok = await api.request('GET', '/v3/p-alice/volumes', alice, undefined, { 'OpenStack-API-Version': 'volume 3.50' });
  assert.is(ok.status, 200);
  assert.is(ok.headers['openstack-api-version'], 'volume 3.50');
  assert.is(ok.headers['vary'], 'OpenStack-API-Version');
  assert.ok(ok.headers['x-openstack-request-id']?.startsWith('req-'));
});

test('a volume: created (202, creating), then available; shown, listed, extended, made bootable, deleted', async () => {
  const res = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1, name: 'data', description: 'd', metadata: { k: 'v' } } });
  assert.is(res.status, 202);
  assert.is(res.json.volume.status, 'creating');
  const id = res.json.volume.id;
  await api.worker.idle();
  const shown = await api.request('GET', `/v3/p-alice/volumes/${id}`, alice, undefined, { 'OpenStack-API-Version': 'volume 3.63' });
  assert.is(shown.status, 200);
  const v = shown.json.volume;
  assert.is(v.status, 'available');
  assert.is(v.size, 1);
  assert.is(v.name, 'data');
  assert.is(v.bootable, 'false');
  assert.is(v.volume_type, '__DEFAULT__');
  assert.ok(v.volume_type_id);
  assert.equal(v.metadata, { k: 'v' });
  assert.is(v.user_id, 'alice');
  assert.is(v['os-vol-host-attr:host'], undefined, 'the host is for admins');
  assert.is((await api.driver.getVolume(id))?.sizeBytes, UNIT);

  const list = await api.request('GET', '/v3/p-alice/volumes', alice);
  assert.equal(Object.keys(list.json.volumes.find((x: { id: string }) => x.id === id)).sort(), ['id', 'links', 'name']);
  const detail = await api.request('GET', '/v3/volumes/detail?name=data', alice);
  assert.is(detail.json.volumes.length, 1);

  assert.is((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-extend': { new_size: 2 } })).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.size, 2);
  assert.is((await api.driver.getVolume(id))?.sizeBytes, 2 * UNIT);
  const same = await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-extend': { new_size: 2 } });
  assert.equal(same.json, { badRequest: { code: 400, message: 'Invalid input received: New size for extend must be greater than current size. (current: 2, extended: 2).' } });

  assert.is((await api.request('POST', `/v3/p-alice/volumes/${id}/action`, alice, { 'os-set_bootable': { bootable: true } })).status, 200);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.bootable, 'true');

  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice)).status, 202);
  await api.worker.idle();
  const gone = await api.request('GET', `/v3/p-alice/volumes/${id}`, alice);
  assert.equal(gone.json, { itemNotFound: { code: 404, message: `Volume ${id} could not be found.` } });
  assert.is(await api.driver.getVolume(id), undefined);
});

test("bad input is Cinder's 400 and makes nothing; another project's volume is 404 but an admin sees it", async () => {
  for (const size of [0, -1, 'x', 1.5]) {
    const res = await api.request('POST', '/v3/p-bob/volumes', bob, { volume: { size } });
    assert.is(res.status, 400, String(size));
    assert.match(res.json.badRequest.message, /Invalid volume size provided for create request/);
  }
  assert.equal((await api.request('POST', '/v3/p-bob/volumes', bob, { size: 1 })).json, { badRequest: { code: 400, message: "Missing required element 'volume' in request body." } });
  assert.is((await api.request('GET', '/v3/p-bob/volumes', bob)).json.volumes.length, 0);

  const id = await createVolume(alice, 'p-alice', { size: 1, name: 'private' });
  assert.is((await api.request('GET', `/v3/p-bob/volumes/${id}`, bob)).status, 404);
  assert.is((await api.request('DELETE', `/v3/p-bob/volumes/${id}`, bob)).status, 404);
  const asAdmin = await api.request('GET', `/v3/p-admin/volumes/${id}`, admin);
  assert.is(asAdmin.json.volume['os-vol-host-attr:host'], 'test-host@file#file');
  const all = await api.request('GET', '/v3/p-admin/volumes?all_tenants=1', admin);
  assert.ok(all.json.volumes.some((v: { id: string }) => v.id === id));
  assert.not.ok((await api.request('GET', '/v3/p-bob/volumes?all_tenants=1', bob)).json.volumes.some((v: { id: string }) => v.id === id));
});

test('snapshots: a volume from a snapshot has its data; a volume with a snapshot cannot be deleted', async () => {
  const id = await createVolume(alice, 'p-alice', { size: 1, name: 'src' });
  const data = knownData(UNIT / 4, 3);
  await writeVolume(api.driver, id, data);
  const snap = await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: id, name: 's1' } });
  assert.is(snap.status, 202);
  assert.is(snap.json.snapshot.status, 'creating');
  await api.worker.idle();
  const sid = snap.json.snapshot.id;
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${sid}`, alice)).json.snapshot.status, 'available');

  const refused = await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice);
  assert.is(refused.status, 400);
  assert.match(refused.json.badRequest.message, /have snapshots/);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');

  const small = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { snapshot_id: sid, size: 0 } });
  assert.is(small.status, 400);
  const clone = await createVolume(alice, 'p-alice', { snapshot_id: sid });
  const cloned = (await api.request('GET', `/v3/p-alice/volumes/${clone}`, alice)).json.volume;
  assert.is(cloned.snapshot_id, sid);
  assert.is(cloned.size, 1);
  assert.is(cloned.status, 'available');
  assert.ok((await readVolume(api.driver, clone)).subarray(0, data.length).equals(data));

  assert.is((await api.request('DELETE', `/v3/p-alice/snapshots/${sid}`, alice)).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${sid}`, alice)).status, 404);
  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice)).status, 202);
});

test('backups: full, then incremental of changed data; restore both (new volume, existing volume); refusals change nothing', async () => {
  const id = await createVolume(alice, 'p-alice', { size: 1, name: 'backed' });
  const original = knownData(UNIT, 9);
  await writeVolume(api.driver, id, original);
  // The backup's task waits until the volume was seen `backing-up` (it could end before the GET).
  const start = api.worker.start.bind(api.worker);
  let release = (): void => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  api.worker.start = (name, task) => start(name, async () => {
    await gate;
    await task();
  });
  const full = await api.request('POST', '/v3/p-alice/backups', alice, { backup: { volume_id: id, name: 'full' } });
  api.worker.start = start;
  assert.is(full.status, 202);
  assert.equal(Object.keys(full.json.backup).sort(), ['id', 'links', 'name']);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'backing-up');
  release();
  await api.worker.idle();
  const fullId = full.json.backup.id;
  const fb = (await api.request('GET', `/v3/p-alice/backups/${fullId}`, alice)).json.backup;
  assert.is(fb.status, 'available');
  assert.is(fb.is_incremental, false);
  assert.is(fb.container, 'volumebackups');
  assert.is(fb.size, 1);
  assert.is(fb.object_count, UNIT / (64 * 1024));
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).json.volume.status, 'available');
  const store = api.stores.get('p-alice');
  assert.ok(store && (await store.listNames('volumebackups', `volume_${id}/`)).length > 0, "the chunks are in alice's own account");

  const changed = Buffer.from(original);
  changeSpots(changed, 0.01, 2);
  await writeVolume(api.driver, id, changed);
  const incr = await api.request('POST', '/v3/p-alice/backups', alice, { backup: { volume_id: id, name: 'incr', incremental: true } });
  await api.worker.idle();
  const incrId = incr.json.backup.id;
  const ib = (await api.request('GET', `/v3/p-alice/backups/${incrId}`, alice)).json.backup;
  assert.is(ib.is_incremental, true);
  assert.is(ib.object_count, 2, 'only the two changed runs');
  assert.is((await api.request('GET', `/v3/p-alice/backups/${fullId}`, alice)).json.backup.has_dependent_backups, true);

  const refusedDelete = await api.request('DELETE', `/v3/p-alice/backups/${fullId}`, alice);
  assert.equal(refusedDelete.json, { badRequest: { code: 400, message: 'Invalid backup: Incremental backups exist for this backup.' } });
  assert.is((await api.request('GET', `/v3/p-alice/backups/${fullId}`, alice)).json.backup.status, 'available');

  const restored = await api.request('POST', `/v3/p-alice/backups/${incrId}/restore`, alice, { restore: { name: 'back' } });
  assert.is(restored.status, 202);
  assert.is(restored.json.restore.backup_id, incrId);
  assert.is(restored.json.restore.volume_name, 'back');
  await api.worker.idle();
  const newId = restored.json.restore.volume_id;
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${newId}`, alice)).json.volume.status, 'available');
  assert.ok((await readVolume(api.driver, newId)).subarray(0, changed.length).equals(changed));

  const target = await createVolume(alice, 'p-alice', { size: 1 });
  assert.is((await api.request('POST', `/v3/p-alice/backups/${fullId}/restore`, alice, { restore: { volume_id: target } })).status, 202);
  await api.worker.idle();
  assert.ok((await readVolume(api.driver, target)).subarray(0, original.length).equals(original));

  const none = await api.request('POST', '/v3/p-alice/backups', alice, { backup: { volume_id: target, incremental: true } });
  assert.equal(none.json, { badRequest: { code: 400, message: 'Invalid backup: No backups available to do an incremental backup.' } });

  assert.is((await api.request('DELETE', `/v3/p-alice/backups/${incrId}`, alice)).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/backups/${fullId}`, alice)).json.backup.has_dependent_backups, false);
  assert.is((await api.request('DELETE', `/v3/p-alice/backups/${fullId}`, alice)).status, 202);
  await api.worker.idle();
  assert.equal(await store?.listNames('volumebackups', `volume_${id}/`), []);
  assert.is((await api.request('GET', '/v3/p-alice/backups', alice)).json.backups.length, 0);
});

test('restore to a smaller volume is refused and changes nothing', async () => {
  const big = await createVolume(bob, 'p-bob', { size: 2 });
  const b = await api.request('POST', '/v3/p-bob/backups', bob, { backup: { volume_id: big } });
  await api.worker.idle();
  const small = await createVolume(bob, 'p-bob', { size: 1 });
  const res = await api.request('POST', `/v3/p-bob/backups/${b.json.backup.id}/restore`, bob, { restore: { volume_id: small } });
  assert.equal(res.json, { badRequest: { code: 400, message: 'Invalid volume: volume size 1 is too small to restore backup of size 2.' } });
  assert.is((await api.request('GET', `/v3/p-bob/volumes/${small}`, bob)).json.volume.status, 'available');
  assert.is((await api.request('GET', `/v3/p-bob/backups/${b.json.backup.id}`, bob)).json.backup.status, 'available');
});

test.run();
