/** Glance's image statuses (glance/domain: the lifecycle). */
export type ImageStatus = 'queued' | 'saving' | 'uploading' | 'importing' | 'active' | 'killed' | 'deleted' | 'pending_delete' | 'deactivated';

export type Visibility = 'public' | 'private' | 'shared' | 'community';

export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface ImageMember {
  readonly status: MemberStatus;
  readonly created_at: string;
  readonly updated_at: string;
}

/**
 * An image as the record store keeps it (type `images`, key = id): Glance's base attributes,
 * its custom properties, and what Glance keeps in other tables (members) or in its store
 * (`data`: where the bytes are), so one record answers a show, a list row and a policy check.
 */
export interface ImageRecord {
  readonly id: string;
  readonly name: string | null;
  readonly status: ImageStatus;
  readonly visibility: Visibility;
  readonly protected: boolean;
  readonly os_hidden: boolean;
  readonly owner: string | null;
  readonly disk_format: string | null;
  readonly container_format: string | null;
  readonly size: number | null;
  readonly virtual_size: number | null;
  readonly checksum: string | null;
  readonly os_hash_algo: string | null;
  readonly os_hash_value: string | null;
  readonly min_ram: number;
  readonly min_disk: number;
  readonly created_at: string;
  readonly updated_at: string;
  readonly tags: readonly string[];
  /** Custom properties (strings, as Glance's schema wants them). */
  readonly properties: Readonly<Record<string, string>>;
  readonly members: Readonly<Record<string, ImageMember>>;
  /**
   * The stored bytes: the object is the image id, a manifest over segments under this prefix,
   * or (no prefix) the bytes themselves.
   */
  readonly data?: { readonly segmentPrefix?: string };
  /** Bytes staged by glance-direct, waiting for `/import`. */
  readonly staged?: { readonly segmentPrefix?: string; readonly size: number; readonly md5: string; readonly sha512: string };
}

/** Glance's `valid_state_targets` (glance/domain/__init__.py). */
const TRANSITIONS: Readonly<Record<ImageStatus, readonly ImageStatus[]>> = {
  queued: ['saving', 'uploading', 'importing', 'active', 'deleted'],
  saving: ['active', 'killed', 'deleted', 'queued'],
  uploading: ['importing', 'queued', 'deleted'],
  importing: ['active', 'deleted', 'queued'],
  active: ['pending_delete', 'deleted', 'deactivated'],
  killed: ['deleted'],
  pending_delete: ['deleted', 'active'],
  deleted: [],
  deactivated: ['active', 'deleted'],
};

export function canTransition(from: ImageStatus, to: ImageStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}
