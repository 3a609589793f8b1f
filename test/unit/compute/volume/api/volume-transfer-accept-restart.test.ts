import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../../../client/memory-record-store.ts';
import type { RecordListing, RecordListOptions, RecordStore, StoredRecord } from '../../../../../client/record-store.ts';
import { fernetSetup } from '../../../../../common/token/key-repository.ts';
import type { MemoryBackupObjectStore } from '../../../../../compute/volume/backup/memory-object-store.ts';
import { MemoryVolumeDriver } from '../../../../../compute/volume/driver/memory.ts';
import { QUOTA_LIMITS, QUOTA_USAGES } from '../../../../../compute/volume/quota.ts';
import { VolumeRecords } from '../../../../../compute/volume/records.ts';
import { makeTempDir } from '../../../../helpers/tmpdir.ts';
import { knownData, readVolume, writeVolume } from '../../../../helpers/volume-data.ts';
import { startVolumeApi, type TestVolumeApi, UNIT } from '../../../../helpers/volume-api.ts';
import { volumeUsers } from '../../../../helpers/volume-users.ts';

/**
 * Bug: a volume transfer accept killed half-way left some snapshots moved and others not, the
 * volume and the quotas inconsistent, and nothing to finish it. Its process is killed after
 * each of the accept's record writes in turn; the start of the same host finishes it: the
 * volume and every snapshot in the taker's project, each quota counted once.
 */
const HOST = 'node-a@file#file';
const V355 = { 'OpenStack-API-Version': 'volume 3.55' };

/** The dying process's view of the records: `dieAfterWrites` more writes go through, then every call hangs, as when it is killed. */
class DyingRecordStore implements RecordStore {
  private readonly inner: RecordStore;
  private writesLeft: number | undefined;
  /** Writes made since `dieAfterWrites`. */
  writes = 0;
  private dead = false;
  private onDeath: () => void = () => {};
  readonly died: Promise<void>;

  constructor(inner: RecordStore) {
    this.inner = inner;
    this.died = new Promise((resolve) => (this.onDeath = resolve));
  }

  dieAfterWrites(n: number): void {
    this.writesLeft = n;
    this.writes = 0;
  }

  private alive<T>(op: () => Promise<T>): Promise<T> {
    return this.dead ? new Promise(() => {}) : op();
  }

  private write<T>(op: () => Promise<T>): Promise<T> {
    if (this.writesLeft !== undefined && this.writesLeft-- <= 0) {
      this.dead = true;
      this.onDeath();
    }
    this.writes++;
    return this.alive(op);
  }

  get<T = unknown>(type: string, key: string): Promise<StoredRecord<T> | undefined> {
    return this.alive(() => this.inner.get<T>(type, key));
  }
  create(type: string, key: string, value: unknown): Promise<string> {
    return this.write(() => this.inner.create(type, key, value));
  }
  put(type: string, key: string, value: unknown, options?: { readonly ifVersion?: string }): Promise<string> {
    return this.write(() => this.inner.put(type, key, value, options));
  }
  delete(type: string, key: string, options?: { readonly ifVersion?: string }): Promise<boolean> {
    return this.write(() => this.inner.delete(type, key, options));
  }
  list(type: string, options?: RecordListOptions): Promise<RecordListing> {
    return this.alive(() => this.inner.list(type, options));
  }
  changeMark(type: string): Promise<string> {
    return this.alive(() => this.inner.changeMark(type));
  }
  noteChange(type: string): Promise<void> {
    return this.alive(() => this.inner.noteChange(type));
  }
  ensureType(type: string): Promise<void> {
    return this.alive(() => this.inner.ensureType(type));
  }
}

const dirs: Array<{ remove(): Promise<void> }> = [];
test.after(async () => {
  for (const d of dirs) await d.remove();
});

interface Offered {
  inner: MemoryRecordStore;
  dying: DyingRecordStore;
  first: TestVolumeApi;
  restart: () => Promise<TestVolumeApi>;
  keys: string;
  volumeId: string;
  snapshots: string[];
  data: Buffer;
  transfer: { id: string; auth_key: string };
  aliceBefore: Usage;
}

type Usage = { volumes: number; snapshots: number; gigabytes: number; snapshots___DEFAULT__: number };

/** Alice's 1 GiB volume with two snapshots, offered for transfer, on the first (dying) process of host HOST. */
async function offered(): Promise<Offered> {
  const dir = await makeTempDir('volume-transfer-restart-');
  dirs.push(dir);
  const keys = join(dir.path, 'fernet-keys');
  fernetSetup(keys);
  const inner = new MemoryRecordStore();
  const dying = new DyingRecordStore(inner);
  const driver = new MemoryVolumeDriver();
  const stores = new Map<string, MemoryBackupObjectStore>();
  const first = await startVolumeApi({ cluster: { records: new VolumeRecords(dying), stores }, driver, host: HOST, keys });
  const { alice } = volumeUsers(first);
  const made = await first.request('POST', '/v3/p-alice/volumes', alice, { volume: { size: 1 } });
  await first.worker.idle();
  const volumeId = made.json.volume.id as string;
  const data = knownData(UNIT / 4, 31);
  await writeVolume(driver, volumeId, data);
  const snapshots: string[] = [];
  for (const name of ['s1', 's2']) {
    const res = await first.request('POST', '/v3/p-alice/snapshots', alice, { snapshot: { volume_id: volumeId, name } });
    assert.is(res.status, 202, JSON.stringify(res.json));
    await first.worker.idle();
    snapshots.push(res.json.snapshot.id);
  }
  const aliceBefore = await usage(first, alice, 'p-alice');
  const transfer = (await first.request('POST', '/v3/p-alice/volume-transfers', alice, { transfer: { volume_id: volumeId } }, V355)).json.transfer;
  const restart = () => startVolumeApi({ cluster: { records: new VolumeRecords(inner), stores }, driver, host: HOST, keys });
  return { inner, dying, first, restart, keys, volumeId, snapshots, data, transfer, aliceBefore };
}

async function usage(api: TestVolumeApi, token: string, project: string): Promise<Usage> {
  const q = (await api.request('GET', `/v3/${project}/os-quota-sets/${project}?usage=true`, token)).json.quota_set;
  return { volumes: q.volumes.in_use, snapshots: q.snapshots.in_use, gigabytes: q.gigabytes.in_use, snapshots___DEFAULT__: q.snapshots___DEFAULT__.in_use };
}

/** Bob accepts on the first process, which is killed after `writes` record writes; true when it was (false: the accept ended first). */
async function acceptKilledAfter(o: Offered, writes: number): Promise<boolean> {
  o.dying.dieAfterWrites(writes);
  const { bob } = volumeUsers(o.first);
  const answered = o.first.request('POST', `/v3/p-bob/volume-transfers/${o.transfer.id}/accept`, bob, { accept: { auth_key: o.transfer.auth_key } }, V355).catch(() => undefined);
  const killed = await Promise.race([answered.then(() => false), o.dying.died.then(() => true)]);
  if (!killed) return false;
  await o.first.abandon();
  return true;
}

/** Everything in bob's project, nothing left in alice's, the quotas counted once and no quota change left pending. */
async function assertMovedOnce(o: Offered, api: TestVolumeApi, what: string): Promise<void> {
  const { alice, bob } = volumeUsers(api);
  const volume = await api.request('GET', `/v3/p-bob/volumes/${o.volumeId}`, bob);
  assert.is(volume.status, 200, what);
  assert.equal([volume.json.volume.status, volume.json.volume.user_id], ['available', 'bob'], what);
  assert.is((await api.request('GET', `/v3/p-alice/volumes/${o.volumeId}`, alice)).status, 404, what);
  const theirs = (await api.request('GET', '/v3/p-bob/snapshots/detail', bob)).json.snapshots;
  assert.equal(theirs.map((s: { id: string }) => s.id).sort(), [...o.snapshots].sort(), what);
  for (const s of theirs) assert.equal([s.status, s.volume_id], ['available', o.volumeId], what);
  assert.equal((await api.request('GET', '/v3/p-alice/snapshots/detail', alice)).json.snapshots, [], what);
  assert.is((await api.request('GET', `/v3/p-alice/volume-transfers/${o.transfer.id}`, alice, undefined, V355)).status, 404, what);
  assert.equal(await usage(api, bob, 'p-bob'), { volumes: 1, snapshots: 2, gigabytes: 3, snapshots___DEFAULT__: 2 }, what);
  assert.equal(await usage(api, alice, 'p-alice'), { volumes: o.aliceBefore.volumes - 1, snapshots: 0, gigabytes: 0, snapshots___DEFAULT__: 0 }, what);
  for (const p of ['p-alice', 'p-bob']) assert.is((await o.inner.get<{ applied?: string[] }>(QUOTA_USAGES, p))?.value.applied, undefined, `${what}: ${p}'s quota keys settled`);
  assert.ok((await readVolume(api.driver, o.volumeId)).subarray(0, o.data.length).equals(o.data), what);
}

test('a transfer accept killed after any of its record writes is finished by the restart: volume and snapshots moved, quotas counted once', async () => {
  // How many writes a whole accept makes, then a kill after each of them (the runs in parallel: each its own cluster).
  const whole = await offered();
  assert.not.ok(await acceptKilledAfter(whole, Number.POSITIVE_INFINITY));
  await assertMovedOnce(whole, whole.first, 'not killed');
  await whole.first.close();
  const total = whole.dying.writes;
  assert.ok(total > 8, `the accept made ${total} writes`);
  await Promise.all(Array.from({ length: total }, (_, writes) => killedAndRestarted(writes)));
});

async function killedAndRestarted(writes: number): Promise<void> {
  const o = await offered();
  const what = `killed after ${writes} writes`;
  assert.ok(await acceptKilledAfter(o, writes), what);
  const second = await o.restart();
  try {
    await second.worker.idle();
    if (writes === 0) {
      // Killed before the intent was written: nothing happened, the offer stands and is taken again.
      assert.equal(second.cleanedUp(), [], what);
      const { alice, bob } = volumeUsers(second);
      assert.is((await second.request('GET', `/v3/p-alice/volumes/${o.volumeId}`, alice)).json.volume.status, 'awaiting-transfer', what);
      assert.equal(await usage(second, bob, 'p-bob'), { volumes: 0, snapshots: 0, gigabytes: 0, snapshots___DEFAULT__: 0 }, what);
      const again = await second.request('POST', `/v3/p-bob/volume-transfers/${o.transfer.id}/accept`, bob, { accept: { auth_key: o.transfer.auth_key } }, V355);
      assert.is(again.status, 202, JSON.stringify(again.json));
    } else {
      assert.equal(second.cleanedUp().map((x) => `${x.kind} ${x.id} ${x.from}->${x.to}`), [`transfer ${o.transfer.id} accepting->accepted`], what);
    }
    await assertMovedOnce(o, second, what);
  } finally {
    await second.close();
  }
}

test('an accept killed before the taker reserved, restarted when the taker has no quota left: undone, the offer stands, nothing moved or counted', async () => {
  const o = await offered();
  assert.ok(await acceptKilledAfter(o, 1));
  const lowered = new VolumeRecords(o.inner);
  await lowered.store.put(QUOTA_LIMITS, 'p-bob', { project_id: 'p-bob', limits: { snapshots: 1 } });
  const second = await o.restart();
  try {
    await second.worker.idle();
    const { alice, bob } = volumeUsers(second);
    assert.equal(second.cleanedUp().map((x) => `${x.kind} ${x.from}->${x.to}`), ['transfer accepting->offered']);
    assert.is((await second.request('GET', `/v3/p-alice/volumes/${o.volumeId}`, alice)).json.volume.status, 'awaiting-transfer');
    assert.equal((await second.request('GET', '/v3/p-alice/snapshots/detail', alice)).json.snapshots.map((s: { status: string }) => s.status), ['available', 'available']);
    assert.equal(await usage(second, bob, 'p-bob'), { volumes: 0, snapshots: 0, gigabytes: 0, snapshots___DEFAULT__: 0 });
    assert.equal(await usage(second, alice, 'p-alice'), o.aliceBefore);
    assert.is((await o.inner.get<{ applied?: string[] }>(QUOTA_USAGES, 'p-bob'))?.value.applied, undefined);
    // The same offer, with room again, goes through.
    await lowered.store.delete(QUOTA_LIMITS, 'p-bob');
    const again = await second.request('POST', `/v3/p-bob/volume-transfers/${o.transfer.id}/accept`, bob, { accept: { auth_key: o.transfer.auth_key } }, V355);
    assert.is(again.status, 202, JSON.stringify(again.json));
    await assertMovedOnce(o, second, 'accepted again');
  } finally {
    await second.close();
  }
});

test('while an accept is under way (its process dead, not yet restarted) the offer is neither accepted again nor deleted, and a snapshot already moved is not deleted', async () => {
  const o = await offered();
  // The intent, the taker's two reservations, the first snapshot's two writes: killed before the second snapshot's.
  assert.ok(await acceptKilledAfter(o, 5));
  const other = await startVolumeApi({ cluster: { records: new VolumeRecords(o.inner), stores: new Map() }, host: 'node-b@file#file', keys: o.keys });
  try {
    const tokens = { alice: other.token('alice', 'p-alice'), bob: other.token('bob', 'p-bob') };
    const again = await other.request('POST', `/v3/p-bob/volume-transfers/${o.transfer.id}/accept`, tokens.bob, { accept: { auth_key: o.transfer.auth_key } }, V355);
    assert.is(again.status, 404);
    assert.is((await other.request('DELETE', `/v3/p-alice/volume-transfers/${o.transfer.id}`, tokens.alice, undefined, V355)).status, 404);
    const moved = (await other.request('GET', '/v3/p-bob/snapshots/detail', tokens.bob)).json.snapshots;
    assert.is(moved.length, 1);
    const refused = await other.request('DELETE', `/v3/p-bob/snapshots/${moved[0].id}`, tokens.bob);
    assert.is(refused.status, 400);
    assert.match(refused.json.badRequest.message, /is being transferred/);
  } finally {
    await other.close();
  }
  const second = await o.restart();
  try {
    await second.worker.idle();
    await assertMovedOnce(o, second, 'restarted');
  } finally {
    await second.close();
  }
});

test.run();
