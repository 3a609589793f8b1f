import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

let api: TestVolumeApi;
let admin: string;
let alice: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, admin } = volumeUsers(api));
});
test.after(() => api.close());

test('export_record then import_record: the backup comes back under its id and restores the same bytes', async () => {
  const vol = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } });
  await api.worker.idle();
  const volumeId = vol.json.volume.id;
  const data = knownData(UNIT, 5);
  await writeVolume(api.driver, volumeId, data);
  const made = await api.request('POST', '/v3/p-alice/backups', alice, { backup: { volume_id: volumeId, name: 'keep' } });
  await api.worker.idle();
  const backupId = made.json.backup.id;

  assert.equal((await api.request('GET', `/v3/p-alice/backups/${backupId}/export_record`, alice)).json, { forbidden: { code: 403, message: "Policy doesn't allow backup:export-import to be performed." } });
  const exported = await api.request('GET', `/v3/p-admin/backups/${backupId}/export_record`, admin);
  assert.is(exported.status, 200);
  const record = exported.json['backup-record'];
  assert.is(record.backup_service, 'cinder.backup.drivers.swift.SwiftBackupDriver');
  const decoded = JSON.parse(Buffer.from(record.backup_url, 'base64').toString());
  assert.is(decoded.id, backupId);
  assert.is(decoded.size, 1);
  assert.is(decoded.project_id, 'p-alice');

  const exists = await api.request('POST', '/v3/p-admin/backups/import_record', admin, { 'backup-record': record });
  assert.equal(exists.json, { badRequest: { code: 400, message: 'Invalid backup: Backup already exists in database.' } });

  // The record is lost (the objects stay in the project's account), then imported again.
  const key = `p-alice/${backupId}`;
  const stored = await api.records.store.get('backups', key);
  assert.ok(stored);
  await api.records.store.delete('backups', key);
  const garbled = await api.request('POST', '/v3/p-admin/backups/import_record', admin, { 'backup-record': { ...record, backup_url: 'not base64 json' } });
  assert.is(garbled.status, 400);
  const noUrl = await api.request('POST', '/v3/p-admin/backups/import_record', admin, { 'backup-record': { backup_service: record.backup_service } });
  assert.is(noUrl.status, 400);
  const imported = await api.request('POST', '/v3/p-admin/backups/import_record', admin, { 'backup-record': record });
  assert.is(imported.status, 201, JSON.stringify(imported.json));
  assert.is(imported.json.backup.id, backupId);
  const shown = (await api.request('GET', `/v3/p-admin/backups/${backupId}`, admin)).json.backup;
  assert.is(shown.status, 'available');
  assert.is(shown.volume_id, '00000000-0000-0000-0000-000000000000');

  const restore = await api.request('POST', `/v3/p-admin/backups/${backupId}/restore`, admin, { restore: {} });
  assert.is(restore.status, 202, JSON.stringify(restore.json));
  await api.worker.idle();
  const restored = (await api.request('GET', `/v3/p-admin/volumes/${restore.json.restore.volume_id}`, admin)).json.volume;
  assert.is(restored.status, 'available');
  assert.ok((await readVolume(api.driver, restore.json.restore.volume_id)).equals(data), 'the imported backup restores the bytes it was made of');
});

test.run();
