import { updateRecord } from '../../client/record-update.ts';
import { invalidState, type NovaError, notFound } from '../errors.ts';
import { T } from '../records.ts';
import type { ServerRecord, TaskState, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';

/**
 * Puts the server at `task` from one of `from` without a task (Nova's `check_instance_state` and
 * `save(expected_task_state=[None])` in one compare-and-swap). @throws {NovaError} 409.
 */
export async function takeTask(store: ComputeStore, s: ServerRecord, action: string, from: readonly VmState[], task: Exclude<TaskState, null>, edit: (v: ServerRecord) => ServerRecord = (v) => v): Promise<ServerRecord> {
  let refusal: NovaError | undefined;
  const taken = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    const v = cur.value;
    refusal = !from.includes(v.vm_state) ? invalidState(s.uuid, action, 'vm_state', v.vm_state) : v.task_state !== null ? invalidState(s.uuid, action, 'task_state', v.task_state) : undefined;
    return refusal ? undefined : { ...edit(v), task_state: task, updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  if (!taken) throw notFound(`Instance ${s.uuid} could not be found.`);
  return taken.value;
}
