import { type SnapshotRecord, SNAPSHOTS, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, optionalString } from './input.ts';
import type { VolumeRequest, VolumeResponse } from './request.ts';
import { revertFromSnapshot } from './snapshot-tasks.ts';
import { cinderTime } from './views.ts';

/**
 * Cinder's `revert` volume action (3.40; cinder/api/v3/volumes.py `revert`, volume/api.py
 * `revert_to_snapshot`; `cinder revert-to-snapshot`): the volume back to its latest snapshot,
 * which must be the one named and of the volume's size. The volume is `reverting` and the
 * snapshot `restoring` while the bytes are written (by a task: 202 at once, as Cinder); after,
 * both `available`, or the volume `error` if the write failed.
 */
export async function revertToSnapshot(deps: VolumeApiDeps, req: VolumeRequest, volume: VolumeRecord): Promise<VolumeResponse> {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const snapshotId = optionalString(bodyObject(req, 'revert'), 'snapshot_id') ?? null;
  const latest = (await records.list<SnapshotRecord>(SNAPSHOTS, volume.project_id)).filter((s) => s.volume_id === volume.id).at(-1);
  if (!latest) throw new CinderError(400, `Volume ${volume.id} doesn't have any snapshots.`);
  if (snapshotId === null || snapshotId !== latest.id) throw new CinderError(400, `Specified snapshot ${snapshotId ?? 'None'} is None or not the latest one of volume ${volume.id}.`);
  if (volume.size !== latest.size) throw new CinderError(400, `Can't revert volume ${volume.id} to its latest snapshot ${latest.id}. The volume size must be equal to the snapshot size.`);
  const refused = new CinderError(409, `Invalid volume: Volume ${volume.id} status must be available and snapshot ${latest.id} status must be available to revert.`);
  // The snapshot first, then the volume naming it: a volume `reverting` always has a claimed
  // snapshot to finish from, which is what lets a start resume it (clean-up-at-start.ts).
  const snapClaim = await records.claim<SnapshotRecord>(SNAPSHOTS, latest, (cur) => (cur.status === 'available' ? { ...cur, status: 'restoring', updated_at: now() } : undefined));
  if (!snapClaim) throw refused;
  const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'available' ? { ...cur, status: 'reverting', reverting_to: latest.id, updated_at: now() } : undefined));
  if (!claimed) {
    await records.claim<SnapshotRecord>(SNAPSHOTS, latest, (cur) => (cur.status === 'restoring' ? { ...cur, status: 'available', updated_at: now() } : undefined));
    throw refused;
  }
  deps.worker.start(`revert volume ${volume.id}`, () => finishRevert(deps, claimed, snapClaim).then(() => undefined));
  return { status: 202 };
}

/**
 * Writes `snapshot` over the `reverting` volume, then ends as Cinder's revert_to_snapshot does:
 * the volume `available` (or `error` if the write failed: its bytes are part old, part new),
 * then the snapshot `available` again, each only from the status the revert gave it. The write
 * is an overwrite from the snapshot, so running it again after a cut-off one ends the same.
 * Returns the volume's status after.
 */
export async function finishRevert(deps: VolumeApiDeps, volume: VolumeRecord, snapshot: SnapshotRecord): Promise<string> {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  let status = 'available';
  try {
    await revertFromSnapshot(deps, snapshot, volume.id);
  } catch (err) {
    deps.logger.error('volume revert failed', { volume: volume.id, snapshot: snapshot.id, err });
    status = 'error';
  }
  // The volume before the snapshot: a snapshot `restoring` under a volume no longer `reverting`
  // is then one a start can simply give back.
  await endRevert(deps, volume, status);
  await records.claim<SnapshotRecord>(SNAPSHOTS, snapshot, (cur) => (cur.status === 'restoring' ? { ...cur, status: 'available', updated_at: now() } : undefined));
  return status;
}

/**
 * The `reverting` volume to `status` (its `reverting_to` dropped), only from `reverting`: true
 * when this call changed it.
 */
export async function endRevert(deps: VolumeApiDeps, volume: VolumeRecord, status: string): Promise<boolean> {
  const done = await deps.records.claim<VolumeRecord>(VOLUMES, volume, (cur) => {
    if (cur.status !== 'reverting') return undefined;
    const { reverting_to: _done, ...rest } = cur;
    return { ...rest, status, updated_at: cinderTime(deps.clock.now()) };
  });
  return done !== undefined;
}
