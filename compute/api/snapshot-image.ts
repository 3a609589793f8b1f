import { updateRecord } from '../../client/record-update.ts';
import { invalidState, type NovaError } from '../errors.ts';
import type { GlanceImage, ImageApi } from '../image-api.ts';
import { T } from '../records.ts';
import type { ComputeContext } from '../request.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';

/**
 * A snapshot's image record, shared with `shareWith` when given (Nova's glance layer adds the
 * server's project as a member of an image another project made of its server); an image whose
 * sharing failed is removed.
 */
export async function createSnapshotImage(images: ImageApi, token: string, fields: Readonly<Record<string, unknown>>, shareWith: string | undefined): Promise<GlanceImage> {
  const image = await images.create(token, fields);
  if (shareWith === undefined) return image;
  try {
    await images.addMember(token, image.id, shareWith);
  } catch (err) {
    await images.delete(token, image.id).catch(() => undefined);
    throw err;
  }
  return image;
}

/**
 * Nova's `compute_utils.create_image` of a server's disk (createImage, shelve): the snapshot's
 * properties (`instance_uuid`, `user_id`, `image_type: snapshot`, the base image, the flavor's
 * disk as `min_disk`) with `extra` (the caller's metadata), private, or shared with the server's
 * project when another project (an admin) takes it.
 */
export function snapshotServer(images: ImageApi, token: string, c: Pick<ComputeContext, 'projectId' | 'userId'>, s: ServerRecord, name: string, extra: Readonly<Record<string, unknown>> = {}): Promise<GlanceImage> {
  const shareWith = c.projectId === s.project_id ? undefined : s.project_id;
  return createSnapshotImage(images, token, { name, visibility: shareWith ? 'shared' : 'private', min_disk: s.flavor.disk, min_ram: 0, instance_uuid: s.uuid, user_id: c.userId, image_type: 'snapshot', base_image_ref: s.image_ref, ...extra }, shareWith);
}

/**
 * Puts the server at `task` (`image_snapshot`, `image_backup`) for the image just made, by
 * compare-and-swap: a task that took the server meanwhile is Nova's 409, and the image goes.
 */
export async function claimImageTask(d: { readonly store: ComputeStore; readonly images: ImageApi }, token: string, server: string, action: string, task: 'image_snapshot' | 'image_backup', imageId: string): Promise<void> {
  let refusal: NovaError | undefined;
  await updateRecord<ServerRecord>(d.store.records, T.servers, server, (cur) => {
    refusal = cur.value.task_state === null ? undefined : invalidState(server, action, 'task_state', cur.value.task_state);
    return refusal ? undefined : { ...cur.value, task_state: task, updated_at: d.store.isoSeconds() };
  });
  if (refusal) {
    await d.images.delete(token, imageId).catch(() => undefined);
    throw refusal;
  }
}
