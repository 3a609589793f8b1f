import { updateRecord } from '../client/record-update.ts';
import type { ComputeContext } from './request.ts';
import { T } from './records.ts';
import type { ComputeStore } from './store.ts';

/** One os-instance-actions entry: what a request asked of a server (Nova's InstanceAction). */
export interface InstanceActionRecord {
  readonly action: string;
  readonly instance_uuid: string;
  readonly request_id: string;
  /** Null for what the cloud did by itself (a periodic task's admin context has no user). */
  readonly user_id: string | null;
  readonly project_id: string | null;
  readonly start_time: string;
  readonly updated_at: string;
  readonly message: string | null;
  /** The steps the services recorded, in the order they started (absent: none yet). */
  readonly events?: readonly InstanceActionEvent[];
}

/** Who asked: a request's caller, or no one (a periodic task, as Nova's admin context). */
export type ActionActor = Pick<ComputeContext, 'userId' | 'projectId'> | { readonly userId: null; readonly projectId: null };

/** Records that `action` (`create`, `stop`, `reboot`, ...) was asked of `server` by this request. */
export async function recordAction(store: ComputeStore, c: ActionActor, server: string, action: string, requestId: string): Promise<void> {
  const now = store.isoMicros();
  const record: InstanceActionRecord = { action, instance_uuid: server, request_id: requestId, user_id: c.userId, project_id: c.projectId, start_time: now, updated_at: now, message: null };
  await store.records.put(T.actions, `${server}/${requestId}`, record);
}

/** One step of an action, as the service that did it recorded it (Nova's InstanceActionEvent). */
export interface InstanceActionEvent {
  /** `compute__do_build_and_run_instance`, `compute_stop_instance`, ...: Nova's names. */
  readonly event: string;
  readonly start_time: string;
  readonly finish_time: string | null;
  /** `Success` or `Error` once finished. */
  readonly result: 'Success' | 'Error' | null;
  /** What failed, in full (admins only). */
  readonly traceback: string | null;
  /** The host that did the step. */
  readonly host: string;
  /** The failure's message (admins, 2.84). */
  readonly details: string | null;
}

/**
 * Records that `event` started on `host` for the action of `requestId` (Nova's `event_start`).
 * A step run again after a restart replaces its unfinished self. Nothing is recorded when the
 * action is not there (a task queued before actions had events).
 */
export async function startEvent(store: ComputeStore, server: string, requestId: string, event: string, host: string): Promise<void> {
  const now = store.isoMicros();
  await updateRecord<InstanceActionRecord>(store.records, T.actions, `${server}/${requestId}`, (cur) => ({
    ...cur.value,
    updated_at: now,
    events: [...(cur.value.events ?? []).filter((e) => e.event !== event || e.finish_time !== null), { event, start_time: now, finish_time: null, result: null, traceback: null, host, details: null }],
  }));
}

/**
 * Records how `event` ended (Nova's `event_finish_with_failure`): `Success`, or `Error` with what
 * failed, which also marks the action's `message` `Error`.
 */
export async function finishEvent(store: ComputeStore, server: string, requestId: string, event: string, failure?: { readonly message: string; readonly traceback: string }): Promise<void> {
  const now = store.isoMicros();
  await updateRecord<InstanceActionRecord>(store.records, T.actions, `${server}/${requestId}`, (cur) => {
    const events = [...(cur.value.events ?? [])];
    const at = events.findLastIndex((e) => e.event === event && e.finish_time === null);
    const open = events[at];
    if (!open) return undefined;
    events[at] = { ...open, finish_time: now, result: failure ? 'Error' : 'Success', traceback: failure?.traceback ?? null, details: failure?.message ?? null };
    return { ...cur.value, updated_at: now, events, ...(failure ? { message: 'Error' } : {}) };
  });
}
