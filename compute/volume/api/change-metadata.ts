import { type RecordKind, type SnapshotRecord, VOLUMES, type VolumeRecord } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { cinderTime } from './views.ts';

/** Volume statuses whose metadata stays as it is (cinder/volume/api.py update/delete_volume_metadata, image metadata too). */
const VOLUME_METADATA_FROZEN = ['maintenance', 'uploading'];

/**
 * Writes `change(current record)`, a change of what a volume or snapshot says of itself (its
 * metadata, its image metadata), refused as Cinder does for a volume in a status that freezes
 * them. @throws {CinderError} 400 frozen, 404 gone
 */
export async function changeMetadata<T extends VolumeRecord | SnapshotRecord>(deps: VolumeApiDeps, kind: RecordKind, record: T, verb: 'Updating' | 'Deleting', change: (cur: T) => T): Promise<T> {
  let refused: string | undefined;
  const updated = await deps.records.update<T>(kind, record, (cur) => {
    if (kind === VOLUMES && VOLUME_METADATA_FROZEN.includes(cur.status)) {
      refused = cur.status;
      return undefined;
    }
    return { ...change(cur), updated_at: cinderTime(deps.clock.now()) };
  });
  if (refused !== undefined) throw new CinderError(400, `Invalid volume: ${verb} volume metadata is not allowed for volumes in ${refused} status.`);
  if (!updated) throw new CinderError(404, `${kind === VOLUMES ? 'Volume' : 'Snapshot'} ${record.id} could not be found.`);
  return updated;
}
