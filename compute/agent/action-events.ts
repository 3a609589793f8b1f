import { finishEvent, startEvent } from '../instance-actions.ts';
import { T } from '../records.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import type { WorkItem, WorkTask } from '../work-queue.ts';

/**
 * The event each task records on its action, named as Nova's compute manager names them
 * (`@wrap_instance_event(prefix='compute')` on the method that does the work). A console read
 * is no action; a delete's server, and so its actions, is gone when it ends.
 */
const EVENTS: Partial<Record<WorkTask, string>> = {
  build: 'compute__do_build_and_run_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  'reboot-soft': 'compute_reboot_instance',
  'reboot-hard': 'compute_reboot_instance',
  pause: 'compute_pause_instance',
  unpause: 'compute_unpause_instance',
  suspend: 'compute_suspend_instance',
  resume: 'compute_resume_instance',
  snapshot: 'compute_snapshot_instance',
  backup: 'compute_backup_instance',
  rebuild: 'compute_rebuild_instance',
  evacuate: 'compute_rebuild_instance',
  resize: 'compute_resize_instance',
  'resize-finish': 'compute_finish_resize',
  'resize-confirm': 'compute_confirm_resize',
  'resize-revert': 'compute_revert_resize',
  'resize-revert-finish': 'compute_finish_revert_resize',
  'attach-volume': 'compute_attach_volume',
  'detach-volume': 'compute_detach_volume',
  shelve: 'compute_shelve_instance',
  'shelve-offload': 'compute_shelve_offload_instance',
  unshelve: 'compute_unshelve_instance',
  rescue: 'compute_rescue_instance',
  unrescue: 'compute_unrescue_instance',
  'attach-interface': 'compute_attach_interface',
  'detach-interface': 'compute_detach_interface',
};

/**
 * Runs `task` as the step of its action on `host`: the event started, then finished `Success`,
 * or `Error` when the task put a new fault on the server (the task's own way of failing: it
 * records the fault and the state Nova would) or threw (rethrown; the task stays queued).
 */
export async function withActionEvent(store: ComputeStore, host: string, item: WorkItem, task: () => Promise<void>): Promise<void> {
  const event = EVENTS[item.task];
  if (event === undefined) return task();
  const faultOf = async (): Promise<string> => JSON.stringify((await store.get<ServerRecord>(T.servers, item.server))?.fault ?? null);
  const before = await faultOf();
  await startEvent(store, item.server, item.requestId, event, host);
  try {
    await task();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    await finishEvent(store, item.server, item.requestId, event, { message: e.message, traceback: e.stack ?? e.message });
    throw err;
  }
  const after = await store.get<ServerRecord>(T.servers, item.server);
  const fault = after?.fault;
  if (fault && JSON.stringify(fault) !== before) await finishEvent(store, item.server, item.requestId, event, { message: fault.message, traceback: fault.details ?? fault.message });
  else await finishEvent(store, item.server, item.requestId, event);
}
