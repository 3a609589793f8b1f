import { type RecordStore, RecordExistsError } from '../../client/record-store.ts';
import { listAllKeys, updateRecord } from '../../client/record-update.ts';
import { SwiftError } from '../../common/errors.ts';

/**
 * Cinder's volume types (cinder/volume/volume_types.py): a name, a description, public or not,
 * and extra specs. `__DEFAULT__` always exists (Cinder's first db sync makes it) and cannot be
 * deleted. Types are records `volume_types/<id>`; a name is claimed by creating
 * `volume_type_names/<name>` (create-if-absent), so two admins creating `gold` at once get one
 * type and one 409.
 */
export const VOLUME_TYPES = 'volume_types';
const TYPE_NAMES = 'volume_type_names';

export interface VolumeType {
  readonly id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  extra_specs: Record<string, string>;
  /** Projects a private type is shared with (Cinder's volume_type_projects); absent: none. */
  projects?: string[];
  /** The QoS specs associated with it (qos-specs.ts); absent or null: none. */
  qos_specs_id?: string | null;
  /** Its encryption (Cinder's `encryption` row for the type); absent: not encrypted. */
  encryption?: TypeEncryption;
}

/** Cinder's volume type encryption: how volumes of the type would be encrypted, and where. */
export interface TypeEncryption {
  readonly encryption_id: string;
  provider: string;
  control_location: 'front-end' | 'back-end';
  cipher: string | null;
  key_size: number | null;
  readonly created_at: string;
  updated_at: string | null;
}

/** Whether a caller sees (and may use) the type: public, shared with its project, or an admin. */
export function typeVisibleTo(t: VolumeType, projectId: string, isAdmin: boolean): boolean {
  return t.is_public || isAdmin || (t.projects ?? []).includes(projectId);
}

/** The one type Cinder always has. */
export const DEFAULT_TYPE: VolumeType = { id: 'c4a8b3c0-3d5c-4b8e-9f62-5e4a1a4f7d10', name: '__DEFAULT__', description: 'Default Volume Type', is_public: true, extra_specs: {} };

/** A type of that name exists (Cinder's VolumeTypeExists). */
export class VolumeTypeExists extends SwiftError {
  constructor(name: string) {
    super('VOLUME_TYPE_EXISTS', `Volume Type ${name} already exists.`);
  }
}

export class VolumeTypes {
  private readonly store: RecordStore;

  constructor(store: RecordStore) {
    this.store = store;
  }

  /** Every type, the default first. */
  async list(): Promise<VolumeType[]> {
    const out: VolumeType[] = [];
    for await (const key of listAllKeys(this.store, VOLUME_TYPES)) {
      const found = await this.store.get<VolumeType>(VOLUME_TYPES, key);
      if (found) out.push(found.value);
    }
    const stored = out.find((t) => t.id === DEFAULT_TYPE.id);
    return [stored ?? DEFAULT_TYPE, ...out.filter((t) => t.id !== DEFAULT_TYPE.id).sort((a, b) => a.name.localeCompare(b.name))];
  }

  async get(id: string): Promise<VolumeType | undefined> {
    const found = await this.store.get<VolumeType>(VOLUME_TYPES, id);
    if (found) return found.value;
    return id === DEFAULT_TYPE.id ? DEFAULT_TYPE : undefined;
  }

  async byName(name: string): Promise<VolumeType | undefined> {
    if (name === DEFAULT_TYPE.name) return this.get(DEFAULT_TYPE.id);
    const index = await this.store.get<{ id: string }>(TYPE_NAMES, name);
    return index ? this.get(index.value.id) : undefined;
  }

  /** Cinder's get_by_name_or_id: an id first, then a name. */
  async byNameOrId(ref: string): Promise<VolumeType | undefined> {
    return (await this.get(ref)) ?? (await this.byName(ref));
  }

  /** @throws {VolumeTypeExists} */
  async create(type: VolumeType): Promise<void> {
    await this.claimName(type.name, type.id);
    await this.store.create(VOLUME_TYPES, type.id, type);
  }

  /**
   * Changes a type (`change` sees the current one); a new name is claimed before the type
   * changes and the old one given up after. @throws {VolumeTypeExists}
   */
  async update(id: string, change: (current: VolumeType) => VolumeType): Promise<VolumeType | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const next = change(structuredClone(current));
    const renamed = next.name !== current.name;
    if (renamed) await this.claimName(next.name, id);
    if (await this.store.get(VOLUME_TYPES, id)) await updateRecord<VolumeType>(this.store, VOLUME_TYPES, id, (cur) => ({ ...change(structuredClone(cur.value)), name: next.name }));
    else await this.store.create(VOLUME_TYPES, id, next);
    if (renamed) await this.store.delete(TYPE_NAMES, current.name);
    return (await this.get(id)) ?? next;
  }

  private async claimName(name: string, id: string): Promise<void> {
    if (name === DEFAULT_TYPE.name) throw new VolumeTypeExists(name);
    try {
      await this.store.create(TYPE_NAMES, name, { id });
    } catch (err) {
      if (err instanceof RecordExistsError) throw new VolumeTypeExists(name);
      throw err;
    }
  }

  async delete(type: VolumeType): Promise<void> {
    await this.store.delete(VOLUME_TYPES, type.id);
    await this.store.delete(TYPE_NAMES, type.name);
  }
}
