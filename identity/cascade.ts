import type { IdentityDeps } from './deps.ts';
import { deleteAssociationsOf } from './endpoint-filter.ts';
import type { ApplicationCredentialRecord, Assignment, CredentialRecord, DomainRecord, GroupRecord, ProjectRecord, RoleRecord, UserRecord } from './records.ts';
import { assignmentKey, parseAssignmentKey, T } from './store.ts';
import { deleteLimitsFor } from './unified-limits.ts';

/**
 * What goes with a deleted resource (Keystone deletes it too), and the revocation events that
 * make its tokens stop working everywhere: events are written before the records go, so a
 * failure half way leaves tokens revoked rather than working for something already gone.
 */

/** Revocation events for a grant that is going: the tokens that carried it. */
export async function revokeGrant(deps: IdentityDeps, a: Assignment): Promise<void> {
  const users = 'user' in a.actor ? [a.actor.user] : await groupMembers(deps, a.actor.group);
  for (const user_id of users) {
    if ('project' in a.target) await deps.revocations.revoke({ user_id, project_id: a.target.project });
    else if ('domain' in a.target) await deps.revocations.revoke({ user_id, domain_id: a.target.domain });
    else await deps.revocations.revoke({ user_id, role_id: a.roleId });
  }
}

export async function groupMembers(deps: IdentityDeps, groupId: string): Promise<string[]> {
  return (await deps.store.keys(T.groupMembers, `${groupId}/`)).map((k) => k.slice(groupId.length + 1));
}

/** Deletes every assignment `matches` selects (no events: the caller revokes what it must). */
export async function deleteAssignments(deps: IdentityDeps, matches: (a: Assignment) => boolean): Promise<void> {
  for (const key of await deps.store.keys(T.assignments)) {
    const a = parseAssignmentKey(key);
    if (a && matches(a)) await deps.store.records.delete(T.assignments, assignmentKey(a));
  }
}

export async function deleteUser(deps: IdentityDeps, user: UserRecord): Promise<void> {
  await deps.revocations.revoke({ user_id: user.id });
  const store = deps.store;
  for (const groupId of (await store.keys(T.userGroups, `${user.id}/`)).map((k) => k.slice(user.id.length + 1))) {
    await store.records.delete(T.userGroups, `${user.id}/${groupId}`);
    await store.records.delete(T.groupMembers, `${groupId}/${user.id}`);
  }
  await deleteAssignments(deps, (a) => 'user' in a.actor && a.actor.user === user.id);
  for (const key of await store.keys(T.appCredNames, `${user.id}/`)) {
    const appCred = await store.byName<ApplicationCredentialRecord>(T.appCreds, T.appCredNames, key);
    if (appCred) await store.deleteNamed(T.appCreds, T.appCredNames, key, appCred.id);
  }
  for (const credential of await store.scan<CredentialRecord>(T.credentials)) {
    if (credential.user_id === user.id) await store.records.delete(T.credentials, credential.id);
  }
  await store.deleteNamed(T.users, T.userNames, `${user.domain_id}/${user.name}`, user.id);
}

export async function deleteGroup(deps: IdentityDeps, group: GroupRecord): Promise<void> {
  const members = await groupMembers(deps, group.id);
  for (const user_id of members) await deps.revocations.revoke({ user_id });
  for (const userId of members) {
    await deps.store.records.delete(T.userGroups, `${userId}/${group.id}`);
    await deps.store.records.delete(T.groupMembers, `${group.id}/${userId}`);
  }
  await deleteAssignments(deps, (a) => 'group' in a.actor && a.actor.group === group.id);
  await deps.store.deleteNamed(T.groups, T.groupNames, `${group.domain_id}/${group.name}`, group.id);
}

export async function deleteProject(deps: IdentityDeps, project: ProjectRecord): Promise<void> {
  await deps.revocations.revoke({ project_id: project.id });
  await deleteAssignments(deps, (a) => 'project' in a.target && a.target.project === project.id);
  await deleteLimitsFor(deps, { project_id: project.id });
  await deleteAssociationsOf(deps.store, { project: project.id });
  await deps.store.deleteNamed(T.projects, T.projectNames, `${project.domain_id}/${project.name}`, project.id);
}

export async function deleteRole(deps: IdentityDeps, role: RoleRecord): Promise<void> {
  await deps.revocations.revoke({ role_id: role.id });
  await deleteAssignments(deps, (a) => a.roleId === role.id);
  for (const key of await deps.store.keys(T.implications)) {
    const [prior, implied] = key.split('/');
    if (prior === role.id || implied === role.id) await deps.store.records.delete(T.implications, key);
  }
  await deps.store.deleteNamed(T.roles, T.roleNames, role.name, role.id);
}

/** A domain and everything in it: its projects (children first), users and groups. */
export async function deleteDomain(deps: IdentityDeps, domain: DomainRecord): Promise<void> {
  await deps.revocations.revoke({ domain_id: domain.id });
  const projects = (await deps.store.scan<ProjectRecord>(T.projects)).filter((p) => p.domain_id === domain.id);
  const depth = (p: ProjectRecord): number => {
    let d = 0;
    for (let q: ProjectRecord | undefined = p; q && q.parent_id !== domain.id && d < 100; q = projects.find((x) => x.id === q?.parent_id)) d++;
    return d;
  };
  for (const p of projects.sort((a, b) => depth(b) - depth(a))) await deleteProject(deps, p);
  for (const u of (await deps.store.scan<UserRecord>(T.users)).filter((u) => u.domain_id === domain.id)) await deleteUser(deps, u);
  for (const g of (await deps.store.scan<GroupRecord>(T.groups)).filter((g) => g.domain_id === domain.id)) await deleteGroup(deps, g);
  await deleteAssignments(deps, (a) => 'domain' in a.target && a.target.domain === domain.id);
  await deleteLimitsFor(deps, { domain_id: domain.id });
  await deps.store.deleteNamed(T.domains, T.domainNames, domain.name, domain.id);
}
