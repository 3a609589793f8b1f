import { serviceTokensSchema } from '../../client/service-tokens.ts';
import { bool, int, oneOf, type Schema, str } from '../../common/config.ts';

/**
 * The `[volume]` section of `swiftlet start volume --config FILE`: Cinder's API, its volume
 * host (the file driver) and its backup service in one process for now. Records live in the
 * system account of `account_user`; backups go into each project's own account with the
 * caller's own token at `backup_swift_url` + project id (Cinder's default `backup_swift_auth =
 * per_user`). `backup_user`, a reseller admin, reaches only what the caller's token cannot:
 * the account of another project whose backup record an admin imported.
 */
export const volumeSchema = {
  bind_ip: str('127.0.0.1', { nonEmpty: true }),
  bind_port: int(8776, { min: 0, max: 65535 }),
  public_url: str('', { doc: "this service's URL as clients reach it (links, catalog); default http://<bind_ip>:<bind_port>" }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  auth_url: str('http://127.0.0.1:8080/auth/v1.0', { doc: "the cluster's v1 auth URL", nonEmpty: true }),
  account_user: str('.volume:volume', { doc: 'tempauth user owning the system account of the records (account:user)', nonEmpty: true }),
  account_key: str('', { doc: "that user's key; required" }),
  backup_swift_url: str('', { doc: "Cinder's backup_swift_url: the object store's URL up to the project id (http://proxy:8080/v1/AUTH_); default: auth_url's proxy" }),
  backup_user: str('', { doc: "a tempauth reseller admin (account:user) for imported backups in another project's account; optional" }),
  backup_key: str('', { doc: "that user's key" }),
  ...serviceTokensSchema,
  identity_url: str('', { doc: "identity's public URL, for WWW-Authenticate on a 401" }),
  image_url: str('', { doc: 'the image service (Glance v2) for volumes from images and uploads to images; empty: neither' }),
  volumes_dir: str('/var/lib/swiftlet/volumes', { doc: 'where volume and snapshot files live', nonEmpty: true }),
  nfs_qcow2_volumes: bool(false, "Cinder's nfs_qcow2_volumes: new volumes are qcow2 images, whose dirty bitmaps let an incremental backup read only the blocks that changed (raw: it reads the whole volume)"),
  image_conversion_dir: str('', { doc: "Cinder's image_conversion_dir: where images other than raw are converted for volumes; default <volumes_dir>/../conversion" }),
  host: str('', { doc: "the volume host's name (os-vol-host-attr:host); default <hostname>@file#file" }),
  storage_availability_zone: str('nova', { nonEmpty: true }),
  backup_swift_container: str('volumebackups', { nonEmpty: true }),
  snapshot_swift_container: str('volume_snapshots', { nonEmpty: true, doc: "where snapshots' bytes are kept, in the system account of account_user (not a user's)" }),
  snapshot_max_chain: int(8, { min: 1, doc: 'the most snapshots a restore reads: a snapshot is a full copy when the one it would build on is this many deep (1: always full)' }),
  backup_swift_object_size: int(52_428_800, { min: 65_536 }),
  backup_swift_block_size: int(32_768, { min: 512 }),
  quota_volumes: int(10, { min: -1, doc: "a project's volumes unless an admin set its own (-1: unlimited)" }),
  quota_snapshots: int(10, { min: -1, doc: "a project's snapshots" }),
  quota_gigabytes: int(1000, { min: -1, doc: "GiB of a project's volumes and snapshots" }),
  quota_backups: int(10, { min: -1, doc: "a project's backups" }),
  quota_backup_gigabytes: int(1000, { min: -1, doc: "GiB of a project's backups" }),
  per_volume_size_limit: int(-1, { min: -1, doc: 'the largest volume in GiB (per_volume_gigabytes)' }),
  quota_groups: int(10, { min: -1, doc: "a project's volume groups (shown; there are no groups)" }),
  backup_compression_algorithm: oneOf('zlib', ['none', 'off', 'no', 'zlib', 'gzip', 'zstd'] as const, 'compression of backup chunks'),
} as const satisfies Schema;
