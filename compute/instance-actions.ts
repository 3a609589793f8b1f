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
}

/** Who asked: a request's caller, or no one (a periodic task, as Nova's admin context). */
export type ActionActor = Pick<ComputeContext, 'userId' | 'projectId'> | { readonly userId: null; readonly projectId: null };

/** Records that `action` (`create`, `stop`, `reboot`, ...) was asked of `server` by this request. */
export async function recordAction(store: ComputeStore, c: ActionActor, server: string, action: string, requestId: string): Promise<void> {
  const now = store.isoMicros();
  const record: InstanceActionRecord = { action, instance_uuid: server, request_id: requestId, user_id: c.userId, project_id: c.projectId, start_time: now, updated_at: now, message: null };
  await store.records.put(T.actions, `${server}/${requestId}`, record);
}
