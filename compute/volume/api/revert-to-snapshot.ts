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
  const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'available' ? { ...cur, status: 'reverting', updated_at: now() } : undefined));
  if (!claimed) throw refused;
  const snapClaim = await records.claim<SnapshotRecord>(SNAPSHOTS, latest, (cur) => (cur.status === 'available' ? { ...cur, status: 'restoring', updated_at: now() } : undefined));
  if (!snapClaim) {
    await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: 'available', updated_at: now() }));
    throw refused;
  }
  deps.worker.start(`revert volume ${volume.id}`, async () => {
    let status = 'available';
    try {
      await revertFromSnapshot(deps, latest, volume.id);
    } catch (err) {
      deps.logger.error('volume revert failed', { volume: volume.id, snapshot: latest.id, err });
      status = 'error';
    }
    await records.update<SnapshotRecord>(SNAPSHOTS, latest, (cur) => ({ ...cur, status: 'available', updated_at: now() }));
    await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status, updated_at: now() }));
  });
  return { status: 202 };
}
