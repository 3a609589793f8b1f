import { updateRecord } from '../client/record-update.ts';
import { invalidState, type NovaError } from './errors.ts';
import type { RecordHostStateStore } from './host-store.ts';
import { type ActionActor, recordAction } from './instance-actions.ts';
import { setMigrationStatus } from './migration-record.ts';
import { T } from './records.ts';
import { confirmResizeClaim } from './resize-claims.ts';
import type { ServerMigration, ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';
import { enqueue } from './work-queue.ts';

/**
 * Nova's compute API `confirm_resize`, for the API's confirmResize and the agent's automatic
 * confirmation (`resize_confirm_window`): the migration goes `confirming`, the old flavor's
 * claim (held by the migration on the source) is given back and the server is ACTIVE (or
 * SHUTOFF, as its guest is) with its new flavor. After a move to another host the source's
 * agent then removes the old guest, its disk and the temporary object (`resize-confirm`,
 * which ends the migration `confirmed`); in place it is `confirmed` at once.
 * @throws {NovaError} 409 when the server left VERIFY_RESIZE meanwhile.
 */
export async function confirmMove(
  d: { readonly store: ComputeStore; readonly hosts: RecordHostStateStore },
  s: ServerRecord & { readonly migration: ServerMigration; readonly host: string },
  actor: ActionActor,
  requestId: string,
  token: string,
): Promise<void> {
  const { store } = d;
  const m = s.migration;
  const source = m.source_compute ?? s.host;
  const moved = source !== s.host;
  await confirmResizeClaim(d.hosts, source, m.id, m.old_flavor, s.root_disk_unclaimed);
  let refusal: NovaError | undefined;
  await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = cur.value.vm_state !== 'resized' ? invalidState(s.uuid, 'confirmResize', 'vm_state', cur.value.vm_state) : cur.value.task_state !== null ? invalidState(s.uuid, 'confirmResize', 'task_state', cur.value.task_state) : undefined;
    if (refusal) return undefined;
    const { migration: _confirmed, ...rest } = cur.value;
    return { ...rest, vm_state: cur.value.power_state === 1 ? 'active' : 'stopped', updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  await setMigrationStatus(store, m.id, moved ? 'confirming' : 'confirmed');
  if (moved) await enqueue(store, source, store.clock.now(), { server: s.uuid, task: 'resize-confirm', migration: m.id, token, requestId });
  await recordAction(store, actor, s.uuid, 'confirmResize', requestId);
}
