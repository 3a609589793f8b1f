import { RecordVersionError } from '../../../client/record-store.ts';
import { sumDeltas } from '../quota.ts';
import { type SnapshotRecord, SNAPSHOTS, type TransferAccept } from '../records.ts';
import { DEFAULT_TYPE } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { snapshotQuotaDeltas } from './snapshots.ts';
import { cinderTime } from './views.ts';

/** What `snapshots` hold of a project's quotas, together (Cinder's _handle_snapshot_quota: their count and GiB, per type too). */
export function snapshotsQuotaDeltas(snapshots: readonly { readonly size: number; readonly volume_type_name?: string }[]): Record<string, number> {
  return sumDeltas(snapshots.map((s) => snapshotQuotaDeltas(s.size, s.volume_type_name ?? DEFAULT_TYPE.name)));
}

/**
 * A transferred volume's snapshots into the taker's project (Cinder's db transfer_accept): each
 * only from `available`, as a conditional write: the taker's record is written, then the donor's
 * deleted as it was read, so a delete or other change that got there first stops the move.
 * Run again after a cut-off run it finishes the same: a snapshot only the taker has is moved
 * (or since deleted by its new owner: neither has it; a delete waits for the volume, see
 * snapshots.ts), one both have was cut off between the two writes: the donor's goes.
 * @throws 400 InvalidSnapshot, having moved what it could (`unmoveSnapshots` puts them back)
 */
export async function moveSnapshots(deps: VolumeApiDeps, transferId: string, donor: string, accept: TransferAccept): Promise<void> {
  const store = deps.records.store;
  const now = cinderTime(deps.clock.now());
  for (const s of accept.snapshots) {
    const donorKey = `${donor}/${s.id}`;
    const takerKey = `${accept.project_id}/${s.id}`;
    const stored = await store.get<SnapshotRecord>(SNAPSHOTS, donorKey);
    if (!stored) continue;
    if (donorKey !== takerKey && (await store.get(SNAPSHOTS, takerKey))) {
      // Cut off between the two writes: the taker's record is the one (and may have changed since).
      await store.delete(SNAPSHOTS, donorKey);
      continue;
    }
    const refused = new CinderError(400, `Invalid snapshot: Transfer ${transferId}: Snapshot ${s.id} is not in the expected available state.`);
    if (stored.value.status !== 'available') throw refused;
    const after: SnapshotRecord = { ...stored.value, project_id: accept.project_id, user_id: accept.user_id, updated_at: now };
    if (donorKey === takerKey) {
      // A transfer within one project: the snapshot only changes hands.
      await store.put(SNAPSHOTS, donorKey, after, { ifVersion: stored.version }).catch((err: unknown) => rethrowUnlessChanged(err, refused));
      continue;
    }
    await store.put(SNAPSHOTS, takerKey, after);
    try {
      await store.delete(SNAPSHOTS, donorKey, { ifVersion: stored.version });
    } catch (err) {
      await store.delete(SNAPSHOTS, takerKey);
      rethrowUnlessChanged(err, refused);
    }
  }
}

/** The snapshots `moveSnapshots` moved, back to the donor as they were (each as its taker's record is now). */
export async function unmoveSnapshots(deps: VolumeApiDeps, donor: string, accept: TransferAccept): Promise<void> {
  const store = deps.records.store;
  if (donor === accept.project_id) return;
  for (const s of accept.snapshots) {
    const takerKey = `${accept.project_id}/${s.id}`;
    const taken = await store.get<SnapshotRecord>(SNAPSHOTS, takerKey);
    if (!taken) continue;
    const donorKey = `${donor}/${s.id}`;
    if (!(await store.get(SNAPSHOTS, donorKey))) await store.put(SNAPSHOTS, donorKey, { ...taken.value, project_id: donor, user_id: s.user_id });
    await store.delete(SNAPSHOTS, takerKey);
  }
}

function rethrowUnlessChanged(err: unknown, refused: CinderError): never {
  throw err instanceof RecordVersionError ? refused : err;
}
