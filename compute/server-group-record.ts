import { updateRecord } from '../client/record-update.ts';
import { T } from './records.ts';
import type { ServerGroup } from './scheduler/request-spec.ts';
import type { ComputeStore } from './store.ts';

/**
 * A server group (`server-groups/<uuid>`, Nova's InstanceGroup): one policy, 2.64's rules, and
 * its members, the servers booted into it with the `group` hint. A member joins (compare-and-
 * swap on this record) before its boot is placed, so the scheduler sees it, and leaves when
 * the server is deleted.
 */
export interface ServerGroupRecord {
  readonly uuid: string;
  readonly name: string;
  readonly project_id: string;
  readonly user_id: string;
  readonly policy: ServerGroup['policy'];
  readonly rules: { readonly max_server_per_host?: number };
  readonly members: readonly string[];
  /**
   * `affinity`: the host its members are on, set by the first placement (compare-and-swap), so
   * two first members placed at once end on one host; cleared when the last member leaves.
   */
  readonly host?: string;
  readonly created_at: string;
}

/** The group as the scheduler and claims see it. */
export function schedulerGroup(g: ServerGroupRecord): ServerGroup {
  return { uuid: g.uuid, policy: g.policy, members: g.members, ...(g.rules.max_server_per_host === undefined ? {} : { rules: { max_server_per_host: g.rules.max_server_per_host } }) };
}

/** Takes `server` out of its group's members (a deleted server); a group already gone is fine. */
export async function leaveGroup(store: ComputeStore, group: string | undefined, server: string): Promise<void> {
  if (group === undefined) return;
  await updateRecord<ServerGroupRecord>(store.records, T.serverGroups, group, (cur) => {
    if (!cur.value.members.includes(server)) return undefined;
    const { host, ...rest } = cur.value;
    const members = cur.value.members.filter((m) => m !== server);
    return members.length > 0 && host !== undefined ? { ...rest, members, host } : { ...rest, members };
  });
}

/**
 * An affinity group's host: `host` if the group has none yet (this placement is its first),
 * else the one it has (updateRecord answers the record as it is when nothing changes). The
 * caller moves its claim there when they differ; a group deleted meanwhile keeps `host`.
 */
export async function settleAffinityHost(store: ComputeStore, group: string, host: string): Promise<string> {
  const updated = await updateRecord<ServerGroupRecord>(store.records, T.serverGroups, group, (cur) => (cur.value.host === undefined ? { ...cur.value, host } : undefined));
  return updated?.value.host ?? host;
}
