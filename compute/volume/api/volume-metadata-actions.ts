import { type VolumeRecord, VOLUMES } from '../records.ts';
import { changeMetadata } from './change-metadata.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, metadataOf, parseBool } from './input.ts';
import type { VolumeRequest, VolumeResponse } from './request.ts';
import { cinderTime } from './views.ts';

/**
 * The volume actions that change what a volume says of itself rather than its data:
 * `os-update_readonly_flag` (contrib/volume_actions.py; `openstack volume set --read-only`,
 * kept as the admin metadata `readonly` the volume's metadata then shows) and the
 * volume_image_metadata extension's `os-set_image_metadata`, `os-unset_image_metadata` and
 * `os-show_image_metadata` (`volume set/unset --image-property`). `undefined` for any other action.
 */
export async function volumeMetadataAction(deps: VolumeApiDeps, req: VolumeRequest, name: string | undefined, volume: VolumeRecord): Promise<VolumeResponse | undefined> {
  const now = (): string => cinderTime(deps.clock.now());
  if (name === 'os-update_readonly_flag') {
    const args = bodyObject(req, 'os-update_readonly_flag');
    if (!('readonly' in args)) throw new CinderError(400, 'Must specify readonly in request.');
    const readonly = parseBool(args['readonly'], 'readonly');
    let status = '';
    const claimed = await deps.records.claim<VolumeRecord>(VOLUMES, volume, (cur) => {
      status = cur.status;
      // volume/api.py update_readonly_flag: only an available volume's flag changes.
      return cur.status === 'available' ? { ...cur, admin_metadata: { ...cur.admin_metadata, readonly: readonly ? 'True' : 'False' }, updated_at: now() } : undefined;
    });
    if (!claimed) throw new CinderError(400, `Invalid volume: Volume ${volume.id} status must be available to update readonly flag, but current status is: ${status || 'deleted'}.`);
    return { status: 202 };
  }
  if (name === 'os-show_image_metadata') return { status: 200, body: { metadata: volume.volume_image_metadata ?? {} } };
  if (name === 'os-set_image_metadata') {
    const add = metadataOf(bodyObject(req, 'os-set_image_metadata')['metadata']);
    const updated = await changeImageMetadata(deps, volume, 'Updating', (cur) => ({ ...cur, ...add }));
    return { status: 200, body: { metadata: updated } };
  }
  if (name === 'os-unset_image_metadata') {
    const key = bodyObject(req, 'os-unset_image_metadata')['key'];
    if (typeof key !== 'string' || !Object.hasOwn(volume.volume_image_metadata ?? {}, key)) throw new CinderError(404, `Glance metadata for volume/snapshot ${volume.id} cannot be found.`);
    await changeImageMetadata(deps, volume, 'Deleting', (cur) => Object.fromEntries(Object.entries(cur).filter(([k]) => k !== key)));
    return { status: 200 };
  }
  return undefined;
}

async function changeImageMetadata(deps: VolumeApiDeps, volume: VolumeRecord, verb: 'Updating' | 'Deleting', change: (cur: Record<string, string>) => Record<string, string>): Promise<Record<string, string>> {
  // The same statuses as the volume's own metadata (volume/api.py, meta_type image).
  const updated = await changeMetadata(deps, VOLUMES, volume, verb, (cur) => ({ ...cur, volume_image_metadata: change(cur.volume_image_metadata ?? {}) }));
  return updated.volume_image_metadata ?? {};
}
