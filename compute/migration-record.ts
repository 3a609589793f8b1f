import { updateRecord } from '../client/record-update.ts';
import type { ComputeContext } from './request.ts';
import { T } from './records.ts';
import { nextInSequence } from './sequence.ts';
import type { ServerFlavor, ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';

/** Nova's `MigrationType`. */
export type MigrationType = 'migration' | 'resize' | 'live-migration' | 'evacuation';

/**
 * The statuses this cloud's moves pass through, Nova's words for each step: a resize or cold
 * migration is `pre-migrating` (placed), `migrating` (the source stops the guest and sends its
 * disk), `post-migrating` (sent), `finished` (VERIFY_RESIZE on the target), then `confirming`
 * and `confirmed`, or `reverting` and `reverted`; `error` when it fails. An evacuation is
 * `accepted`, `pre-migrating` (claimed on the target), `done` (rebuilt there), `completed` once
 * the source came back and destroyed its copy, or `error` (no host) / `failed` (the rebuild).
 */
export type MigrationStatus =
  | 'pre-migrating' | 'migrating' | 'post-migrating' | 'finished' | 'confirming' | 'confirmed' | 'reverting' | 'reverted'
  | 'accepted' | 'done' | 'completed' | 'failed' | 'error';

/**
 * One move of a server (`migrations/<uuid>`), Nova's Migration. The UUID is the consumer that
 * holds the old flavor's claim on the source during a resize (the server record's
 * `migration.id`) and names the disk's temporary object. Kept after the move ends, as Nova
 * keeps its rows, for `GET /os-migrations`.
 */
export interface MigrationRecord {
  /** Nova's autoincrement id, from the `migrations` sequence. */
  readonly id: number;
  readonly uuid: string;
  readonly instance_uuid: string;
  readonly migration_type: MigrationType;
  readonly status: MigrationStatus;
  readonly source_compute: string | null;
  /** The hypervisor's hostname (os-hypervisors' `hypervisor_hostname`: the host's name here). */
  readonly source_node: string | null;
  readonly dest_compute: string | null;
  readonly dest_node: string | null;
  /** The target host's IP address. */
  readonly dest_host: string | null;
  /** Who asked (the request's user and project, as Nova's Migration.create takes them from the context). */
  readonly user_id: string | null;
  readonly project_id: string | null;
  /** Nova's database timestamps (`2016-06-23T14:42:02.000000`); `updated_at` is null until the first change. */
  readonly created_at: string;
  readonly updated_at: string | null;
  /** The same instants in ms, for ordering and the confirm window (not shown). */
  readonly created_ms: number;
  readonly updated_ms: number | null;
  /** What the source holds for the server (not shown): an evacuated host gives it back when it returns. */
  readonly flavor: ServerFlavor;
  /** The server's `root_disk_unclaimed` (not shown): its claim has no root disk (`flavorClaim`). */
  readonly root_disk_unclaimed?: boolean;
  /** The domain's name on the source (not shown): the server record may be gone when the source cleans up. */
  readonly instance_name: string;
}

const SEQUENCE = 'migrations';

/** The next migration id (Nova's autoincrement `migrations.id`). */
export function nextMigrationId(store: ComputeStore): Promise<number> {
  return nextInSequence(store, SEQUENCE);
}

/** Writes a new migration of `server` from its host (status and target as given), with the next id. */
export async function createMigration(
  store: ComputeStore,
  c: Pick<ComputeContext, 'userId' | 'projectId'> | null,
  server: ServerRecord,
  fields: { readonly uuid: string; readonly type: MigrationType; readonly status: MigrationStatus; readonly dest_compute?: string },
): Promise<MigrationRecord> {
  const now = store.clock.now();
  const record: MigrationRecord = {
    id: await nextMigrationId(store),
    uuid: fields.uuid,
    instance_uuid: server.uuid,
    migration_type: fields.type,
    status: fields.status,
    source_compute: server.host,
    source_node: server.host,
    dest_compute: fields.dest_compute ?? null,
    dest_node: null,
    dest_host: null,
    user_id: c?.userId ?? null,
    project_id: c?.projectId ?? null,
    created_at: store.isoMicros(now),
    updated_at: null,
    created_ms: now,
    updated_ms: null,
    flavor: server.flavor,
    ...(server.root_disk_unclaimed ? { root_disk_unclaimed: true } : {}),
    instance_name: server.instance_name,
  };
  await store.records.put(T.migrations, record.uuid, record);
  return record;
}

/**
 * Moves a migration to `status` (with `extra`, e.g. its target), only from one of `from` when
 * given. Nothing happens to a migration that has no record (a move begun before records were
 * kept) or is in another status. Returns the record as it is now.
 */
export async function setMigrationStatus(
  store: ComputeStore,
  uuid: string,
  status: MigrationStatus,
  extra: Partial<Pick<MigrationRecord, 'dest_compute' | 'dest_node' | 'dest_host'>> = {},
  from?: readonly MigrationStatus[],
): Promise<MigrationRecord | undefined> {
  const updated = await updateRecord<MigrationRecord>(store.records, T.migrations, uuid, (cur) => {
    if (from !== undefined && !from.includes(cur.value.status)) return undefined;
    const now = store.clock.now();
    return { ...cur.value, ...extra, status, updated_at: store.isoMicros(now), updated_ms: now };
  });
  return updated?.value;
}

/** The target's fields as Nova's resource tracker writes them when it claims (`_claim_existing_migration`). */
export function migrationTarget(host: string, hostIp: string | null): Pick<MigrationRecord, 'dest_compute' | 'dest_node' | 'dest_host'> {
  return { dest_compute: host, dest_node: host, dest_host: hostIp };
}
