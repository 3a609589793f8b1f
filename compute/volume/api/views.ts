import type { BackupRecord, SnapshotRecord, VolumeRecord } from '../records.ts';
import { DEFAULT_TYPE } from '../volume-types.ts';
import { atLeast } from './microversion.ts';
import type { VolumeContext, VolumeRequest } from './request.ts';

/**
 * Cinder's view builders (cinder/api/v3/views/volumes.py, snapshots.py, backups.py): the same
 * fields, in the microversions that bring them, with the admin-only ones for admins.
 */

/** The one volume type, Cinder's `__DEFAULT__` (made by its first db sync). */
export const DEFAULT_VOLUME_TYPE = DEFAULT_TYPE;

/** The name of the volume's type (records made before types were kept have none: the default). */
export function typeNameOf(v: VolumeRecord): string {
  return v.volume_type_name ?? DEFAULT_TYPE.name;
}

function links(req: VolumeRequest, collection: string, projectId: string, id: string): Array<{ href: string; rel: string }> {
  return [
    { href: `${req.base}/v3/${projectId}/${collection}/${id}`, rel: 'self' },
    { href: `${req.base}/${projectId}/${collection}/${id}`, rel: 'bookmark' },
  ];
}

function ctx(req: VolumeRequest): VolumeContext | undefined {
  return req.context;
}

/** Admin metadata keys a volume's owner sees among its metadata (cinder/utils.py add_visible_admin_metadata). */
const VISIBLE_ADMIN_METADATA = ['readonly', 'attached_mode'];

/** The volume's metadata as its views show it: the user's, then the visible admin keys over them. */
function visibleMetadata(v: VolumeRecord): Record<string, string> {
  const admin = Object.entries(v.admin_metadata ?? {}).filter(([k]) => VISIBLE_ADMIN_METADATA.includes(k));
  return admin.length === 0 ? v.metadata : { ...v.metadata, ...Object.fromEntries(admin) };
}

export function volumeSummary(req: VolumeRequest, v: VolumeRecord): Record<string, unknown> {
  return { id: v.id, name: v.name, links: links(req, 'volumes', v.project_id, v.id) };
}

export function volumeDetail(req: VolumeRequest, v: VolumeRecord): Record<string, unknown> {
  const admin = ctx(req)?.isAdmin === true;
  const out: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: v.availability_zone,
    created_at: v.created_at,
    updated_at: v.updated_at,
    name: v.name,
    description: v.description,
    volume_type: typeNameOf(v),
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    metadata: visibleMetadata(v),
    links: links(req, 'volumes', v.project_id, v.id),
    user_id: v.user_id,
    bootable: String(v.bootable),
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: false,
    attachments: (v.attachments ?? []).map((a) => ({ id: v.id, attachment_id: a.attachment_id, volume_id: v.id, server_id: a.server_id, host_name: a.host_name, device: a.device, attached_at: a.attached_at })),
    'os-vol-tenant-attr:tenant_id': v.project_id,
  };
  // The volume_image_metadata extension adds it to volumes that have some.
  if (v.volume_image_metadata && Object.keys(v.volume_image_metadata).length > 0) out['volume_image_metadata'] = v.volume_image_metadata;
  if (admin) {
    out['migration_status'] = null;
    out['os-vol-host-attr:host'] = v.host;
    out['os-vol-mig-status-attr:migstat'] = null;
    out['os-vol-mig-status-attr:name_id'] = null;
  }
  if (atLeast(req.version, '3.13')) out['group_id'] = null;
  if (admin && atLeast(req.version, '3.21')) out['provider_id'] = null;
  if (atLeast(req.version, '3.48')) {
    out['shared_targets'] = false;
    out['service_uuid'] = null;
  }
  if (admin && atLeast(req.version, '3.61')) out['cluster_name'] = null;
  if (atLeast(req.version, '3.63')) out['volume_type_id'] = v.volume_type_id;
  if (atLeast(req.version, '3.65')) out['consumes_quota'] = true;
  return out;
}

export function snapshotView(req: VolumeRequest, s: SnapshotRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    created_at: s.created_at,
    updated_at: s.updated_at,
    name: s.name,
    description: s.description,
    volume_id: s.volume_id,
    status: s.status,
    size: s.size,
    metadata: s.metadata,
    'os-extended-snapshot-attributes:project_id': s.project_id,
    'os-extended-snapshot-attributes:progress': s.status === 'available' ? '100%' : '0%',
  };
  if (atLeast(req.version, '3.14')) out['group_snapshot_id'] = null;
  if (atLeast(req.version, '3.41')) out['user_id'] = s.user_id;
  if (atLeast(req.version, '3.65')) out['consumes_quota'] = true;
  return out;
}

export function backupSummary(req: VolumeRequest, b: BackupRecord): Record<string, unknown> {
  return { id: b.id, links: links(req, 'backups', b.project_id, b.id), name: b.name };
}

export function backupDetail(req: VolumeRequest, b: BackupRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: b.id,
    status: b.status,
    size: b.size,
    object_count: b.object_count,
    availability_zone: b.availability_zone,
    container: b.container,
    created_at: b.created_at,
    updated_at: b.updated_at,
    name: b.name,
    description: b.description,
    fail_reason: b.fail_reason,
    volume_id: b.volume_id,
    links: links(req, 'backups', b.project_id, b.id),
    is_incremental: b.is_incremental,
    has_dependent_backups: b.num_dependent_backups > 0,
    snapshot_id: b.snapshot_id,
    data_timestamp: b.data_timestamp,
  };
  if (atLeast(req.version, '3.18')) out['os-backup-project-attr:project_id'] = b.project_id;
  if (atLeast(req.version, '3.43')) out['metadata'] = b.metadata ?? {};
  if (atLeast(req.version, '3.56')) out['user_id'] = b.user_id;
  return out;
}

/** Cinder's timestamps: naive UTC ISO with microseconds (`2026-12-05T10:06:22.000000`). */
export function cinderTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}
