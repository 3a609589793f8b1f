import { listAllKeys } from '../../client/record-update.ts';
import type { VolumeDriver } from './driver/types.ts';
import { SnapshotIsBusy } from './errors.ts';
import { SNAPSHOTS, type VolumeRecords } from './records.ts';

/**
 * Removes this host's local snapshot copies whose snapshot is gone: a snapshot deleted through
 * another volume host (while this one was down, or simply elsewhere) deleted its objects in the
 * cluster but could not reach this host's file. Run when the volume service starts.
 *
 * The files are listed before the records: a snapshot's record is written before its local copy
 * is made, so a file seen here without a record is one whose snapshot was deleted, never one
 * being made. A copy a qcow2 volume still reads through (`SnapshotIsBusy`) stays. Returns the
 * ids removed.
 */
export async function sweepSnapshotCopies(records: VolumeRecords, driver: VolumeDriver): Promise<string[]> {
  const local = await driver.listSnapshots();
  if (local.length === 0) return [];
  const known = new Set<string>();
  for await (const key of listAllKeys(records.store, SNAPSHOTS)) known.add(key.slice(key.lastIndexOf('/') + 1));
  const removed: string[] = [];
  for (const id of local) {
    if (known.has(id)) continue;
    try {
      await driver.deleteSnapshot(id);
      removed.push(id);
    } catch (err) {
      if (!(err instanceof SnapshotIsBusy)) throw err;
    }
  }
  return removed;
}
