import { type RecordStore, RecordExistsError } from '../../client/record-store.ts';
import { listAllKeys, updateRecord } from '../../client/record-update.ts';
import { SwiftError } from '../../common/errors.ts';

/**
 * Cinder's QoS specs (cinder/volume/qos_specs.py): a name, who applies them (`consumer`:
 * `front-end` is the hypervisor, `back-end` the storage, `both`) and key/value specs. Specs are
 * records `qos_specs/<id>`; a name is claimed by creating `qos_spec_names/<name>`
 * (create-if-absent), so two admins creating `fast` at once get one spec and one 409. A volume
 * type points at its spec (`qos_specs_id` on the type), as Cinder's volume_types row does.
 */
export const QOS_SPECS = 'qos_specs';
const QOS_SPEC_NAMES = 'qos_spec_names';

/** Cinder's QoSConsumerValues. */
export const QOS_CONSUMERS = ['back-end', 'front-end', 'both'] as const;
export type QosConsumer = (typeof QOS_CONSUMERS)[number];

export interface QosSpec {
  readonly id: string;
  readonly name: string;
  consumer: QosConsumer;
  /** Cinder keeps a null value a caller set (its specs are nullable strings). */
  specs: Record<string, string | null>;
  readonly created_at: string;
}

/** A spec of that name exists (Cinder's QoSSpecsExists, which names the name). */
export class QosSpecsExists extends SwiftError {
  constructor(name: string) {
    super('QOS_SPECS_EXISTS', `QoS Specs ${name} already exists.`);
  }
}

export class QosSpecs {
  private readonly store: RecordStore;

  constructor(store: RecordStore) {
    this.store = store;
  }

  async list(): Promise<QosSpec[]> {
    const out: QosSpec[] = [];
    for await (const key of listAllKeys(this.store, QOS_SPECS)) {
      const found = await this.store.get<QosSpec>(QOS_SPECS, key);
      if (found) out.push(found.value);
    }
    return out;
  }

  async get(id: string): Promise<QosSpec | undefined> {
    return (await this.store.get<QosSpec>(QOS_SPECS, id))?.value;
  }

  /** @throws {QosSpecsExists} */
  async create(spec: QosSpec): Promise<void> {
    try {
      await this.store.create(QOS_SPEC_NAMES, spec.name, { id: spec.id });
    } catch (err) {
      if (err instanceof RecordExistsError) throw new QosSpecsExists(spec.name);
      throw err;
    }
    await this.store.create(QOS_SPECS, spec.id, spec);
  }

  /** Changes the spec (`change` sees the current one; `undefined` keeps it); `undefined` when it is gone. */
  async update(id: string, change: (current: QosSpec) => QosSpec | undefined): Promise<QosSpec | undefined> {
    return (await updateRecord<QosSpec>(this.store, QOS_SPECS, id, (cur) => change(structuredClone(cur.value))))?.value;
  }

  async delete(spec: QosSpec): Promise<void> {
    await this.store.delete(QOS_SPECS, spec.id);
    await this.store.delete(QOS_SPEC_NAMES, spec.name);
  }
}
