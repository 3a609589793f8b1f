import { type EffectiveAssignment, expandImplied } from '../assignments.ts';
import { groupMembers } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { validationError } from '../errors.ts';
import { requireAdmin } from '../policy.ts';
import type { DomainRecord, GroupRecord, ProjectRecord, RoleRecord, UserRecord } from '../records.ts';
import { ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import type { Json } from '../validation.ts';

/**
 * `GET /v3/role_assignments` with Keystone's filters (`user.id`, `group.id`, `role.id`,
 * `scope.project.id`, `scope.domain.id`, `scope.system`, `include_subtree`), `effective`
 * (group grants shown per member, implied roles added) and `include_names`.
 */
export function roleAssignmentRoutes(deps: IdentityDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/v3/role_assignments',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_role_assignments');
        const q = req.query;
        const flag = (name: string): boolean => q.has(name) && !['0', 'false', 'False'].includes(q.get(name) as string);
        const userId = q.get('user.id');
        const groupId = q.get('group.id');
        const roleId = q.get('role.id');
        const projectId = q.get('scope.project.id');
        const domainId = q.get('scope.domain.id');
        const system = q.get('scope.system');
        const effective = flag('effective');
        if (userId !== null && groupId !== null) throw validationError('Specify a user or group, not both');
        if ([projectId, domainId, system].filter((v) => v !== null).length > 1) throw validationError('Specify one of domain, project or system');
        if (effective && groupId !== null) throw validationError('Combining effective and group filter will always result in an empty list.');
        if (flag('include_subtree') && projectId === null) throw validationError('scope.project.id needs to be specified if include_subtree is also specified');

        const projects = projectId !== null && flag('include_subtree') ? await subtreeIds(projectId) : projectId !== null ? new Set([projectId]) : undefined;
        let list: EffectiveAssignment[] = (await deps.resolver.assignments()).filter(
          (a) =>
            (projects === undefined || ('project' in a.target && projects.has(a.target.project))) &&
            (domainId === null || ('domain' in a.target && a.target.domain === domainId)) &&
            (system === null || 'system' in a.target),
        );
        if (effective) {
          const expanded: EffectiveAssignment[] = [];
          for (const a of list) {
            if ('user' in a.actor) expanded.push(a);
            else for (const member of await groupMembers(deps, a.actor.group)) expanded.push({ ...a, actor: { user: member }, viaGroup: a.actor.group });
          }
          list = expandImplied(expanded, await deps.resolver.implications());
        }
        list = list.filter(
          (a) =>
            (userId === null || ('user' in a.actor && a.actor.user === userId)) &&
            (groupId === null || ('group' in a.actor && a.actor.group === groupId)) &&
            (roleId === null || a.roleId === roleId),
        );
        const names = flag('include_names') ? await nameBook(list) : undefined;
        return ok({ role_assignments: list.map((a) => render(a, req.base, names)), links: { next: null, previous: null, self: selfUrl(req) } });
      },
    },
  ];

  async function subtreeIds(root: string): Promise<Set<string>> {
    const all = await deps.store.scan<ProjectRecord>(T.projects);
    const ids = new Set([root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of all) {
        if (ids.has(p.parent_id) && !ids.has(p.id)) {
          ids.add(p.id);
          grew = true;
        }
      }
    }
    return ids;
  }

  async function nameBook(list: readonly EffectiveAssignment[]): Promise<NameBook> {
    const book: NameBook = { roles: await deps.resolver.roles(), domains: new Map(), projects: new Map(), users: new Map(), groups: new Map() };
    for (const d of await deps.store.scan<DomainRecord>(T.domains)) book.domains.set(d.id, d);
    for (const a of list) {
      if ('project' in a.target && !book.projects.has(a.target.project)) book.projects.set(a.target.project, await deps.store.get<ProjectRecord>(T.projects, a.target.project));
      if ('user' in a.actor && !book.users.has(a.actor.user)) book.users.set(a.actor.user, await deps.store.get<UserRecord>(T.users, a.actor.user));
      if ('group' in a.actor && !book.groups.has(a.actor.group)) book.groups.set(a.actor.group, await deps.store.get<GroupRecord>(T.groups, a.actor.group));
    }
    return book;
  }
}

interface NameBook {
  readonly roles: Map<string, RoleRecord>;
  readonly domains: Map<string, DomainRecord>;
  readonly projects: Map<string, ProjectRecord | undefined>;
  readonly users: Map<string, UserRecord | undefined>;
  readonly groups: Map<string, GroupRecord | undefined>;
}

/** One assignment as Keystone lists it; `names` adds the names (`include_names`). */
function render(a: EffectiveAssignment, base: string, names: NameBook | undefined): Json {
  const domainOf = (id: string): Json => ({ id, name: names?.domains.get(id)?.name ?? '' });
  const targetPath = 'project' in a.target ? `projects/${a.target.project}` : 'domain' in a.target ? `domains/${a.target.domain}` : 'system';
  const grantee = a.viaGroup !== undefined ? `groups/${a.viaGroup}` : 'user' in a.actor ? `users/${a.actor.user}` : `groups/${a.actor.group}`;
  const links: Json = { assignment: `${base}/v3/${targetPath}/${grantee}/roles/${a.priorRoleId ?? a.roleId}` };
  if (a.viaGroup !== undefined && 'user' in a.actor) links['membership'] = `${base}/v3/groups/${a.viaGroup}/users/${a.actor.user}`;
  // Keystone's own (reversed) form: prior_role/<implied>/implies/<prior>.
  if (a.priorRoleId !== undefined) links['prior_role'] = `${base}/v3/prior_role/${a.roleId}/implies/${a.priorRoleId}`;
  const out: Json = { links, role: { id: a.roleId, ...(names ? { name: names.roles.get(a.roleId)?.name ?? '' } : {}) } };
  if ('project' in a.target) {
    const p = names?.projects.get(a.target.project);
    out['scope'] = { project: { id: a.target.project, ...(names ? { name: p?.name ?? '', domain: domainOf(p?.domain_id ?? '') } : {}) } };
  } else if ('domain' in a.target) {
    out['scope'] = { domain: { id: a.target.domain, ...(names ? { name: names.domains.get(a.target.domain)?.name ?? '' } : {}) } };
  } else {
    out['scope'] = { system: { all: true } };
  }
  if ('user' in a.actor) {
    const u = names?.users.get(a.actor.user);
    out['user'] = { id: a.actor.user, ...(names ? { name: u?.name ?? '', domain: domainOf(u?.domain_id ?? '') } : {}) };
  } else {
    const g = names?.groups.get(a.actor.group);
    out['group'] = { id: a.actor.group, ...(names ? { name: g?.name ?? '', domain: domainOf(g?.domain_id ?? '') } : {}) };
  }
  return out;
}
