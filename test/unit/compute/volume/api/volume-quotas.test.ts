import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let admin: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ admin } = volumeUsers(api));
});
test.after(() => api.close());

async function setQuota(project: string, quotaSet: Record<string, unknown>): Promise<void> {
  const res = await api.request('PUT', `/v3/p-admin/os-quota-sets/${project}`, admin, { quota_set: quotaSet });
  assert.is(res.status, 200, JSON.stringify(res.json));
}

async function createVolume(token: string, project: string, size: number): ReturnType<TestVolumeApi['request']> {
  const res = await api.request('POST', `/v3/${project}/volumes`, token, { volume: { size } });
  await api.worker.idle();
  return res;
}

async function volumeCount(token: string, project: string): Promise<number> {
  return (await api.request('GET', `/v3/${project}/volumes`, token)).json.volumes.length;
}

test("os-quota-sets: Cinder's defaults for a project with none; its members and admins read them; only admins change them", async () => {
  const carol = api.token('carol', 'p-carol');
  const shown = await api.request('GET', '/v3/p-carol/os-quota-sets/p-carol', carol);
  assert.is(shown.status, 200);
  assert.equal(shown.json.quota_set, {
    id: 'p-carol',
    volumes: 10,
    per_volume_gigabytes: -1,
    snapshots: 10,
    gigabytes: 1000,
    backups: 10,
    backup_gigabytes: 1000,
    volumes___DEFAULT__: -1,
    gigabytes___DEFAULT__: -1,
    snapshots___DEFAULT__: -1,
    groups: 10,
  });
  const defaults = await api.request('GET', '/v3/p-carol/os-quota-sets/p-carol/defaults', carol);
  assert.is(defaults.json.quota_set.volumes, 10);
  assert.is(defaults.json.quota_set.id, 'p-carol');

  const other = await api.request('GET', '/v3/p-carol/os-quota-sets/p-admin', carol);
  assert.is(other.status, 403);
  assert.equal(other.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:quotas:show to be performed." } });
  const notAdmin = await api.request('PUT', '/v3/p-carol/os-quota-sets/p-carol', carol, { quota_set: { volumes: 100 } });
  assert.is(notAdmin.status, 403);
  assert.equal(notAdmin.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:quotas:update to be performed." } });

  const bad = await api.request('PUT', '/v3/p-admin/os-quota-sets/p-carol', admin, { quota_set: { volumes: 5, bogus: 1 } });
  assert.equal(bad.json, { badRequest: { code: 400, message: 'Invalid input received: Bad key(s) in quota set: bogus' } });
  const low = await api.request('PUT', '/v3/p-admin/os-quota-sets/p-carol', admin, { quota_set: { volumes: -2 } });
  assert.equal(low.json, { badRequest: { code: 400, message: 'volumes must be >= -1' } });
  const word = await api.request('PUT', '/v3/p-admin/os-quota-sets/p-carol', admin, { quota_set: { volumes: 'many' } });
  assert.equal(word.json, { badRequest: { code: 400, message: 'volumes must be an integer' } });
  assert.is((await api.request('GET', '/v3/p-carol/os-quota-sets/p-carol', carol)).json.quota_set.volumes, 10, 'refused updates changed nothing');

  const set = await api.request('PUT', '/v3/p-admin/os-quota-sets/p-carol', admin, { quota_set: { volumes: '5', gigabytes: 50, tenant_id: 'p-carol' } });
  assert.is(set.status, 200);
  assert.is(set.json.quota_set.volumes, 5);
  assert.is(set.json.quota_set.gigabytes, 50);
  assert.is(set.json.quota_set.snapshots, 10);
  assert.is((await api.request('DELETE', '/v3/p-admin/os-quota-sets/p-carol', admin)).status, 200);
  assert.is((await api.request('GET', '/v3/p-carol/os-quota-sets/p-carol', carol)).json.quota_set.volumes, 10, 'back to the defaults');
});

test("a volume over the volumes or gigabytes quota is Cinder's 413 with Retry-After, and nothing is made", async () => {
  const dave = api.token('dave', 'p-dave');
  await setQuota('p-dave', { volumes: 2, gigabytes: 5 });
  const big = await createVolume(dave, 'p-dave', 6);
  assert.is(big.status, 413);
  assert.is(big.headers['retry-after'], '0');
  assert.equal(big.json, { overLimit: { code: 413, message: 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 6G, quota is 5G and 0G has been consumed.', retryAfter: '0' } });
  assert.is(await volumeCount(dave, 'p-dave'), 0);

  assert.is((await createVolume(dave, 'p-dave', 2)).status, 202);
  assert.is((await createVolume(dave, 'p-dave', 2)).status, 202);
  const third = await createVolume(dave, 'p-dave', 1);
  assert.is(third.status, 413);
  assert.equal(third.json, { overLimit: { code: 413, message: "Maximum number of volumes allowed (2) exceeded for quota 'volumes'.", retryAfter: '0' } });
  assert.is(await volumeCount(dave, 'p-dave'), 2);

  const usage = await api.request('GET', '/v3/p-dave/os-quota-sets/p-dave?usage=True', dave);
  assert.equal(usage.json.quota_set.volumes, { limit: 2, in_use: 2, reserved: 0 });
  assert.equal(usage.json.quota_set.gigabytes, { limit: 5, in_use: 4, reserved: 0 });
  assert.equal(usage.json.quota_set.volumes___DEFAULT__, { limit: -1, in_use: 2, reserved: 0 });

  const limits = await api.request('GET', '/v3/p-dave/limits', dave);
  assert.is(limits.status, 200);
  assert.equal(limits.json.limits.rate, []);
  assert.equal(limits.json.limits.absolute, {
    maxTotalVolumeGigabytes: 5,
    maxTotalBackupGigabytes: 1000,
    maxTotalVolumes: 2,
    maxTotalSnapshots: 10,
    maxTotalBackups: 10,
    totalVolumesUsed: 2,
    totalGigabytesUsed: 4,
    totalSnapshotsUsed: 0,
    totalBackupsUsed: 0,
    totalBackupGigabytesUsed: 0,
  });

  // A delete gives the quota back.
  const ids = (await api.request('GET', '/v3/p-dave/volumes', dave)).json.volumes.map((v: { id: string }) => v.id);
  assert.is((await api.request('DELETE', `/v3/p-dave/volumes/${ids[0]}`, dave)).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', '/v3/p-dave/limits', dave)).json.limits.absolute.totalVolumesUsed, 1);
  assert.is((await createVolume(dave, 'p-dave', 1)).status, 202);
});

test('concurrent creates never exceed the quota: 12 at once against a quota of 3 make exactly 3 volumes', async () => {
  const erin = api.token('erin', 'p-erin');
  await setQuota('p-erin', { volumes: 3 });
  const answers = await Promise.all(Array.from({ length: 12 }, () => api.request('POST', '/v3/p-erin/volumes', erin, { volume: { size: 1 } })));
  await api.worker.idle();
  assert.equal(answers.map((a) => a.status).sort(), [202, 202, 202, ...Array(9).fill(413)]);
  assert.is(await volumeCount(erin, 'p-erin'), 3);
  assert.is((await api.request('GET', '/v3/p-erin/limits', erin)).json.limits.absolute.totalVolumesUsed, 3);
});

test('per_volume_gigabytes, extend, snapshots and backups are held to their quotas; a refusal changes nothing', async () => {
  const fay = api.token('fay', 'p-fay');
  await setQuota('p-fay', { per_volume_gigabytes: 3, gigabytes: 4, snapshots: 1, backups: 1 });
  const huge = await createVolume(fay, 'p-fay', 4);
  assert.equal(huge.json, { overLimit: { code: 413, message: 'Requested volume size 4G is larger than maximum allowed limit 3G.', retryAfter: '0' } });
  const made = await createVolume(fay, 'p-fay', 2);
  const id = made.json.volume.id;

  const extend = await api.request('POST', `/v3/p-fay/volumes/${id}/action`, fay, { 'os-extend': { new_size: 3 } });
  assert.is(extend.status, 202);
  await api.worker.idle();
  const tooFar = await api.request('POST', `/v3/p-fay/volumes/${id}/action`, fay, { 'os-extend': { new_size: 5 } });
  assert.equal(tooFar.json, { overLimit: { code: 413, message: 'Requested volume size 5G is larger than maximum allowed limit 3G.', retryAfter: '0' } });
  const shown = (await api.request('GET', `/v3/p-fay/volumes/${id}`, fay)).json.volume;
  assert.is(shown.status, 'available', 'the refused extend put the status back');
  assert.is(shown.size, 3);

  // The snapshot's 3G would make 6G of a 4G quota.
  const snap = await api.request('POST', '/v3/p-fay/snapshots', fay, { snapshot: { volume_id: id } });
  assert.equal(snap.json, { overLimit: { code: 413, message: 'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, quota is 4G and 3G has been consumed.', retryAfter: '0' } });
  assert.is((await api.request('GET', '/v3/p-fay/snapshots', fay)).json.snapshots.length, 0);
  await setQuota('p-fay', { gigabytes: 100 });
  assert.is((await api.request('POST', '/v3/p-fay/snapshots', fay, { snapshot: { volume_id: id } })).status, 202);
  await api.worker.idle();
  const second = await api.request('POST', '/v3/p-fay/snapshots', fay, { snapshot: { volume_id: id } });
  assert.equal(second.json, { overLimit: { code: 413, message: 'Maximum number of snapshots allowed (1) exceeded', retryAfter: '0' } });

  assert.is((await api.request('POST', '/v3/p-fay/backups', fay, { backup: { volume_id: id } })).status, 202);
  await api.worker.idle();
  const backup2 = await api.request('POST', '/v3/p-fay/backups', fay, { backup: { volume_id: id, incremental: true } });
  assert.equal(backup2.json, { overLimit: { code: 413, message: 'Maximum number of backups allowed (1) exceeded', retryAfter: '0' } });
  assert.is((await api.request('GET', '/v3/p-fay/backups', fay)).json.backups.length, 1);
  assert.is((await api.request('GET', `/v3/p-fay/volumes/${id}`, fay)).json.volume.status, 'available');
  const abs = (await api.request('GET', '/v3/p-fay/limits', fay)).json.limits.absolute;
  assert.is(abs.totalSnapshotsUsed, 1);
  assert.is(abs.totalBackupsUsed, 1);
  assert.is(abs.totalBackupGigabytesUsed, 3);
  assert.is(abs.totalGigabytesUsed, 6);

  // A limit below what the project uses is refused once the project has its own limit.
  const under = await api.request('PUT', '/v3/p-admin/os-quota-sets/p-fay', admin, { quota_set: { snapshots: 0 } });
  assert.equal(under.json, { badRequest: { code: 400, message: 'Quota snapshots limit must be equal or greater than existing resources. Current usage is 1 and the requested limit is 0.' } });
});

test('an admin reads another project\'s limits with project_id from 3.39; a member only ever gets their own', async () => {
  const gil = api.token('gil', 'p-gil');
  await setQuota('p-gil', { volumes: 7 });
  const asAdmin = await api.request('GET', '/v3/p-admin/limits?project_id=p-gil', admin, undefined, { 'OpenStack-API-Version': 'volume 3.39' });
  assert.is(asAdmin.json.limits.absolute.maxTotalVolumes, 7);
  const old = await api.request('GET', '/v3/p-admin/limits?project_id=p-gil', admin, undefined, { 'OpenStack-API-Version': 'volume 3.38' });
  assert.is(old.json.limits.absolute.maxTotalVolumes, 10);
  const member = await api.request('GET', '/v3/p-gil/limits?project_id=p-admin', gil, undefined, { 'OpenStack-API-Version': 'volume 3.50' });
  assert.is(member.json.limits.absolute.maxTotalVolumes, 7);
});

test.run();
