import { T } from './records.ts';
import type { ComputeStore } from './store.ts';

/**
 * Work for a host's agent, queued in the cluster as Swift's expirer queues its work: one record
 * per task under `queue/<host>/`, keyed by when it was asked for, so the agent takes them in
 * order and a restarted agent finds what it had not finished. A task is removed only once done,
 * and every task is safe to run again (the agent checks what is already so).
 */
export type WorkTask = 'build' | 'delete' | 'stop' | 'start' | 'reboot-soft' | 'reboot-hard' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'console' | 'snapshot' | 'rebuild' | 'resize' | 'resize-revert' | 'resize-finish' | 'resize-confirm' | 'resize-revert-finish' | 'attach-volume' | 'detach-volume' | 'evacuate' | 'backup' | 'shelve' | 'shelve-offload' | 'unshelve' | 'rescue' | 'unrescue' | 'attach-interface' | 'detach-interface';

export interface WorkItem {
  readonly server: string;
  readonly task: WorkTask;
  /** The requesting user's token, for the calls to Glance and Neutron (Nova passes its context). */
  readonly token: string;
  /** The API request that asked (os-instance-actions' request id). */
  readonly requestId: string;
  /** `console`: the last lines wanted (none: all Nova's 100 KiB). */
  readonly length?: number;
  /** `snapshot`, `backup`, `shelve`: the Glance image (made by the API, queued) the disk goes to. */
  readonly imageId?: string;
  /** `backup`: its `backup_type` and how many backups of that type to keep (Nova's `rotation`). */
  readonly backupType?: string;
  readonly rotation?: number;
  /** `attach-volume`, `detach-volume`: the Cinder volume. */
  readonly volumeId?: string;
  /** `resize-confirm`: the migration whose source is cleaned (the server record no longer names it); `evacuate`: the evacuation. */
  readonly migration?: string;
  /** `evacuate` from 2.95: the vm state the server ends in on its new host. */
  readonly targetState?: 'stopped';
  /** `evacuate` before 2.14: the caller said the disk is on shared storage (no storage is shared here). */
  readonly onSharedStorage?: boolean;
  /** `attach-interface`: the user's port, or the network to make one on (with `fixedIp`), and the device `tag` (2.49); `detach-interface`: the port. */
  readonly portId?: string;
  readonly networkId?: string;
  readonly fixedIp?: string;
  readonly tag?: string;
  /** `rescue`: the image the rescue disk is made of (none: the server's own). */
  readonly rescueImageRef?: string;
  /** `rebuild`: the caller asked to keep the ephemeral disks (`preserve_ephemeral`), which libvirt's driver cannot. */
  readonly preserveEphemeral?: boolean;
}

/** What the agent answers an `attach-interface` task with, under `interface-replies/<request id>`: the port attached, or Nova's error. */
export interface InterfaceReply {
  readonly portId?: string;
  readonly error?: { readonly code: number; readonly message: string };
}

/** What the agent answers a `console` task with, under `console-replies/<request id>`. */
export interface ConsoleReply {
  readonly output?: string;
  /** `not-found` (no domain or no file console). */
  readonly error?: 'not-found';
}

/**
 * The key of a task: `<host>/<ms, 15 digits>-<server>-<task>` (and `-<volume>`, `-<port>` or
 * `-<network>` for a volume's or an interface's, so two attached in one millisecond are two
 * tasks); the same ask gives the same key.
 */
export function workKey(host: string, atMs: number, item: Pick<WorkItem, 'server' | 'task' | 'volumeId' | 'portId' | 'networkId'>): string {
  const what = item.volumeId ?? item.portId ?? item.networkId;
  return `${host}/${String(atMs).padStart(15, '0')}-${item.server}-${item.task}${what === undefined ? '' : `-${what}`}`;
}

/**
 * The host's answer to a task the API waits for (Nova's RPC call), `type/<request id>`, taken
 * (read and removed) as soon as it is there; undefined when none came within `waitMs`.
 */
export async function awaitReply<R>(store: ComputeStore, type: string, requestId: string, waitMs: number): Promise<R | undefined> {
  const deadline = store.clock.monotonic() + waitMs;
  while (store.clock.monotonic() < deadline) {
    const reply = await store.get<R>(type, requestId);
    if (reply) {
      await store.records.delete(type, requestId);
      return reply;
    }
    await store.clock.sleep(100);
  }
  return undefined;
}

export async function enqueue(store: ComputeStore, host: string, atMs: number, item: WorkItem): Promise<string> {
  const key = workKey(host, atMs, item);
  await store.records.put(T.queue, key, item);
  return key;
}
