/** The facts about one replica of a container that decide its storage policy. */
export interface PolicyInfo {
  readonly storage_policy_index: number;
  readonly put_timestamp: string;
  readonly delete_timestamp: string;
  readonly status_changed_at: string;
  /** Objects in the container (Swift's `count`/`object_count`). */
  readonly count: number;
}

const ZERO = '0000000000.00000';

/**
 * Swift's `cmp_policy_info`: which of two replicas holds the right storage policy when they
 * disagree (two proxies created the container with different policies at once, or a deleted
 * container was recreated with another). Roughly: if either was recreated, the newest
 * recreation wins; otherwise the oldest wins; a live replica beats a deleted one.
 * Timestamps are internal form, so they compare as text.
 * @returns negative when `info` is right, positive when `remote` is, 0 for a tie.
 */
export function comparePolicyInfo(info: PolicyInfo, remote: PolicyInfo): number {
  const isDeleted = (i: PolicyInfo): boolean => i.delete_timestamp > i.put_timestamp && i.count === 0;
  const cmp = (a: string, b: string): number => (a < b ? -1 : b < a ? 1 : 0);
  const deleted = isDeleted(info);
  const remoteDeleted = isDeleted(remote);
  if (deleted || remoteDeleted) {
    if (!deleted) return -1;
    if (!remoteDeleted) return 1;
    return cmp(remote.status_changed_at, info.status_changed_at);
  }
  const recreated = (i: PolicyInfo): boolean => i.put_timestamp > i.delete_timestamp && i.delete_timestamp > ZERO;
  const remoteRecreated = recreated(remote);
  const localRecreated = recreated(info);
  if (remoteRecreated || localRecreated) {
    if (!localRecreated) return 1;
    if (!remoteRecreated) return -1;
    // Both recreated: a put older than the latest successful delete loses.
    const lastDelete = info.delete_timestamp > remote.delete_timestamp ? info.delete_timestamp : remote.delete_timestamp;
    if (info.put_timestamp < lastDelete) return 1;
    if (remote.put_timestamp < lastDelete) return -1;
  }
  return cmp(info.status_changed_at, remote.status_changed_at);
}

/** Swift's `incorrect_policy_index`: should this replica take the remote's policy index? */
export function incorrectPolicyIndex(info: PolicyInfo, remote: Partial<PolicyInfo>): boolean {
  if (remote.storage_policy_index === undefined || remote.storage_policy_index === info.storage_policy_index) return false;
  const full: PolicyInfo = {
    storage_policy_index: remote.storage_policy_index,
    put_timestamp: remote.put_timestamp ?? ZERO,
    delete_timestamp: remote.delete_timestamp ?? ZERO,
    status_changed_at: remote.status_changed_at ?? ZERO,
    count: remote.count ?? 0,
  };
  return comparePolicyInfo(info, full) > 0;
}
