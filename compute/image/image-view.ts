import type { ImageRecord } from './image-record.ts';

/**
 * An image as Glance's ResponseSerializer shows it: custom properties first, then the base
 * attributes in Glance's order, `tags`, and the links. Nulls are shown (`"size": null`), as
 * the real service does for a queued image.
 */
export function imageView(image: ImageRecord): Record<string, unknown> {
  return {
    ...image.properties,
    name: image.name,
    disk_format: image.disk_format,
    container_format: image.container_format,
    visibility: image.visibility,
    size: image.size,
    virtual_size: image.virtual_size,
    status: image.status,
    checksum: image.checksum,
    protected: image.protected,
    min_ram: image.min_ram,
    min_disk: image.min_disk,
    owner: image.owner,
    os_hidden: image.os_hidden,
    os_hash_algo: image.os_hash_algo,
    os_hash_value: image.os_hash_value,
    id: image.id,
    created_at: image.created_at,
    updated_at: image.updated_at,
    tags: [...image.tags],
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** A member as Glance's members API shows it. */
export function memberView(image: ImageRecord, memberId: string): Record<string, unknown> | undefined {
  const m = image.members[memberId];
  if (!m) return undefined;
  return { created_at: m.created_at, image_id: image.id, member_id: memberId, schema: '/v2/schemas/member', status: m.status, updated_at: m.updated_at };
}

/** Glance's `timeutils.isotime`: seconds, `Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
