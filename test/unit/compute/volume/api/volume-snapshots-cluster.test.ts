import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBackupObjectStore } from '../../../../../compute/volume/backup/memory-object-store.ts';
import type { ObjectStream, PiecedBody } from '../../../../../compute/volume/backup/object-store.ts';
import { BackupStoreError } from '../../../../../compute/volume/backup/store-errors.ts';
import { FileVolumeDriver } from '../../../../../compute/volume/driver/file.ts';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { SNAPSHOT_CHAINS, type SnapshotChain } from '../../../../../compute/volume/snapshot-chains.ts';
import { sweepSnapshotCopies } from '../../../../../compute/volume/sweep-snapshot-copies.ts';
import { changeSpots, knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { SNAPSHOT_ACCOUNT, startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';

/**
 * Issue 19's "a snapshot survives the loss of the node that held its volume": a snapshot is
 * `available` once its bytes are in the cluster (the volume service's account, the backup
 * engine's layout), a later one of the same volume is an incremental, and a volume made from
 * it on a host without the local copy is restored from there. The test API's "GiB" is 1 MiB:
 * 16 chunks of 64 KiB, SHA-256 blocks of 8 KiB.
 */
const CONTAINER = 'volume_snapshots';
const BLOCK = 8 * 1024;

/** Every snapshot object in the "cluster" (the volume service's account). */
async function snapshotObjects(api: TestVolumeApi): Promise<string[]> {
  const store = api.stores.get(SNAPSHOT_ACCOUNT);
  return store ? store.listNames(CONTAINER, '') : [];
}

/** The engine's metadata of the snapshot's layer: its chunks, and its parent. */
async function layerMetadata(store: MemoryBackupObjectStore, snapshotId: string): Promise<{ parent_id: string | null; objects: Array<Record<string, { offset: number; length: number }>> }> {
  const name = (await store.listNames(CONTAINER, '')).find((n) => n.endsWith(`_backup_${snapshotId}_metadata`));
  assert.ok(name, `snapshot ${snapshotId} has a metadata object`);
  return JSON.parse(Buffer.from(await store.get(CONTAINER, name)).toString());
}

async function createVolume(api: TestVolumeApi, token: string, body: Record<string, unknown>): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/volumes', token, { volume: body });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  const id = res.json.volume.id as string;
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, token)).json.volume.status, 'available');
  return id;
}

async function snapshot(api: TestVolumeApi, token: string, volumeId: string, name: string): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId, name } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  const id = res.json.snapshot.id as string;
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${id}`, token)).json.snapshot.status, 'available');
  return id;
}

async function deleteSnapshot(api: TestVolumeApi, token: string, id: string): Promise<void> {
  assert.is((await api.request('DELETE', `/v3/p-alice/snapshots/${id}`, token)).status, 202);
  await api.worker.idle();
  assert.is((await api.request('GET', `/v3/p-alice/snapshots/${id}`, token)).status, 404);
}

async function deleteVolume(api: TestVolumeApi, token: string, id: string): Promise<void> {
  assert.is((await api.request('DELETE', `/v3/p-alice/volumes/${id}`, token)).status, 202);
  await api.worker.idle();
}

test('a snapshot survives the loss of its host: a volume made from it on another host has the same bytes, sparse where zeros', async () => {
  const dir = await makeTempDir('volume-snapshot-loss-');
  let second: TestVolumeApi | undefined;
  let firstOpen = true;
  const first = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node1') }) });
  try {
    const token = volumeUsers(first).alice;
    // 2 "GiB": data in the first one, zeros in the second.
    const volumeId = await createVolume(first, token, { size: 2, name: 'data' });
    const original = Buffer.concat([knownData(UNIT, 29), Buffer.alloc(UNIT)]);
    await writeVolume(first.driver, volumeId, original);
    const snap = await snapshot(first, token, volumeId, 's1');
    assert.ok((await snapshotObjects(first)).length > 0, 'the snapshot has objects in the cluster');
    // The volume changes after the snapshot; the snapshot keeps the old bytes.
    await writeVolume(first.driver, volumeId, knownData(2 * UNIT, 30));

    await first.close();
    firstOpen = false;
    await rm(join(dir.path, 'node1'), { recursive: true, force: true });

    second = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node2') }), cluster: first });
    const again = volumeUsers(second).alice;
    const made = await createVolume(second, again, { snapshot_id: snap, name: 'from-snap' });
    const volume = (await second.request('GET', `/v3/p-alice/volumes/${made}`, again)).json.volume;
    assert.is(volume.snapshot_id, snap);
    assert.is(volume.size, 2);
    assert.ok((await readVolume(second.driver, made)).equals(original), 'the bytes of the snapshot, on the other host');
    const file = await stat(join(dir.path, 'node2', `volume-${made}`));
    assert.ok(file.blocks * 512 <= UNIT + 64 * 1024, `the zero half is a hole (${file.blocks * 512} bytes allocated)`);

    // Deleted from the other host: its objects go too.
    await deleteSnapshot(second, again, snap);
    assert.equal(await snapshotObjects(second), []);
  } finally {
    if (firstOpen) await first.close();
    await second?.close();
    await dir.remove();
  }
});

test('a snapshot deleted through another host: the first host sweeps its local copy away, keeping the copies of snapshots that exist', async () => {
  const dir = await makeTempDir('volume-snapshot-sweep-');
  const first = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node1') }) });
  const second = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node2') }), cluster: first });
  try {
    const token = volumeUsers(first).alice;
    const volumeId = await createVolume(first, token, { size: 1 });
    await writeVolume(first.driver, volumeId, knownData(UNIT, 33));
    const gone = await snapshot(first, token, volumeId, 'gone');
    const kept = await snapshot(first, token, volumeId, 'kept');
    await deleteSnapshot(second, volumeUsers(second).alice, gone);
    assert.equal((await first.driver.listSnapshots()).sort(), [gone, kept].sort(), 'the other host could not reach the file');
    assert.equal(await sweepSnapshotCopies(first.records, first.driver), [gone]);
    assert.equal(await first.driver.listSnapshots(), [kept]);
  } finally {
    await second.close();
    await first.close();
    await dir.remove();
  }
});

test('an incremental snapshot uploads only the blocks that changed since the previous one, and restores the new bytes', async () => {
  const api = await startVolumeApi();
  const other = await startVolumeApi({ cluster: api });
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    const original = knownData(UNIT, 31);
    await writeVolume(api.driver, volumeId, original);
    const full = await snapshot(api, token, volumeId, 'full');
    const store = api.stores.get(SNAPSHOT_ACCOUNT) as MemoryBackupObjectStore;
    const fullMeta = await layerMetadata(store, full);
    assert.is(fullMeta.parent_id, null);
    assert.is(fullMeta.objects.length, 16, 'a full copy: every chunk');

    const changed = Buffer.from(original);
    const ranges = changeSpots(changed, 0.01, 3);
    await writeVolume(api.driver, volumeId, changed);
    const putsBefore = store.puts;
    const incr = await snapshot(api, token, volumeId, 'incr');
    const meta = await layerMetadata(store, incr);
    assert.is(meta.parent_id, full);
    const blocks = new Set<number>();
    for (const [start, end] of ranges) for (let b = Math.floor(start / BLOCK); b <= Math.floor((end - 1) / BLOCK); b++) blocks.add(b);
    const uploaded = meta.objects.reduce((sum, o) => sum + (Object.values(o)[0] as { length: number }).length, 0);
    assert.is(uploaded, blocks.size * BLOCK, `only the ${blocks.size} changed blocks are uploaded`);
    assert.is(meta.objects.length, 3, 'one object per changed run');
    assert.is(store.puts - putsBefore, 3 + 2, 'three chunks, the sha256 file and the metadata');

    // Restored from the cluster on another host: the chain gives the new bytes, the full one the old.
    const elsewhere = volumeUsers(other).alice;
    const fromIncr = await createVolume(other, elsewhere, { snapshot_id: incr });
    assert.ok((await readVolume(other.driver, fromIncr)).equals(changed));
    const fromFull = await createVolume(other, elsewhere, { snapshot_id: full });
    assert.ok((await readVolume(other.driver, fromFull)).equals(original));
  } finally {
    await other.close();
    await api.close();
  }
});

const ORDERS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

test('three snapshots (full, incremental, incremental) deleted in every order: the others still restore byte for byte; the last delete leaves no object and no chain', async () => {
  const api = await startVolumeApi();
  const other = await startVolumeApi({ cluster: api });
  try {
    const token = volumeUsers(api).alice;
    const elsewhere = volumeUsers(other).alice;
    for (const order of ORDERS) {
      const volumeId = await createVolume(api, token, { size: 1 });
      const contents: Buffer[] = [];
      const snaps: string[] = [];
      let data = knownData(UNIT, 40 + snaps.length);
      for (let i = 0; i < 3; i++) {
        await writeVolume(api.driver, volumeId, data);
        contents.push(Buffer.from(data));
        snaps.push(await snapshot(api, token, volumeId, `s${i}`));
        data = Buffer.from(data);
        changeSpots(data, 0.05, 2 + i);
      }
      const chain = (await api.records.store.get<SnapshotChain>(SNAPSHOT_CHAINS, `p-alice/${volumeId}`))?.value;
      assert.equal(
        chain?.layers.map((l) => l.parent),
        [null, snaps[0], snaps[1]],
        'each snapshot builds on the one before',
      );
      const left = new Set([0, 1, 2]);
      for (const which of order) {
        await deleteSnapshot(api, token, snaps[which] as string);
        left.delete(which);
        for (const keep of left) {
          // The other host has no local copy: the volume comes from the cluster.
          const made = await createVolume(other, elsewhere, { snapshot_id: snaps[keep] });
          assert.ok((await readVolume(other.driver, made)).equals(contents[keep] as Buffer), `order ${order}: snapshot ${keep} after deleting ${which}`);
          await deleteVolume(other, elsewhere, made);
        }
      }
      assert.equal((await snapshotObjects(api)).filter((n) => n.startsWith(`volume_${volumeId}/`)), [], `order ${order}: no objects left`);
      assert.is(await api.records.store.get(SNAPSHOT_CHAINS, `p-alice/${volumeId}`), undefined, `order ${order}: no chain record left`);
      await deleteVolume(api, token, volumeId);
    }
    assert.equal(await snapshotObjects(api), []);
  } finally {
    await other.close();
    await api.close();
  }
});

test('snapshots deleted all at once leave no objects and no chain', async () => {
  const api = await startVolumeApi();
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    const data = knownData(UNIT, 50);
    const snaps: string[] = [];
    for (let i = 0; i < 4; i++) {
      changeSpots(data, 0.02, 1 + i);
      await writeVolume(api.driver, volumeId, data);
      snaps.push(await snapshot(api, token, volumeId, `s${i}`));
    }
    const answers = await Promise.all(snaps.map((id) => api.request('DELETE', `/v3/p-alice/snapshots/${id}`, token)));
    assert.equal(
      answers.map((a) => a.status),
      [202, 202, 202, 202],
    );
    await api.worker.idle();
    assert.is((await api.request('GET', '/v3/p-alice/snapshots', token)).json.snapshots.length, 0);
    assert.equal(await snapshotObjects(api), []);
    assert.is(await api.records.store.get(SNAPSHOT_CHAINS, `p-alice/${volumeId}`), undefined);
  } finally {
    await api.close();
  }
});

test('a snapshot is a full copy again when the chain it would extend is snapshot_max_chain deep, or the volume grew', async () => {
  const api = await startVolumeApi({ snapshotMaxChain: 2 });
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    const data = knownData(UNIT, 60);
    const snaps: string[] = [];
    for (let i = 0; i < 3; i++) {
      changeSpots(data, 0.01, 1);
      await writeVolume(api.driver, volumeId, data);
      snaps.push(await snapshot(api, token, volumeId, `s${i}`));
    }
    assert.is((await api.request('POST', `/v3/p-alice/volumes/${volumeId}/action`, token, { 'os-extend': { new_size: 2 } })).status, 202);
    await api.worker.idle();
    snaps.push(await snapshot(api, token, volumeId, 'grown'));
    const chain = (await api.records.store.get<SnapshotChain>(SNAPSHOT_CHAINS, `p-alice/${volumeId}`))?.value;
    assert.equal(
      chain?.layers.map((l) => l.parent),
      [null, snaps[0], null, null],
    );
  } finally {
    await api.close();
  }
});

test('a snapshot deleted while a volume is being made from it from the cluster: the volume is made whole first (Cinder\'s delete_snapshot lock), then the snapshot goes', async () => {
  const api = await startVolumeApi();
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    const data = knownData(UNIT, 95);
    await writeVolume(api.driver, volumeId, data);
    const snap = await snapshot(api, token, volumeId, 's');
    await api.driver.deleteSnapshot(snap); // no local copy: the volume comes from the cluster
    const made = await api.request('POST', '/v3/p-alice/volumes', token, { volume: { snapshot_id: snap } });
    assert.is(made.status, 202);
    assert.is((await api.request('DELETE', `/v3/p-alice/snapshots/${snap}`, token)).status, 202);
    await api.worker.idle();
    const id = made.json.volume.id as string;
    assert.is((await api.request('GET', `/v3/p-alice/volumes/${id}`, token)).json.volume.status, 'available');
    assert.ok((await readVolume(api.driver, id)).equals(data));
    assert.is((await api.request('GET', `/v3/p-alice/snapshots/${snap}`, token)).status, 404);
    assert.equal(await snapshotObjects(api), []);
  } finally {
    await api.close();
  }
});

/** The snapshot store of a cluster whose PUTs fail after `okPuts` of them. */
class FailingStore extends MemoryBackupObjectStore {
  okPuts = Number.POSITIVE_INFINITY;
  gets = 0;
  override async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    if (this.puts >= this.okPuts) throw new BackupStoreError(`PUT ${container}/${name}: 503`);
    await super.put(container, name, data, md5);
  }
  override async get(container: string, name: string): Promise<Uint8Array> {
    this.gets++;
    return super.get(container, name);
  }
  override async getInto(container: string, name: string, into: Uint8Array): Promise<Uint8Array> {
    this.gets++;
    return super.getInto(container, name, into);
  }
  override async getStream(container: string, name: string): Promise<ObjectStream> {
    this.gets++;
    return super.getStream(container, name);
  }
}

test('a snapshot whose upload fails half-way is error, with no object and no local copy left; it holds its quota until deleted, as Cinder does', async () => {
  const store = new FailingStore();
  const api = await startVolumeApi({ snapshotStore: store });
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    await writeVolume(api.driver, volumeId, knownData(UNIT, 70));
    store.okPuts = 5;
    const res = await api.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
    assert.is(res.status, 202);
    await api.worker.idle();
    const id = res.json.snapshot.id as string;
    assert.is((await api.request('GET', `/v3/p-alice/snapshots/${id}`, token)).json.snapshot.status, 'error');
    assert.equal(await store.listNames(CONTAINER, ''), []);
    assert.is(await api.driver.getSnapshot(id), undefined, 'no local copy');
    assert.is(await api.records.store.get(SNAPSHOT_CHAINS, `p-alice/${volumeId}`), undefined, 'no layer');
    const usage = async () => (await api.request('GET', '/v3/p-alice/os-quota-sets/p-alice?usage=True', token)).json.quota_set;
    assert.equal((await usage()).snapshots, { limit: 10, in_use: 1, reserved: 0 });
    assert.equal((await usage()).gigabytes, { limit: 1000, in_use: 2, reserved: 0 });
    // A volume from a snapshot in error is refused.
    assert.is((await api.request('POST', '/v3/p-alice/volumes', token, { volume: { snapshot_id: id } })).status, 400);

    await deleteSnapshot(api, token, id);
    assert.equal((await usage()).snapshots, { limit: 10, in_use: 0, reserved: 0 });
    assert.equal((await usage()).gigabytes, { limit: 1000, in_use: 1, reserved: 0 });

    // The next snapshot, with the store well again, is a full copy and restores.
    store.okPuts = Number.POSITIVE_INFINITY;
    const good = await snapshot(api, token, volumeId, 'good');
    const chain = (await api.records.store.get<SnapshotChain>(SNAPSHOT_CHAINS, `p-alice/${volumeId}`))?.value;
    assert.equal(
      chain?.layers.map((l) => [l.id, l.parent, l.state]),
      [[good, null, 'ready']],
    );
  } finally {
    await api.close();
  }
});

test('the host with the local copy makes the volume from it without reading the cluster; once the local copy is lost it restores from the cluster', async () => {
  const store = new FailingStore();
  const api = await startVolumeApi({ snapshotStore: store, driver: new MemoryVolumeDriver() });
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    const data = knownData(UNIT, 80);
    await writeVolume(api.driver, volumeId, data);
    const snap = await snapshot(api, token, volumeId, 's');
    store.gets = 0;
    const local = await createVolume(api, token, { snapshot_id: snap });
    assert.is(store.gets, 0, 'the fast path reads nothing from the cluster');
    assert.ok((await readVolume(api.driver, local)).equals(data));

    await api.driver.deleteSnapshot(snap); // the local copy is lost
    const restored = await createVolume(api, token, { snapshot_id: snap });
    assert.ok(store.gets > 16, `restored from the cluster (${store.gets} objects read)`);
    assert.ok((await readVolume(api.driver, restored)).equals(data));
    await deleteSnapshot(api, token, snap);
    assert.equal(await store.listNames(CONTAINER, ''), []);
  } finally {
    await api.close();
  }
});

test('a corrupted snapshot object fails the volume made from it (error), as a restore checks every block', async () => {
  const api = await startVolumeApi();
  const other = await startVolumeApi({ cluster: api });
  try {
    const token = volumeUsers(api).alice;
    const volumeId = await createVolume(api, token, { size: 1 });
    await writeVolume(api.driver, volumeId, knownData(UNIT, 90));
    const snap = await snapshot(api, token, volumeId, 's');
    const store = api.stores.get(SNAPSHOT_ACCOUNT) as MemoryBackupObjectStore;
    const chunk = (await store.listNames(CONTAINER, '')).find((n) => n.endsWith('-00002')) as string;
    const body = await store.get(CONTAINER, chunk);
    body[body.length - 1] = (body[body.length - 1] as number) ^ 1;
    store.tamper(CONTAINER, chunk, body);
    const elsewhere = volumeUsers(other).alice;
    const res = await other.request('POST', '/v3/p-alice/volumes', elsewhere, { volume: { snapshot_id: snap } });
    assert.is(res.status, 202);
    await other.worker.idle();
    assert.is((await other.request('GET', `/v3/p-alice/volumes/${res.json.volume.id}`, elsewhere)).json.volume.status, 'error');
  } finally {
    await other.close();
    await api.close();
  }
});

test.run();
