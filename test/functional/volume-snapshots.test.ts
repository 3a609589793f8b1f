import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../common/clock.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { SwiftRecordStore } from '../../client/swift-record-store.ts';
import { fernetSetup } from '../../common/token/key-repository.ts';
import { SwiftBackupObjectStore } from '../../compute/volume/backup/swift-object-store.ts';
import { FileVolumeDriver } from '../../compute/volume/driver/file.ts';
import { VolumeRecords } from '../../compute/volume/records.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../helpers/volume-api.ts';
import { volumeUsers } from '../helpers/volume-users.ts';
import { knownData, readVolume, writeVolume } from '../helpers/volume-data.ts';
import type { PiecedBody } from '../../compute/volume/backup/object-store.ts';

/**
 * Snapshots in a real cluster (4 storage nodes, 3 replicas): the volume API over records in
 * `AUTH_.volume` and snapshot objects in its `volume_snapshots` container, written by the
 * service's own user. A storage node stops in the middle of the snapshot's upload; the snapshot
 * still becomes available (every object on a quorum), its host is lost, and another host makes
 * a volume of the same bytes from the cluster while the node is still down.
 */
let cluster: TestCluster;
let http: UndiciBackendClient;
let dir: Awaited<ReturnType<typeof makeTempDir>>;

/** The snapshot store; `afterChunkPut` runs after each chunk object is stored. */
class WatchedStore extends SwiftBackupObjectStore {
  chunkPuts = 0;
  afterChunkPut: ((count: number) => Promise<void>) | undefined;
  override async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    await super.put(container, name, data, md5);
    if (!/-\d{5}$/.test(name)) return;
    this.chunkPuts++;
    await this.afterChunkPut?.(this.chunkPuts);
  }
}

const volumeClient = (): SwiftClient => new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.volume:volume', key: 'volkey' }, { http, clock: systemClock });

test.before(async () => {
  cluster = await startCluster({ nodes: 4, replicas: 3, users: { 'user_.volume_volume': 'volkey .admin' } });
  http = new UndiciBackendClient();
  dir = await makeTempDir('swiftlet-volume-snapshots-');
});

test.after(async () => {
  await http.close();
  await cluster.close();
  await dir.remove();
});

test('a storage node stopped during the snapshot upload: the snapshot is available, and after its host is lost another host makes a volume of the same bytes from the cluster', async () => {
  const client = volumeClient();
  const records = new VolumeRecords(new SwiftRecordStore(client));
  const store = new WatchedStore(client);
  let second: TestVolumeApi | undefined;
  let firstOpen = true;
  let stopped = false;
  const first = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node1') }), records, snapshotStore: store });
  try {
    const token = volumeUsers(first).alice;
    const created = await first.request('POST', '/v3/p-alice/volumes', token, { volume: { size: 2 } });
    await first.worker.idle();
    const volumeId = created.json.volume.id as string;
    const data = knownData(2 * UNIT, 101);
    await writeVolume(first.driver, volumeId, data);

    store.afterChunkPut = async (count) => {
      if (count === 4) {
        await cluster.stopNode(2);
        stopped = true;
      }
    };
    const res = await first.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
    assert.is(res.status, 202);
    await first.worker.idle();
    store.afterChunkPut = undefined;
    assert.ok(stopped, 'node 2 stopped during the upload');
    const snapId = res.json.snapshot.id as string;
    assert.is((await first.request('GET', `/v3/p-alice/snapshots/${snapId}`, token)).json.snapshot.status, 'available');
    assert.is(store.chunkPuts, 32, 'every chunk of the 2-"GiB" volume');

    await first.close();
    firstOpen = false;
    await rm(join(dir.path, 'node1'), { recursive: true, force: true });

    second = await startVolumeApi({ driver: new FileVolumeDriver({ dir: join(dir.path, 'node2') }), records, snapshotStore: new SwiftBackupObjectStore(volumeClient()) });
    const again = volumeUsers(second).alice;
    const made = await second.request('POST', '/v3/p-alice/volumes', again, { volume: { snapshot_id: snapId } });
    assert.is(made.status, 202, JSON.stringify(made.json));
    await second.worker.idle();
    const id = made.json.volume.id as string;
    assert.is((await second.request('GET', `/v3/p-alice/volumes/${id}`, again)).json.volume.status, 'available');
    assert.ok((await readVolume(second.driver, id)).equals(data), 'the same bytes, from the cluster, with a node down');

    assert.is((await second.request('DELETE', `/v3/p-alice/snapshots/${snapId}`, again)).status, 202);
    await second.worker.idle();
    assert.equal(await store.listNames('volume_snapshots', ''), [], "the snapshot's objects are gone");
  } finally {
    if (firstOpen) await first.close();
    await second?.close();
    if (stopped) await cluster.startNode(2);
  }
});

/**
 * The calls a dead process left hanging, kept reachable: what waits on them (a task holding the
 * volume's snapshot file open) stays as it is, as in a process that is gone, rather than being
 * collected (Node warns when it closes a file handle on collection).
 */
const hanging: Array<() => void> = [];

/** A snapshot store whose process dies after `livePuts` chunk objects: every later call of it hangs. */
class DyingStore extends SwiftBackupObjectStore {
  livePuts = Number.POSITIVE_INFINITY;
  private dead = false;
  private onDeath: () => void = () => {};
  readonly died = new Promise<void>((resolve) => (this.onDeath = resolve));
  override async put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    if (this.dead || (/-\d{5}$/.test(name) && this.livePuts-- <= 0)) return this.die();
    try {
      return await super.put(container, name, data, md5);
    } catch {
      // A PUT the loaded cluster refused (503): the process dies there instead, before it could
      // clean up after itself, which is the case under test all the same.
      return this.die();
    }
  }

  private die(): Promise<void> {
    this.dead = true;
    this.onDeath();
    return new Promise((resolve) => hanging.push(resolve));
  }
}

/** Every object of AUTH_.volume whose name has `id` in it, as `container/name`. */
async function objectsNaming(client: SwiftClient, id: string): Promise<string[]> {
  const res = await client.request({ method: 'GET', query: { format: 'json' } });
  const containers = (await res.body.json()) as Array<{ name: string }>;
  const out: string[] = [];
  for (const c of containers) for await (const row of client.listAll(c.name)) if (row.name.includes(id)) out.push(`${c.name}/${row.name}`);
  return out;
}

test('the volume service killed mid-snapshot-upload and started again: the snapshot is error, and AUTH_.volume keeps no object of its upload and no chain record', async () => {
  const client = volumeClient();
  const records = new VolumeRecords(new SwiftRecordStore(client));
  const keys = join(dir.path, 'restart-keys');
  fernetSetup(keys);
  const dying = new DyingStore(client);
  const volumes = join(dir.path, 'restart-node');
  const first = await startVolumeApi({ driver: new FileVolumeDriver({ dir: volumes }), records, snapshotStore: dying, keys, host: 'restart@file#file' });
  let second: TestVolumeApi | undefined;
  try {
    const token = volumeUsers(first).alice;
    const created = await first.request('POST', '/v3/p-alice/volumes', token, { volume: { size: 1 } });
    await first.worker.idle();
    const volumeId = created.json.volume.id as string;
    await writeVolume(first.driver, volumeId, knownData(UNIT, 202));
    dying.livePuts = 5;
    const res = await first.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
    assert.is(res.status, 202);
    const snapId = res.json.snapshot.id as string;
    await dying.died;
    await first.abandon();
    const before = await objectsNaming(client, snapId);
    assert.ok(before.some((n) => n.startsWith('volume_snapshots/')), `the upload had written chunks: ${before.join(', ')}`);

    second = await startVolumeApi({ driver: new FileVolumeDriver({ dir: volumes }), records, snapshotStore: new SwiftBackupObjectStore(volumeClient()), keys, host: 'restart@file#file' });
    await second.worker.idle();
    assert.is((await second.request('GET', `/v3/p-alice/snapshots/${snapId}`, token)).json.snapshot.status, 'error');
    assert.is((await second.request('GET', `/v3/p-alice/volumes/${volumeId}`, token)).json.volume.status, 'available');
    assert.equal(await objectsNaming(client, snapId), [`snapshots/p-alice/${snapId}`], 'only the snapshot record names it');
    assert.equal((await objectsNaming(client, volumeId)).filter((n) => n.startsWith('snapshot_chains/')), [], 'no chain record');
  } finally {
    await second?.close();
  }
});

test.run();
