import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fernetSetup } from '../../../../../common/token/key-repository.ts';
import { MemoryRecordStore } from '../../../../../client/memory-record-store.ts';
import { MemoryBackupObjectStore } from '../../../../../compute/volume/backup/memory-object-store.ts';
import type { ObjectStream, PiecedBody } from '../../../../../compute/volume/backup/object-store.ts';
import { BACKUP_RESET_REASON } from '../../../../../compute/volume/clean-up-at-start.ts';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { type BackupRecord, BACKUPS, type SnapshotRecord, SNAPSHOTS, VolumeRecords, type VolumeRecord, VOLUMES } from '../../../../../compute/volume/records.ts';
import { SNAPSHOT_CHAINS, SnapshotChains } from '../../../../../compute/volume/snapshot-chains.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { SNAPSHOT_ACCOUNT, startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/**
 * A volume service whose process dies mid-operation, started again on the same host (the same
 * records, objects and volume files): the records end as Cinder's init_host and backup manager
 * leave them, and nothing the cut-off work wrote stays in the cluster. "Dies" is the test API's
 * `abandon()`: it stops answering and its tasks stay blocked on a store that never answers.
 */
const HOST = 'node-a@file#file';
const V340 = { 'OpenStack-API-Version': 'volume 3.40' };

/**
 * The dying process's view of a store: everything goes through to the shared store until
 * `stallPutsAfter`/`stallGetsAfter` many more puts (or gets) have, and from then on nothing of
 * this process reaches it again (every call hangs), as when the process is killed.
 */
class DyingStore extends MemoryBackupObjectStore {
  private readonly inner: MemoryBackupObjectStore;
  private putsLeft: number | undefined;
  private getsLeft: number | undefined;
  private dead = false;
  private onStall: () => void = () => {};
  /** Resolves when this process's link to the store died. */
  readonly stalled: Promise<void>;

  constructor(inner: MemoryBackupObjectStore) {
    super();
    this.inner = inner;
    this.stalled = new Promise((resolve) => (this.onStall = resolve));
  }

  stallPutsAfter(n: number): void {
    this.putsLeft = n;
  }

  stallGetsAfter(n: number): void {
    this.getsLeft = n;
  }

  private alive<T>(op: () => Promise<T>): Promise<T> {
    if (this.dead) return new Promise(() => {});
    return op();
  }

  private die(): Promise<never> {
    this.dead = true;
    this.onStall();
    return new Promise(() => {});
  }

  override ensureContainer(container: string): Promise<void> {
    return this.alive(() => this.inner.ensureContainer(container));
  }

  override listNames(container: string, prefix: string): Promise<string[]> {
    return this.alive(() => this.inner.listNames(container, prefix));
  }

  override put(container: string, name: string, data: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    if (this.putsLeft !== undefined && this.putsLeft-- <= 0) return this.die();
    return this.alive(() => this.inner.put(container, name, data, md5));
  }

  override get(container: string, name: string): Promise<Uint8Array> {
    if (this.getsLeft !== undefined && this.getsLeft-- <= 0) return this.die();
    return this.alive(() => this.inner.get(container, name));
  }

  override getInto(container: string, name: string, into: Uint8Array): Promise<Uint8Array> {
    if (this.getsLeft !== undefined && this.getsLeft-- <= 0) return this.die();
    return this.alive(() => this.inner.getInto(container, name, into));
  }

  override getStream(container: string, name: string): Promise<ObjectStream> {
    if (this.getsLeft !== undefined && this.getsLeft-- <= 0) return this.die();
    return this.alive(() => this.inner.getStream(container, name));
  }

  override delete(container: string, name: string): Promise<void> {
    return this.alive(() => this.inner.delete(container, name));
  }
}

interface Cluster {
  /** Identity's key repository, shared by both processes (a token stays good across the restart). */
  keys: string;
  records: VolumeRecords;
  driver: MemoryVolumeDriver;
  /** The cluster's snapshot account and p-alice's account. */
  snapshots: MemoryBackupObjectStore;
  alice: MemoryBackupObjectStore;
  /** The first process's view of them (it dies when they stall). */
  dying: { snapshots: DyingStore; alice: DyingStore };
}

const keyDirs: Array<{ remove(): Promise<void> }> = [];
test.after(async () => {
  for (const d of keyDirs) await d.remove();
});

async function newCluster(): Promise<Cluster> {
  const dir = await makeTempDir('volume-restart-keys-');
  keyDirs.push(dir);
  const keys = join(dir.path, 'fernet-keys');
  fernetSetup(keys);
  const snapshots = new MemoryBackupObjectStore();
  const alice = new MemoryBackupObjectStore();
  return { keys, records: new VolumeRecords(new MemoryRecordStore()), driver: new MemoryVolumeDriver(), snapshots, alice, dying: { snapshots: new DyingStore(snapshots), alice: new DyingStore(alice) } };
}

/** The volume service on `host`; `dying`: the first process, whose stores can die under it. */
function start(c: Cluster, host = HOST, dying = false): Promise<TestVolumeApi> {
  const stores = new Map<string, MemoryBackupObjectStore>([
    [SNAPSHOT_ACCOUNT, dying ? c.dying.snapshots : c.snapshots],
    ['p-alice', dying ? c.dying.alice : c.alice],
  ]);
  return startVolumeApi({ cluster: { records: c.records, stores }, driver: c.driver, host, keys: c.keys });
}

async function createVolume(api: TestVolumeApi, token: string): Promise<string> {
  const res = await api.request('POST', '/v3/p-alice/volumes', token, { volume: { size: 1 } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  await api.worker.idle();
  const id = res.json.volume.id as string;
  await writeVolume(api.driver, id, knownData(UNIT, 7));
  return id;
}

async function statusOf(api: TestVolumeApi, token: string, kind: 'volumes' | 'snapshots' | 'backups', id: string): Promise<string> {
  const res = await api.request('GET', `/v3/p-alice/${kind}/${id}`, token);
  assert.is(res.status, 200, JSON.stringify(res.json));
  return res.json[kind.slice(0, -1)].status;
}

/** A new cluster, the first (dying) process on it, a member's token, and a written volume. */
async function firstProcessWithVolume(): Promise<{ c: Cluster; first: TestVolumeApi; token: string; volumeId: string }> {
  const c = await newCluster();
  const first = await start(c, HOST, true);
  const token = volumeUsers(first).alice;
  return { c, first, token, volumeId: await createVolume(first, token) };
}

/**
 * POSTs `body` to `path` on the first process, which dies once `store` stalls (after what
 * `stall` set it up to let through); returns the 202's body.
 */
// biome-ignore lint/suspicious/noExplicitAny: tests read Cinder's JSON freely
async function dieDuring(first: TestVolumeApi, token: string, store: DyingStore, stall: (s: DyingStore) => void, path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  stall(store);
  const res = await first.request('POST', path, token, body, headers);
  assert.is(res.status, 202, JSON.stringify(res.json));
  await store.stalled;
  await first.abandon();
  return res.json;
}

async function usage(api: TestVolumeApi, token: string): Promise<Record<string, number>> {
  const res = await api.request('GET', '/v3/p-alice/os-quota-sets/p-alice?usage=True', token);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(res.json.quota_set)) if (typeof v === 'object' && v !== null) out[k] = (v as { in_use: number }).in_use;
  return out;
}

test('a snapshot cut off mid-upload is error after a restart, its objects and chain layer gone, and it deletes cleanly', async () => {
  const { c, first, token, volumeId } = await firstProcessWithVolume();
  const made = await dieDuring(first, token, c.dying.snapshots, (s) => s.stallPutsAfter(3), '/v3/p-alice/snapshots', { snapshot: { volume_id: volumeId } });
  const snapshotId = made.snapshot.id as string;
  assert.is((await c.snapshots.listNames('volume_snapshots', '')).length, 3, 'the cut-off upload left objects');
  assert.ok(await c.records.store.get(SNAPSHOT_CHAINS, `p-alice/${volumeId}`), 'and an uploading layer');

  const second = await start(c);
  try {
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'snapshots', snapshotId), 'error');
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'available');
    assert.equal(await c.snapshots.listNames('volume_snapshots', ''), [], 'no object of the cut-off upload is left');
    assert.is(await c.records.store.get(SNAPSHOT_CHAINS, `p-alice/${volumeId}`), undefined, 'the chain record went with its only layer');
    assert.is(await c.driver.getSnapshot(snapshotId), undefined, 'nor its local copy');
    assert.equal(
      second.cleanedUp().map((x) => `${x.kind} ${x.from}->${x.to}`),
      ['snapshot creating->error', 'snapshot layer uploading->deleted'],
    );
    // The operator's next step: the error snapshot deletes, and gives its quota back.
    assert.is((await second.request('DELETE', `/v3/p-alice/snapshots/${snapshotId}`, token)).status, 202);
    await second.worker.idle();
    assert.is((await second.request('GET', `/v3/p-alice/snapshots/${snapshotId}`, token)).status, 404);
    assert.is((await usage(second, token))['snapshots'], 0);
    // And a new snapshot of the volume is a full copy, made as usual.
    const again = await second.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'snapshots', again.json.snapshot.id), 'available');
  } finally {
    await second.close();
  }
});

test('a backup cut off mid-upload is error with Cinder reason after a restart, its volume back to available, its objects gone', async () => {
  const { c, first, token, volumeId } = await firstProcessWithVolume();
  const made = await dieDuring(first, token, c.dying.alice, (s) => s.stallPutsAfter(4), '/v3/p-alice/backups', { backup: { volume_id: volumeId } });
  const backupId = made.backup.id as string;
  assert.is(await statusOf(first, token, 'volumes', volumeId).catch(() => 'unreachable'), 'unreachable');
  assert.is((await c.records.find<VolumeRecord>(VOLUMES, volumeId, 'p-alice', false))?.status, 'backing-up');
  assert.ok((await c.alice.listNames('volumebackups', '')).length > 0);

  const second = await start(c);
  try {
    await second.worker.idle();
    const backup = (await second.request('GET', `/v3/p-alice/backups/${backupId}`, token)).json.backup;
    assert.is(backup.status, 'error');
    assert.is(backup.fail_reason, BACKUP_RESET_REASON);
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'available');
    assert.equal(await c.alice.listNames('volumebackups', ''), [], 'no object of the cut-off backup is left');
    assert.is((await second.request('DELETE', `/v3/p-alice/backups/${backupId}`, token)).status, 202);
    await second.worker.idle();
    assert.is((await usage(second, token))['backups'], 0);
  } finally {
    await second.close();
  }
});

test('a restore cut off mid-way leaves the backup available and the volume error_restoring after a restart', async () => {
  const { c, first, token, volumeId } = await firstProcessWithVolume();
  const made = await first.request('POST', '/v3/p-alice/backups', token, { backup: { volume_id: volumeId } });
  await first.worker.idle();
  const backupId = made.json.backup.id as string;
  assert.is(await statusOf(first, token, 'backups', backupId), 'available');
  const objects = await c.alice.listNames('volumebackups', '');
  await dieDuring(first, token, c.dying.alice, (s) => s.stallGetsAfter(3), `/v3/p-alice/backups/${backupId}/restore`, { restore: { volume_id: volumeId } });

  const second = await start(c);
  try {
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'backups', backupId), 'available');
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'error_restoring');
    assert.equal(await c.alice.listNames('volumebackups', ''), objects, "the backup's objects are all still there");
    // The volume can be restored again once an admin resets it (Cinder's way out).
    const admin = volumeUsers(second).admin;
    assert.is((await second.request('POST', `/v3/p-alice/volumes/${volumeId}/action`, admin, { 'os-reset_status': { status: 'available' } })).status, 202);
    assert.is((await second.request('POST', `/v3/p-alice/backups/${backupId}/restore`, token, { restore: { volume_id: volumeId } })).status, 202);
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'available');
  } finally {
    await second.close();
  }
});

test('a restart resumes deletes left deleting, turns creating and downloading volumes to error and uploading back to available', async () => {
  const c = await newCluster();
  const first = await start(c, HOST, true);
  const token = volumeUsers(first).alice;
  const ids = [await createVolume(first, token), await createVolume(first, token), await createVolume(first, token), await createVolume(first, token)];
  const backup = await first.request('POST', '/v3/p-alice/backups', token, { backup: { volume_id: ids[0] } });
  await first.worker.idle();
  const backupId = backup.json.backup.id as string;
  await first.close();
  // What a process killed in the middle of each leaves in the records.
  const leave = async (id: string, status: string) => c.records.update<VolumeRecord>(VOLUMES, { id, project_id: 'p-alice' }, (cur) => ({ ...cur, status }));
  await leave(ids[0] as string, 'deleting');
  await leave(ids[1] as string, 'creating');
  await leave(ids[2] as string, 'downloading');
  await leave(ids[3] as string, 'uploading');
  await c.records.update<BackupRecord>(BACKUPS, { id: backupId, project_id: 'p-alice' }, (cur) => ({ ...cur, status: 'deleting' }));

  const second = await start(c);
  try {
    await second.worker.idle();
    assert.is((await second.request('GET', `/v3/p-alice/volumes/${ids[0]}`, token)).status, 404, 'the delete was resumed');
    assert.is(await c.driver.getVolume(ids[0] as string), undefined);
    assert.is(await statusOf(second, token, 'volumes', ids[1] as string), 'error');
    assert.is(await statusOf(second, token, 'volumes', ids[2] as string), 'error');
    assert.is(await statusOf(second, token, 'volumes', ids[3] as string), 'available');
    assert.is((await second.request('GET', `/v3/p-alice/backups/${backupId}`, token)).status, 404, 'the backup delete was resumed');
    assert.equal(await c.alice.listNames('volumebackups', ''), []);
    const used = await usage(second, token);
    assert.is(used['volumes'], 3);
    assert.is(used['backups'], 0);
  } finally {
    await second.close();
  }
});

test('a snapshot delete cut off after its layer was marked collecting: the start collects the layer; the snapshot stays deleting for an admin, as in Cinder', async () => {
  const c = await newCluster();
  const first = await start(c);
  const token = volumeUsers(first).alice;
  const volumeId = await createVolume(first, token);
  const made = await first.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
  await first.worker.idle();
  const snapshotId = made.json.snapshot.id as string;
  await first.close();
  // What the delete had done when its process died: the status, the layer retired and marked collecting.
  await c.records.update<SnapshotRecord>(SNAPSHOTS, { id: snapshotId, project_id: 'p-alice' }, (cur) => ({ ...cur, status: 'deleting' }));
  const collect = await new SnapshotChains(c.records.store, { maxChain: 8 }).retire('p-alice', volumeId, snapshotId);
  assert.equal(collect.map((l) => l.id), [snapshotId]);
  assert.ok((await c.snapshots.listNames('volume_snapshots', '')).length > 0);

  const second = await start(c);
  try {
    await second.worker.idle();
    assert.equal(await c.snapshots.listNames('volume_snapshots', ''), [], 'the collecting layer was collected');
    assert.is(await c.records.store.get(SNAPSHOT_CHAINS, `p-alice/${volumeId}`), undefined);
    assert.is(await statusOf(second, token, 'snapshots', snapshotId), 'deleting');
    const admin = volumeUsers(second).admin;
    assert.is((await second.request('POST', `/v3/p-alice/snapshots/${snapshotId}/action`, admin, { 'os-reset_status': { status: 'error' } })).status, 202);
    assert.is((await second.request('DELETE', `/v3/p-alice/snapshots/${snapshotId}`, token)).status, 202);
    await second.worker.idle();
    assert.is((await second.request('GET', `/v3/p-alice/snapshots/${snapshotId}`, token)).status, 404);
    assert.is((await usage(second, token))['snapshots'], 0);
  } finally {
    await second.close();
  }
});

test('a revert cut off mid-write is resumed by the restart: the volume holds the snapshot and is available, the snapshot available (Cinder leaves both reverting/restoring)', async () => {
  const { c, first, token, volumeId } = await firstProcessWithVolume();
  const snap = await first.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
  await first.worker.idle();
  const snapshotId = snap.json.snapshot.id as string;
  const atSnapshot = await readVolume(c.driver, volumeId);
  await writeVolume(c.driver, volumeId, knownData(UNIT, 8));
  // This host lost its local copy: the revert reads the snapshot's chunks from the cluster, and dies after a few.
  await c.driver.deleteSnapshot(snapshotId);
  await dieDuring(first, token, c.dying.snapshots, (s) => s.stallGetsAfter(4), `/v3/p-alice/volumes/${volumeId}/action`, { revert: { snapshot_id: snapshotId } }, V340);
  assert.equal([(await c.records.find<VolumeRecord>(VOLUMES, volumeId, 'p-alice', false))?.status, (await c.records.find<SnapshotRecord>(SNAPSHOTS, snapshotId, 'p-alice', false))?.status], ['reverting', 'restoring']);
  const half = await readVolume(c.driver, volumeId);
  assert.not.ok(half.equals(atSnapshot), 'the cut-off revert left the volume half written');

  const second = await start(c);
  try {
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'available');
    assert.is(await statusOf(second, token, 'snapshots', snapshotId), 'available');
    assert.ok((await readVolume(c.driver, volumeId)).equals(atSnapshot), 'the volume holds the snapshot');
    assert.equal(second.cleanedUp().map((x) => `${x.kind} ${x.id === volumeId ? 'V' : x.id} ${x.from}->${x.to}`), ['volume V reverting->available']);
    // And the volume works as any other: written, snapshotted again, reverted again.
    assert.is((await second.request('POST', `/v3/p-alice/volumes/${volumeId}/action`, token, { revert: { snapshot_id: snapshotId } }, V340)).status, 202);
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'available');
  } finally {
    await second.close();
  }
});

test('a revert the restart cannot finish ends as a failed revert in Cinder: the volume error (never available half written), the snapshot available', async () => {
  const { c, first, token, volumeId } = await firstProcessWithVolume();
  const snap = await first.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: volumeId } });
  await first.worker.idle();
  const snapshotId = snap.json.snapshot.id as string;
  await c.driver.deleteSnapshot(snapshotId);
  await dieDuring(first, token, c.dying.snapshots, (s) => s.stallGetsAfter(4), `/v3/p-alice/volumes/${volumeId}/action`, { revert: { snapshot_id: snapshotId } }, V340);
  // The snapshot's objects are lost meanwhile: the resumed write fails.
  for (const name of await c.snapshots.listNames('volume_snapshots', '')) await c.snapshots.delete('volume_snapshots', name);
  const second = await start(c);
  try {
    await second.worker.idle();
    assert.is(await statusOf(second, token, 'volumes', volumeId), 'error');
    assert.is(await statusOf(second, token, 'snapshots', snapshotId), 'available');
    assert.equal(second.cleanedUp().map((x) => `${x.kind} ${x.from}->${x.to}`), ['volume reverting->error']);
  } finally {
    await second.close();
  }
});

test('what a revert can leave between its steps: a volume reverting with no snapshot to finish from is error; a snapshot restoring under a volume that is not reverting is available', async () => {
  const c = await newCluster();
  const first = await start(c);
  const token = first.token('u-alice', 'p-alice');
  const [a, b, d] = [await createVolume(first, token), await createVolume(first, token), await createVolume(first, token)];
  const snapOf = async (id: string) => {
    const res = await first.request('POST', '/v3/p-alice/snapshots', token, { snapshot: { volume_id: id } });
    await first.worker.idle();
    return res.json.snapshot.id as string;
  };
  const [sa, sb, sd] = [await snapOf(a), await snapOf(b), await snapOf(d)];
  await first.close();
  const set = <T extends { id: string; project_id: string; status: string }>(kind: typeof VOLUMES | typeof SNAPSHOTS, id: string, change: Partial<T>) => c.records.update<T>(kind, { id, project_id: 'p-alice' }, (cur) => ({ ...cur, ...change }));
  // a: a record from before `reverting_to` (which snapshot, and how far, unknown).
  await set<VolumeRecord>(VOLUMES, a, { status: 'reverting' });
  await set<SnapshotRecord>(SNAPSHOTS, sa, { status: 'restoring' });
  // b: its snapshot claimed, the process dead before the volume was (nothing written).
  await set<SnapshotRecord>(SNAPSHOTS, sb, { status: 'restoring' });
  // d: reverting to a snapshot an admin force-deleted on another host meanwhile.
  await set<VolumeRecord>(VOLUMES, d, { status: 'reverting', reverting_to: sd });
  await c.records.remove(SNAPSHOTS, { id: sd, project_id: 'p-alice' });
  const second = await start(c);
  try {
    await second.worker.idle();
    assert.equal([await statusOf(second, token, 'volumes', a), await statusOf(second, token, 'snapshots', sa)], ['error', 'available']);
    assert.equal([await statusOf(second, token, 'volumes', b), await statusOf(second, token, 'snapshots', sb)], ['available', 'available']);
    assert.is(await statusOf(second, token, 'volumes', d), 'error');
    assert.is((await c.records.find<VolumeRecord>(VOLUMES, d, 'p-alice', false))?.reverting_to, undefined);
  } finally {
    await second.close();
  }
});

test("a host's start leaves another host's records alone", async () => {
  const c = await newCluster();
  const first = await start(c, 'node-b@file#file');
  const token = volumeUsers(first).alice;
  const id = await createVolume(first, token);
  await first.close();
  await c.records.update<VolumeRecord>(VOLUMES, { id, project_id: 'p-alice' }, (cur) => ({ ...cur, status: 'creating' }));
  const other = await start(c, HOST);
  try {
    await other.worker.idle();
    assert.is(await statusOf(other, token, 'volumes', id), 'creating');
    assert.equal(other.cleanedUp(), []);
  } finally {
    await other.close();
  }
});

test.run();
