import { T } from './records.ts';
import type { ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';

/**
 * What os-simple-tenant-usage needs of a deleted server (Nova keeps the instance's row, marked
 * deleted, with `terminated_at`): its flavor's size and the time it ran.
 */
export interface TerminatedServerRecord {
  readonly instance_id: string;
  readonly name: string;
  readonly tenant_id: string;
  readonly flavor: string;
  readonly memory_mb: number;
  readonly vcpus: number;
  /** The flavor's root and ephemeral disk (Nova's `local_gb`). */
  readonly local_gb: number;
  readonly created_at: string;
  readonly launched_at: string;
  readonly terminated_at: string;
}

/** The usage record of a server being deleted now; one never launched used nothing and gets none. */
export async function recordTermination(store: ComputeStore, s: ServerRecord): Promise<void> {
  if (s.launched_at === null) return;
  const record: TerminatedServerRecord = {
    instance_id: s.uuid,
    name: s.name,
    tenant_id: s.project_id,
    flavor: s.flavor.name,
    memory_mb: s.flavor.ram,
    vcpus: s.flavor.vcpus,
    local_gb: s.flavor.disk + s.flavor.ephemeral,
    created_at: s.created_at,
    launched_at: s.launched_at,
    terminated_at: store.isoMicros(),
  };
  await store.records.put(T.terminatedServers, `${s.project_id}/${s.uuid}`, record);
}
