import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../common/config.ts';
import { ConfigError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { fernetSetup } from '../../common/token/key-repository.ts';
import { runVolume, type VolumeNodeConfig, volumeNodeSchemas } from '../../cli/volume-node.ts';
import { FileVolumeDriver } from '../../compute/volume/driver/file.ts';
import { startQemuNbd } from '../../compute/volume/driver/qemu-nbd.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';
import { keystoneauthSchema } from '../../proxy/middleware/keystoneauth-settings.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';
import { rejects } from '../helpers/rejects.ts';
import { changeSpots, knownData, readVolume, writeVolume } from '../helpers/volume-data.ts';
import { mintToken } from '../helpers/volume-api.ts';

/**
 * `swiftlet start volume` as a process would run it (runVolume over a config), on an
 * in-process cluster: records in AUTH_.volume, volume files in a directory, backups written by
 * the user's own token into the project's own account AUTH_<project> (Cinder's per_user; the
 * proxy takes the Keystone token), restored back.
 */
let cluster: TestCluster;
let dir: Awaited<ReturnType<typeof makeTempDir>>;
let node: Awaited<ReturnType<typeof runVolume>>;
let token: string;

// biome-ignore lint/suspicious/noExplicitAny: tests read Cinder's JSON freely
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await httpRequest(node.port, method, path, { 'X-Auth-Token': token, 'Content-Type': 'application/json', Accept: 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
  const text = res.body.toString();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

test.before(async () => {
  dir = await makeTempDir('swiftlet-volume-node-');
  fernetSetup(join(dir.path, 'keys'));
  cluster = await startCluster({
    users: { 'user_.volume_volume': 'volkey .admin' },
    middleware: { keystoneauth: { ...defaultConfig({ k: keystoneauthSchema }).k, reseller_prefix: 'AUTH, SERVICE', operator_roles: 'admin, member', key_repository: join(dir.path, 'keys') } },
  });
  node = await runVolume(
    { volume: nodeConfig(join(dir.path, 'volumes')) },
    // A "GiB" of 4 MiB: a volume of 16 chunks.
    { logger: createLogger({ level: 'error', sink: () => {} }), bytesPerGiB: 4 * 1024 * 1024 },
  );
  token = mintToken(join(dir.path, 'keys'), 'u1', 'p1');
});

function nodeConfig(volumesDir: string): VolumeNodeConfig['volume'] {
  return {
    ...defaultConfig(volumeNodeSchemas).volume,
    bind_port: 0,
    auth_url: `http://127.0.0.1:${cluster.port}/auth/v1.0`,
    account_key: 'volkey',
    key_repository: join(dir.path, 'keys'),
    volumes_dir: volumesDir,
    backup_swift_object_size: 256 * 1024,
  };
}

test.after(async () => {
  await node.close();
  await cluster.close();
  await dir.remove();
});

test('a volume node that starts sweeps its volume directory before it answers: a partial file and an orphan qemu-nbd gone, logged with counts', async () => {
  const volumes = join(dir.path, 'swept');
  const driver = new FileVolumeDriver({ dir: volumes });
  await driver.createVolume('q1', 4 * 1024 * 1024, { format: 'qcow2' });
  await writeFile(join(volumes, '.tmp-0123456789ab'), 'half a volume');
  // A qemu-nbd the dead process started to write q1, never connected to: it holds the image.
  const orphan = await startQemuNbd({ path: join(volumes, 'volume-q1'), format: 'qcow2', readOnly: false, dir: volumes });
  const lines: string[] = [];
  // Its own host name: the start-up clean-up of records is per host, and this is another node.
  const second = await runVolume({ volume: { ...nodeConfig(volumes), host: 'sweep@file#file' } }, { logger: createLogger({ level: 'info', sink: (line) => lines.push(line) }), bytesPerGiB: 4 * 1024 * 1024 });
  try {
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const swept = logged.find((l) => l['msg'] === 'swept the volume directory');
    assert.equal([swept?.['partial_files'], swept?.['stopped_exports'], swept?.['export_files']], [1, 1, 2]);
    assert.ok(logged.indexOf(swept as Record<string, unknown>) < logged.findIndex((l) => l['msg'] === 'volume listening'), 'swept before it listens');
    assert.equal(await readdir(volumes), ['volume-q1']);
    const data = knownData(4 * 1024 * 1024, 41);
    await writeVolume(driver, 'q1', data);
    assert.ok((await readVolume(driver, 'q1')).equals(data));
  } finally {
    await second.close();
    await orphan.stop();
  }
});

test('a second volume service on a volume directory another one serves is refused before it touches it', async () => {
  const volumes = join(dir.path, 'volumes');
  await writeFile(join(volumes, '.tmp-0123456789ab'), 'the running node is writing this');
  try {
    await rejects(runVolume({ volume: { ...nodeConfig(volumes), host: 'intruder@file#file' } }, { logger: createLogger({ level: 'error', sink: () => {} }) }), ConfigError);
    assert.ok((await readdir(volumes)).includes('.tmp-0123456789ab'), 'nothing of the running one was swept');
  } finally {
    await rm(join(volumes, '.tmp-0123456789ab'), { force: true });
  }
});

test('a volume backed up (full, then incremental) into the project\'s account and restored, through the node', async () => {
  const created = await call('POST', '/v3/p1/volumes', { volume: { size: 1, name: 'v' } });
  assert.is(created.status, 202);
  await node.worker.idle();
  const id = created.json.volume.id;
  const driver = new FileVolumeDriver({ dir: join(dir.path, 'volumes') });
  const data = knownData(4 * 1024 * 1024, 31);
  await writeVolume(driver, id, data);

  const full = await call('POST', '/v3/p1/backups', { backup: { volume_id: id } });
  assert.is(full.status, 202);
  await node.worker.idle();
  const fb = (await call('GET', `/v3/p1/backups/${full.json.backup.id}`)).json.backup;
  assert.is(fb.status, 'available', JSON.stringify(fb));
  assert.is(fb.object_count, 16);

  const listing = await cluster.request('GET', `/v1/AUTH_p1/volumebackups?format=json&prefix=volume_${id}/`, { 'X-Auth-Token': await cluster.token('admin:admin') });
  assert.is(listing.status, 200);
  assert.is((JSON.parse(listing.body.toString()) as unknown[]).length, 16 + 2, "the backup is in the project's own account");
  // Written with the user's own token (per_user), so the user's `swift list volumebackups` shows it.
  const own = await cluster.request('GET', `/v1/AUTH_p1/volumebackups?format=json&prefix=volume_${id}/`, { 'X-Auth-Token': token });
  assert.equal([own.status, (JSON.parse(own.body.toString()) as unknown[]).length], [200, 18]);

  const changed = Buffer.from(data);
  changeSpots(changed, 0.01, 3);
  await writeVolume(driver, id, changed);
  const incr = await call('POST', '/v3/p1/backups', { backup: { volume_id: id, incremental: true } });
  await node.worker.idle();
  const ib = (await call('GET', `/v3/p1/backups/${incr.json.backup.id}`)).json.backup;
  assert.is(ib.status, 'available');
  assert.is(ib.object_count, 3);

  const restore = await call('POST', `/v3/p1/backups/${incr.json.backup.id}/restore`, { restore: {} });
  assert.is(restore.status, 202);
  await node.worker.idle();
  const newId = restore.json.restore.volume_id;
  assert.is((await call('GET', `/v3/p1/volumes/${newId}`)).json.volume.status, 'available');
  const back = await readVolume(driver, newId);
  assert.ok(back.equals(changed));
});

test('a snapshot through the node: its objects in AUTH_.volume (not the project\'s account), a volume from it restored from there once the local copy is gone', async () => {
  const created = await call('POST', '/v3/p1/volumes', { volume: { size: 1, name: 'snapped' } });
  await node.worker.idle();
  const id = created.json.volume.id;
  const driver = new FileVolumeDriver({ dir: join(dir.path, 'volumes') });
  const data = knownData(4 * 1024 * 1024, 37);
  await writeVolume(driver, id, data);
  const snap = await call('POST', '/v3/p1/snapshots', { snapshot: { volume_id: id, name: 's' } });
  assert.is(snap.status, 202);
  await node.worker.idle();
  const sid = snap.json.snapshot.id;
  assert.is((await call('GET', `/v3/p1/snapshots/${sid}`)).json.snapshot.status, 'available');

  const owner = { 'X-Auth-Token': await cluster.token('.volume:volume', 'volkey') };
  const objects = async (): Promise<string[]> => {
    const res = await cluster.request('GET', `/v1/AUTH_.volume/volume_snapshots?format=json&prefix=volume_${id}/`, owner);
    assert.ok(res.status === 200 || res.status === 204, `listing: ${res.status}`);
    return res.status === 200 ? (JSON.parse(res.body.toString()) as Array<{ name: string }>).map((o) => o.name) : [];
  };
  assert.is((await objects()).length, 16 + 2, "the snapshot's chunks, sha256 file and metadata, in the service's account");
  const userSees = await cluster.request('GET', '/v1/AUTH_p1/volume_snapshots?format=json', { 'X-Auth-Token': token });
  assert.is(userSees.status, 404, 'nothing of it in the project\'s account');

  await driver.deleteSnapshot(sid); // the local copy is lost
  const made = await call('POST', '/v3/p1/volumes', { volume: { snapshot_id: sid } });
  assert.is(made.status, 202);
  await node.worker.idle();
  assert.is((await call('GET', `/v3/p1/volumes/${made.json.volume.id}`)).json.volume.status, 'available');
  assert.ok((await readVolume(driver, made.json.volume.id)).equals(data));

  assert.is((await call('DELETE', `/v3/p1/snapshots/${sid}`)).status, 202);
  await node.worker.idle();
  assert.equal(await objects(), []);
});

test.run();
