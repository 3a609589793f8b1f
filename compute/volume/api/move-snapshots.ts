import { RecordVersionError } from '../../../client/record-store.ts';
import { type SnapshotRecord, SNAPSHOTS } from '../records.ts';
import { DEFAULT_TYPE } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { snapshotQuotaDeltas } from './snapshots.ts';
import { cinderTime } from './views.ts';

/** What `snapshots` hold of a project's quotas, together (Cinder's _handle_snapshot_quota: their count and GiB, per type too). */
export function snapshotsQuotaDeltas(snapshots: readonly SnapshotRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of snapshots) {
    for (const [k, v] of Object.entries(snapshotQuotaDeltas(s.size, s.volume_type_name ?? DEFAULT_TYPE.name))) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/**
 * A transferred volume's snapshots into the taker's project (Cinder's db transfer_accept): each
 * only from `available`, as a conditional write: the taker's record is written, then the donor's
 * deleted as it was read, so a delete or other change that got there first stops the move.
 * Then every snapshot moved is put back and Cinder's 400 is thrown: nothing changed.
 * @throws 400 InvalidSnapshot
 */
export async function moveSnapshots(deps: VolumeApiDeps, transferId: string, snapshots: readonly SnapshotRecord[], to: { projectId: string; userId: string }): Promise<void> {
  const { records } = deps;
  const store = records.store;
  const moved: Array<{ before: SnapshotRecord; after: SnapshotRecord }> = [];
  for (const s of snapshots) {
    const donorKey = `${s.project_id}/${s.id}`;
    const stored = await store.get<SnapshotRecord>(SNAPSHOTS, donorKey);
    let ok = stored?.value.status === 'available';
    if (stored && ok) {
      const after: SnapshotRecord = { ...stored.value, project_id: to.projectId, user_id: to.userId, updated_at: cinderTime(deps.clock.now()) };
      await records.create(SNAPSHOTS, after);
      try {
        await store.delete(SNAPSHOTS, donorKey, { ifVersion: stored.version });
        moved.push({ before: stored.value, after });
      } catch (err) {
        await records.remove(SNAPSHOTS, after);
        if (!(err instanceof RecordVersionError)) throw err;
        ok = false;
      }
    }
    if (!ok) {
      for (const m of moved.reverse()) {
        await records.create(SNAPSHOTS, m.before);
        await records.remove(SNAPSHOTS, m.after);
      }
      throw new CinderError(400, `Invalid snapshot: Transfer ${transferId}: Snapshot ${s.id} is not in the expected available state.`);
    }
  }
}
