import type { ComputeHostRecord } from './host-record.ts';
import { isServiceUp } from './scheduler/host-state.ts';
import { atLeast } from './api-version.ts';
import { type ComputeContext, type ComputeRequest, contextOf } from './request.ts';
import type { ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';
import { T } from './records.ts';

/** Nova's `HostStatus` (nova/objects/fields.py): `''` is NONE, a server with no host (or no service). */
export type HostStatus = 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN' | '';

/**
 * Nova's `get_instance_host_status`: DOWN when an operator forced the service down, MAINTENANCE
 * when it is disabled, UP while it heartbeats, UNKNOWN when it stopped (Nova cannot tell a dead
 * host from a silent one), and none without a host.
 */
export function hostStatusOf(host: ComputeHostRecord | undefined, nowMs: number): HostStatus {
  if (host === undefined) return '';
  if (host.forcedDown === true) return 'DOWN';
  if (!host.enabled) return 'MAINTENANCE';
  return isServiceUp(host, nowMs) ? 'UP' : 'UNKNOWN';
}

/**
 * `host_status` for each of `servers` (by UUID), or undefined when the caller may not see it:
 * microversion 2.16 and `os_compute_api:servers:show:host_status` (admin by default; its
 * `unknown-only` sibling is admin too, so it never lets more through by default). Each host's
 * record is read once, as Nova's `get_instances_host_statuses` looks each host up once.
 */
export async function hostStatuses(store: ComputeStore, context: ComputeContext, servers: readonly ServerRecord[]): Promise<ReadonlyMap<string, HostStatus> | undefined> {
  if (!context.isAdmin) return undefined;
  const now = store.clock.now();
  const byHost = new Map<string, HostStatus>();
  const out = new Map<string, HostStatus>();
  for (const s of servers) {
    if (s.host === null) {
      out.set(s.uuid, '');
      continue;
    }
    let status = byHost.get(s.host);
    if (status === undefined) {
      status = hostStatusOf(await store.get<ComputeHostRecord>(T.hosts, s.host), now);
      byHost.set(s.host, status);
    }
    out.set(s.uuid, status);
  }
  return out;
}

/** One server's `host_status` as `GET /servers/{id}` shows it, or undefined when not shown. */
export async function hostStatusShown(store: ComputeStore, req: ComputeRequest, server: ServerRecord): Promise<HostStatus | undefined> {
  if (!atLeast(req.version, '2.16')) return undefined;
  return (await hostStatuses(store, contextOf(req), [server]))?.get(server.uuid);
}
