import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type AttachmentRecord, ATTACHMENTS, type BackupRecord, BACKUPS, SNAPSHOTS, type VolumeRecord, VOLUMES } from '../../../../../compute/volume/records.ts';
import { knownData, writeVolume } from '../../../../helpers/volume-data.ts';
import { SNAPSHOT_ACCOUNT, startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/**
 * Cinder's admin actions through the HTTP API (cinder/api/contrib/admin_actions.py):
 * `os-reset_status` and `os-force_delete` on volumes, snapshots and backups; admin only (403
 * naming the policy), Cinder's 400 for a status it does not have, 404 for what the caller
 * cannot see.
 */
let api: TestVolumeApi;
let alice: string;
let bob: string;
let admin: string;

test.before(async () => {
  api = await startVolumeApi();
  ({ alice, bob, admin } = volumeUsers(api));
});

test.after(() => api.close());

async function createVolume(): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  await writeVolume(api.driver, res.json.volume.id, knownData(UNIT, 3));
  return res.json.volume.id;
}

async function createSnapshot(volumeId: string): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: volumeId } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  return res.json.snapshot.id;
}

async function createBackup(volumeId: string, incremental = false): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/backups', alice, { backup: { volume_id: volumeId, incremental } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  return res.json.backup.id;
}

/** Puts a record in a status as a task cut off would leave it. */
async function leave(kind: typeof VOLUMES | typeof SNAPSHOTS | typeof BACKUPS, id: string, status: string): Promise<void> {
  await api.records.update<{ id: string; project_id: string; status: string }>(kind, { id, project_id: 'p-alice' }, (cur) => ({ ...cur, status }));
}

const action = (kind: string, id: string, token: string, body: unknown) => api.request('POST', `/v3/p-alice/${kind}/${id}/action`, token, body);
const status = async (kind: string, id: string): Promise<string> => (await api.request('GET', `/v3/p-alice/${kind}/${id}`, admin)).json[kind.slice(0, -1)].status;

test('os-reset_status on a volume: an admin moves a stuck volume to error, and it can then be deleted', async () => {
  const id = await createVolume();
  await leave(VOLUMES, id, 'extending');
  const res = await action('volumes', id, admin, { 'os-reset_status': { status: 'Error' } });
  assert.is(res.status, 202);
  assert.is(res.json, undefined);
  assert.is(await status('volumes', id), 'error');
  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice)).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).status, 404);
});

test("os-reset_status on a volume: a member gets Cinder's 403, another project's member a 404, and nothing changes", async () => {
  const id = await createVolume();
  const res = await action('volumes', id, alice, { 'os-reset_status': { status: 'error' } });
  assert.is(res.status, 403);
  assert.equal(res.json, { forbidden: { code: 403, message: "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed." } });
  assert.is((await api.request('POST', `/v3/p-bob/volumes/${id}/action`, bob, { 'os-reset_status': { status: 'error' } })).status, 404);
  assert.is((await action('volumes', id, alice, { 'os-force_delete': {} })).json.forbidden.message, "Policy doesn't allow volume_extension:volume_admin_actions:force_delete to be performed.");
  assert.is(await status('volumes', id), 'available');
});

test("os-reset_status on a volume: Cinder's 400s for a status it does not have, none given, deleting, and in-use without attachments", async () => {
  const id = await createVolume();
  const bad = await action('volumes', id, admin, { 'os-reset_status': { status: 'stuck' } });
  assert.is(bad.status, 400);
  assert.is(
    bad.json.badRequest.message,
    "Volume status: stuck is invalid, valid statuses are: ('creating', 'available', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing', 'attaching', 'in-use', 'detaching', 'maintenance', 'restoring-backup', 'error_restoring', 'reserved', 'awaiting-transfer', 'backing-up', 'error_backing-up', 'error_extending', 'downloading', 'uploading', 'retyping', 'extending').",
  );
  assert.is((await action('volumes', id, admin, { 'os-reset_status': { attach_status: 'attaching' } })).json.badRequest.message, "Volume attach status: attaching is invalid, valid statuses are: ['attached', 'detached'].");
  assert.is((await action('volumes', id, admin, { 'os-reset_status': {} })).json.badRequest.message, "Must specify 'status', 'attach_status' or 'migration_status' for update.");
  assert.is((await action('volumes', id, admin, { 'os-reset_status': { status: 'deleting' } })).json.badRequest.message, 'Cannot reset-state to deleting');
  assert.is((await action('volumes', id, admin, { 'os-reset_status': { status: 'in-use' } })).json.badRequest.message, 'Cannot reset-state to in-use because volume does not have any attachments.');
  assert.is((await action('volumes', id, admin, { 'os-reset_status': { status: 'error', size: 2 } })).status, 400);
  // The schema is checked before the policy: a member's bad status is a 400 too.
  assert.is((await action('volumes', id, alice, { 'os-reset_status': { status: 'stuck' } })).status, 400);
  assert.is(await status('volumes', id), 'available');
});

test('os-reset_status attach_status detached drops the attachments, and the volume is available again', async () => {
  const id = await createVolume();
  const at = new Date().toISOString();
  const attachment: AttachmentRecord = { id: 'a-1', project_id: 'p-alice', volume_id: id, instance_uuid: 'server-1', attach_status: 'attached', attach_mode: 'rw', connector: null, connection_info: {}, attach_time: at, detach_time: null, created_at: at };
  await api.records.create(ATTACHMENTS, attachment);
  await api.records.update<VolumeRecord>(VOLUMES, { id, project_id: 'p-alice' }, (cur) => ({ ...cur, status: 'detaching', attach_status: 'attached', attachments: [{ attachment_id: 'a-1', server_id: 'server-1', host_name: null, device: '/dev/vdb', attached_at: at }] }));
  assert.is((await action('volumes', id, admin, { 'os-reset_status': { status: 'in-use' } })).status, 202, 'in-use is allowed while it has an attachment');
  assert.is((await action('volumes', id, admin, { 'os-reset_status': { attach_status: 'detached' } })).status, 202);
  const volume = (await api.request('GET', `/v3/p-alice/volumes/${id}`, admin)).json.volume;
  assert.is(volume.status, 'available');
  assert.equal(volume.attachments, []);
  assert.is(await api.records.find(ATTACHMENTS, 'a-1', 'p-alice', false), undefined);
});

test('os-force_detach: an admin rolls back a detach the host already did; the volume is available again, a member gets 403', async () => {
  const id = await createVolume();
  const at = new Date().toISOString();
  const attachment: AttachmentRecord = { id: 'a-2', project_id: 'p-alice', volume_id: id, instance_uuid: 'server-2', attach_status: 'attached', attach_mode: 'rw', connector: null, connection_info: {}, attach_time: at, detach_time: null, created_at: at };
  await api.records.create(ATTACHMENTS, attachment);
  await api.records.update<VolumeRecord>(VOLUMES, { id, project_id: 'p-alice' }, (cur) => ({ ...cur, status: 'detaching', attach_status: 'attached', attachments: [{ attachment_id: 'a-2', server_id: 'server-2', host_name: null, device: '/dev/vdb', attached_at: at }] }));
  const member = await action('volumes', id, alice, { 'os-force_detach': { attachment_id: 'a-2' } });
  assert.is(member.status, 403);
  assert.is(member.json.forbidden.message, "Policy doesn't allow volume_extension:volume_admin_actions:force_detach to be performed.");
  assert.is((await action('volumes', id, admin, { 'os-force_detach': { attachment_id: 'a-2', host: 'x' } })).status, 400);
  assert.is((await action('volumes', id, admin, { 'os-force_detach': { attachment_id: 'a-2', connector: { host: 'compute-1' } } })).status, 202);
  const volume = (await api.request('GET', `/v3/p-alice/volumes/${id}`, admin)).json.volume;
  assert.is(volume.status, 'available');
  assert.equal(volume.attachments, []);
  assert.is(await api.records.find(ATTACHMENTS, 'a-2', 'p-alice', false), undefined);
  // Now it is a plain available volume: it deletes.
  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}`, alice)).status, 202);
  await api.worker.idle();
});

test('os-force_delete on a volume: any status goes, but not one with snapshots', async () => {
  const id = await createVolume();
  const snapshotId = await createSnapshot(id);
  await leave(VOLUMES, id, 'creating');
  const refused = await action('volumes', id, admin, { 'os-force_delete': {} });
  assert.is(refused.status, 400);
  assert.match(refused.json.badRequest.message, /^Invalid volume: Volume {2}must not be migrating, attached, belong to a group, have snapshots/);
  await leave(SNAPSHOTS, snapshotId, 'deleting');
  assert.is((await action('snapshots', snapshotId, admin, { 'os-force_delete': {} })).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${snapshotId}`, alice)).status, 404);
  assert.is((await action('volumes', id, admin, { 'os-force_delete': {} })).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, alice)).status, 404);
  assert.is(await api.driver.getVolume(id), undefined);
  const quota = (await api.request('GET', '/v3/p-alice/os-quota-sets/p-alice?usage=True', admin)).json.quota_set;
  assert.is(quota.snapshots.in_use, 0);
});

test('os-reset_status and os-force_delete on a snapshot: stuck creating to error; force delete of a stuck one removes its objects', async () => {
  const id = await createVolume();
  const snapshotId = await createSnapshot(id);
  await leave(SNAPSHOTS, snapshotId, 'creating');
  assert.is((await action('snapshots', snapshotId, alice, { 'os-reset_status': { status: 'error' } })).json.forbidden.message, "Policy doesn't allow volume_extension:snapshot_admin_actions:reset_status to be performed.");
  const bad = await action('snapshots', snapshotId, admin, { 'os-reset_status': { status: 'gone' } });
  assert.is(bad.json.badRequest.message, "Snapshot status: gone is invalid, valid statuses are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting', 'unmanaging', 'backing-up', 'restoring').");
  assert.is((await action('snapshots', snapshotId, admin, { 'os-reset_status': {} })).status, 400);
  assert.is((await action('snapshots', snapshotId, admin, { 'os-reset_status': { status: 'error' } })).status, 202);
  assert.is(await status('snapshots', snapshotId), 'error');
  assert.is((await api.request('POST', `/v3/p-alice/snapshots/${snapshotId}/action`, admin, { 'os-unknown': {} })).json.badRequest.message, 'There is no such action: os-unknown');
  await leave(SNAPSHOTS, snapshotId, 'deleting');
  assert.is((await action('snapshots', snapshotId, alice, { 'os-force_delete': {} })).status, 403);
  assert.is((await action('snapshots', snapshotId, admin, { 'os-force_delete': {} })).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${snapshotId}`, alice)).status, 404);
  const left = (await api.stores.get(SNAPSHOT_ACCOUNT)?.listNames('volume_snapshots', `volume_${id}/`)) ?? [];
  assert.equal(left, [], "the snapshot's objects went with it");
});

test('os-reset_status and os-force_delete on a backup: only available and error; not one an incremental builds on', async () => {
  const id = await createVolume();
  const full = await createBackup(id);
  const incremental = await createBackup(id, true);
  await leave(BACKUPS, full, 'restoring');
  assert.is((await action('backups', full, alice, { 'os-reset_status': { status: 'available' } })).json.forbidden.message, "Policy doesn't allow volume_extension:backup_admin_actions:reset_status to be performed.");
  assert.is((await action('backups', full, admin, { 'os-reset_status': { status: 'creating' } })).json.badRequest.message, "Backup status: creating is invalid, valid statuses are: ['available', 'error'].");
  assert.is((await action('backups', full, admin, { 'os-reset_status': { status: 'available' } })).status, 202);
  assert.is(await status('backups', full), 'available');
  const refused = await action('backups', full, admin, { 'os-force_delete': {} });
  assert.is(refused.status, 400);
  assert.is(refused.json.badRequest.message, 'Invalid backup: Incremental backups exist for this backup.');
  await leave(BACKUPS, incremental, 'creating');
  assert.is((await action('backups', incremental, alice, { 'os-force_delete': {} })).json.forbidden.message, "Policy doesn't allow volume_extension:backup_admin_actions:force_delete to be performed.");
  assert.is((await action('backups', incremental, admin, { 'os-force_delete': {} })).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/backups/${incremental}`, alice)).status, 404);
  const parent = await api.records.find<BackupRecord>(BACKUPS, full, 'p-alice', false);
  assert.is(parent?.num_dependent_backups, 0);
  const names = (await api.stores.get('p-alice')?.listNames('volumebackups', `volume_${id}/`)) ?? [];
  assert.ok(names.length > 0 && names.every((n) => !n.includes(`_backup_${incremental}`)), "the incremental's objects went, the full backup's stayed");
});

test.run();
