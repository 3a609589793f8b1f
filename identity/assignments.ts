import type { Assignment, AssignmentTarget, RoleRecord } from './records.ts';
import { type IdentityStore, parseAssignmentKey, T, targetKey } from './store.ts';

/** An assignment that gives a user a role, and how: directly, through a group, or implied by another role. */
export interface EffectiveAssignment extends Assignment {
  /** The group whose membership gave it (the assignment's actor is that group). */
  readonly viaGroup?: string;
  /** The role that implies this one, when it was not assigned itself. */
  readonly priorRoleId?: string;
}

/**
 * Who has which roles where (Keystone's assignment manager): direct grants, grants to the
 * user's groups, and the roles those imply (`admin` implies `member` implies `reader` after
 * bootstrap). Everything comes from key listings: an assignment, a membership and an
 * implication are each a key.
 */
export class RoleResolver {
  private readonly store: IdentityStore;

  constructor(store: IdentityStore) {
    this.store = store;
  }

  /** Every role by id. */
  async roles(): Promise<Map<string, RoleRecord>> {
    return new Map((await this.store.scan<RoleRecord>(T.roles)).map((r) => [r.id, r]));
  }

  /** Prior role id → the role ids it implies directly. */
  async implications(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const key of await this.store.keys(T.implications)) {
      const [prior, implied] = key.split('/') as [string, string];
      out.set(prior, [...(out.get(prior) ?? []), implied]);
    }
    return out;
  }

  async userGroups(userId: string): Promise<string[]> {
    return (await this.store.keys(T.userGroups, `${userId}/`)).map((k) => k.slice(userId.length + 1));
  }

  /** Every assignment on one target (all actors), or on every target when none is given. */
  async assignments(target?: AssignmentTarget): Promise<Assignment[]> {
    const keys = await this.store.keys(T.assignments, target ? `${targetKey(target)}/` : undefined);
    return keys.map(parseAssignmentKey).filter((a): a is Assignment => a !== undefined);
  }

  /**
   * The user's effective assignments on `target` (or everywhere): their own, their groups'
   * (`viaGroup`), and the implied roles of both (`priorRoleId`), each role once per target.
   */
  async effective(userId: string, target?: AssignmentTarget): Promise<EffectiveAssignment[]> {
    const [groupList, all, implications] = await Promise.all([this.userGroups(userId), this.assignments(target), this.implications()]);
    const groups = new Set(groupList);
    const direct = all.filter((a) => ('user' in a.actor ? a.actor.user === userId : groups.has(a.actor.group)));
    return expandImplied(
      direct.map((a) => ('group' in a.actor ? { ...a, viaGroup: a.actor.group } : a)),
      implications,
    );
  }

  /** The distinct roles the user has on `target`, implied ones included. */
  async effectiveRoles(userId: string, target: AssignmentTarget): Promise<RoleRecord[]> {
    const [assignments, roles] = await Promise.all([this.effective(userId, target), this.roles()]);
    const ids = [...new Set(assignments.map((a) => a.roleId))];
    return ids.map((id) => roles.get(id)).filter((r): r is RoleRecord => r !== undefined);
  }
}

/**
 * Adds the roles `assignments` imply (transitively), each marked with the role that implied
 * it; a role a target already has is not added twice.
 */
export function expandImplied(assignments: readonly EffectiveAssignment[], implications: ReadonlyMap<string, readonly string[]>): EffectiveAssignment[] {
  const out: EffectiveAssignment[] = [];
  const seen = new Set<string>();
  const keyOf = (a: EffectiveAssignment): string => `${targetKey(a.target)}|${a.roleId}|${a.viaGroup ?? ''}|${'user' in a.actor ? a.actor.user : a.actor.group}`;
  const queue = [...assignments];
  for (let a = queue.shift(); a !== undefined; a = queue.shift()) {
    const key = keyOf(a);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
    for (const implied of implications.get(a.roleId) ?? []) {
      const { priorRoleId: _prior, ...base } = a;
      queue.push({ ...base, roleId: implied, priorRoleId: a.roleId });
    }
  }
  return out;
}
