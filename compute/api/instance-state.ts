import { updateRecord } from '../../client/record-update.ts';
import { invalidState, type NovaError, notFound } from '../errors.ts';
import { T } from '../records.ts';
import type { ServerRecord, TaskState, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';

/**
 * Nova's `check_instance_state(vm_state=from, task_state=[None])`: the 409 naming the vm state
 * that is not one of `from`, else the task in progress; undefined when `action` may start.
 */
export function stateRefusal(s: Pick<ServerRecord, 'uuid' | 'vm_state' | 'task_state'>, action: string, from: readonly VmState[]): NovaError | undefined {
  if (!from.includes(s.vm_state)) return invalidState(s.uuid, action, 'vm_state', s.vm_state);
  if (s.task_state !== null) return invalidState(s.uuid, action, 'task_state', s.task_state);
  return undefined;
}

/** `stateRefusal` thrown. @throws {NovaError} 409. */
export function checkInstanceState(s: Pick<ServerRecord, 'uuid' | 'vm_state' | 'task_state'>, action: string, from: readonly VmState[]): void {
  const refusal = stateRefusal(s, action, from);
  if (refusal) throw refusal;
}

/**
 * Puts the server at `task` from one of `from` without a task (Nova's `check_instance_state` and
 * `save(expected_task_state=[None])` in one compare-and-swap). @throws {NovaError} 409.
 */
export async function takeTask(store: ComputeStore, s: ServerRecord, action: string, from: readonly VmState[], task: Exclude<TaskState, null>, edit: (v: ServerRecord) => ServerRecord = (v) => v): Promise<ServerRecord> {
  let refusal: NovaError | undefined;
  const taken = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = stateRefusal(cur.value, action, from);
    return refusal ? undefined : { ...edit(cur.value), task_state: task, updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  if (!taken) throw notFound(`Instance ${s.uuid} could not be found.`);
  return taken.value;
}

/** Gives `task` back (the server without a task again) when the server is still at it and `still` holds: a step after `takeTask` failed. */
export async function dropTask(store: ComputeStore, uuid: string, task: Exclude<TaskState, null>, still: (v: ServerRecord) => boolean = () => true): Promise<void> {
  await updateRecord<ServerRecord>(store.records, T.servers, uuid, (cur) => (cur.value.task_state === task && still(cur.value) ? { ...cur.value, task_state: null, updated_at: store.isoSeconds() } : undefined));
}
