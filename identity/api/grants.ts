import { revokeGrant } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { notFoundMessage } from '../errors.ts';
import { mustGet } from '../lookup.ts';
import { requireAdmin } from '../policy.ts';
import { type Assignment, type AssignmentActor, type AssignmentTarget, renderList, renderRole, type RoleRecord } from '../records.ts';
import { NO_CONTENT, ok, type IdentityRequest, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { assignmentKey, T } from '../store.ts';

type TargetKind = 'projects' | 'domains' | 'system';
type ActorKind = 'users' | 'groups';

/**
 * Role grants: `PUT`, `GET`/`HEAD` (check) and `DELETE` on
 * `/v3/{projects|domains}/{id}/{users|groups}/{id}/roles/{role_id}` and
 * `/v3/system/{users|groups}/{id}/roles/{role_id}`, and the list of a grantee's roles there.
 * Removing a grant revokes the tokens that carried it (every member's, for a group).
 */
export function grantRoutes(deps: IdentityDeps): Route[] {
  const routes: Route[] = [];
  for (const targetKind of ['projects', 'domains', 'system'] as const) {
    for (const actorKind of ['users', 'groups'] as const) {
      const base = targetKind === 'system' ? `/v3/system/${actorKind}/{actor_id}/roles` : `/v3/${targetKind}/{target_id}/${actorKind}/{actor_id}/roles`;
      const one = `${base}/{role_id}`;
      routes.push(
        { method: 'PUT', path: one, auth: 'token', handler: (req) => put(req, targetKind, actorKind) },
        { method: 'GET', path: one, auth: 'token', handler: (req) => check(req, targetKind, actorKind) },
        { method: 'HEAD', path: one, auth: 'token', handler: (req) => check(req, targetKind, actorKind) },
        { method: 'DELETE', path: one, auth: 'token', handler: (req) => remove(req, targetKind, actorKind) },
        { method: 'GET', path: base, auth: 'token', handler: (req) => list(req, targetKind, actorKind) },
      );
    }
  }
  return routes;

  async function grant(req: IdentityRequest, targetKind: TargetKind, actorKind: ActorKind): Promise<Assignment> {
    const p = req.params;
    const target: AssignmentTarget = targetKind === 'projects' ? { project: p['target_id'] as string } : targetKind === 'domains' ? { domain: p['target_id'] as string } : { system: 'all' };
    const actor: AssignmentActor = actorKind === 'users' ? { user: p['actor_id'] as string } : { group: p['actor_id'] as string };
    if ('project' in target) await mustGet(deps.store, T.projects, target.project, 'project');
    if ('domain' in target) await mustGet(deps.store, T.domains, target.domain, 'domain');
    if ('user' in actor) await mustGet(deps.store, T.users, actor.user, 'user');
    else await mustGet(deps.store, T.groups, actor.group, 'group');
    return { target, actor, roleId: p['role_id'] ?? '' };
  }

  function missing(a: Assignment): Error {
    const target = 'project' in a.target ? a.target.project : 'domain' in a.target ? a.target.domain : 'system';
    const actor = 'user' in a.actor ? a.actor.user : a.actor.group;
    return notFoundMessage(`Could not find role assignment with role: ${a.roleId}, user or group: ${actor}, project, domain, or system: ${target}.`);
  }

  async function put(req: IdentityRequest, targetKind: TargetKind, actorKind: ActorKind) {
    requireAdmin(req, `identity:create_${targetKind === 'system' ? 'system' : 'grant'}`);
    const a = await grant(req, targetKind, actorKind);
    await mustGet<RoleRecord>(deps.store, T.roles, a.roleId, 'role');
    await deps.store.mark(T.assignments, assignmentKey(a));
    return NO_CONTENT;
  }

  async function check(req: IdentityRequest, targetKind: TargetKind, actorKind: ActorKind) {
    requireAdmin(req, 'identity:check_grant');
    const a = await grant(req, targetKind, actorKind);
    await mustGet<RoleRecord>(deps.store, T.roles, a.roleId, 'role');
    if (!(await deps.store.records.get(T.assignments, assignmentKey(a)))) throw missing(a);
    return NO_CONTENT;
  }

  async function remove(req: IdentityRequest, targetKind: TargetKind, actorKind: ActorKind) {
    requireAdmin(req, 'identity:revoke_grant');
    const a = await grant(req, targetKind, actorKind);
    if (!(await deps.store.records.get(T.assignments, assignmentKey(a)))) throw missing(a);
    await revokeGrant(deps, a);
    await deps.store.records.delete(T.assignments, assignmentKey(a));
    return NO_CONTENT;
  }

  async function list(req: IdentityRequest, targetKind: TargetKind, actorKind: ActorKind) {
    requireAdmin(req, 'identity:list_grants');
    const a = await grant(req, targetKind, actorKind);
    const prefix = assignmentKey({ ...a, roleId: '' });
    const roles = await deps.resolver.roles();
    const ids = (await deps.store.keys(T.assignments, prefix)).map((k) => k.slice(prefix.length));
    return ok(renderList('roles', ids.flatMap((id) => (roles.has(id) ? [renderRole(roles.get(id) as RoleRecord, req.base)] : [])), selfUrl(req)));
  }
}
