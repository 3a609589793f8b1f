import { deleteGroup } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, notFoundMessage, validationError } from '../errors.ts';
import { callerDomain, mustGet, newId } from '../lookup.ts';
import { requireAdmin } from '../policy.ts';
import { type DomainRecord, type GroupRecord, renderGroup, renderList, renderUser, type UserRecord } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, ID_STRING, NAME, optionalString, requiredString, section } from '../validation.ts';

const KNOWN = ['id', 'name', 'domain_id', 'description', 'links'];

/**
 * Groups (`/v3/groups`) and their members (`/v3/groups/{id}/users/{user_id}`). A membership is
 * two keys, `group-members/<group>/<user>` and `user-groups/<user>/<group>`: added in that
 * order and removed in the other, so a user never holds a group's roles without the group
 * listing them. Removing a member revokes their tokens (Keystone does the same).
 */
export function groupRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const taken = (name: string, domainId: string) => (): Error => conflict('group', `Duplicate entry found with name ${name} at domain ID ${domainId}.`);
  const member = async (groupId: string, userId: string): Promise<{ group: GroupRecord; user: UserRecord }> => ({
    group: await mustGet<GroupRecord>(store, T.groups, groupId, 'group'),
    user: await mustGet<UserRecord>(store, T.users, userId, 'user'),
  });
  const isMember = async (groupId: string, userId: string): Promise<boolean> => (await store.records.get(T.groupMembers, `${groupId}/${userId}`)) !== undefined;
  const notMember = (groupId: string, userId: string): Error => notFoundMessage(`User ${userId} is not a member of group ${groupId}.`);

  return [
    {
      method: 'POST',
      path: '/v3/groups',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_group');
        const body = section(req.body, 'group');
        const name = requiredString(body, 'name', { ...NAME, max: 64 });
        const domainId = optionalString(body, 'domain_id', ID_STRING) ?? callerDomain(req);
        if (!(await store.get<DomainRecord>(T.domains, domainId))) throw validationError(`Could not find domain: ${domainId}.`);
        const group: GroupRecord = { id: newId(), name, domain_id: domainId, description: optionalString(body, 'description', { nullable: true }) ?? '', extra: extraFields(body, KNOWN) };
        await store.createNamed(T.groups, T.groupNames, `${domainId}/${name}`, group, taken(name, domainId));
        return ok({ group: renderGroup(group, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/groups',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_groups');
        const name = req.query.get('name');
        const domainId = req.query.get('domain_id');
        const groups = (await store.scan<GroupRecord>(T.groups)).filter((g) => (name === null || g.name === name) && (domainId === null || g.domain_id === domainId));
        return ok(renderList('groups', groups.map((g) => renderGroup(g, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/groups/{group_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:get_group');
        return ok({ group: renderGroup(await mustGet<GroupRecord>(store, T.groups, req.params['group_id'] as string, 'group'), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/groups/{group_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_group');
        const id = req.params['group_id'] as string;
        const body = section(req.body, 'group');
        const name = optionalString(body, 'name', { ...NAME, max: 64 });
        const description = optionalString(body, 'description', { nullable: true });
        const before = await mustGet<GroupRecord>(store, T.groups, id, 'group');
        if (body['domain_id'] !== undefined && body['domain_id'] !== before.domain_id) throw validationError('Cannot change Domain ID');
        const updated = await store.update<GroupRecord>(
          T.groups,
          id,
          (g) => ({ ...g, ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}), extra: { ...g.extra, ...extraFields(body, KNOWN) } }),
          { nameType: T.groupNames, keyOf: (g) => `${g.domain_id}/${g.name}`, conflict: taken(name ?? '', before.domain_id) },
        );
        return ok({ group: renderGroup(updated ?? before, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/groups/{group_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_group');
        await deleteGroup(deps, await mustGet<GroupRecord>(store, T.groups, req.params['group_id'] as string, 'group'));
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v3/groups/{group_id}/users',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_users_in_group');
        const id = req.params['group_id'] as string;
        await mustGet<GroupRecord>(store, T.groups, id, 'group');
        const ids = (await store.keys(T.groupMembers, `${id}/`)).map((k) => k.slice(id.length + 1));
        const users = (await Promise.all(ids.map((u) => store.get<UserRecord>(T.users, u)))).filter((u): u is UserRecord => u !== undefined);
        return ok(renderList('users', users.map((u) => renderUser(u, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'PUT',
      path: '/v3/groups/{group_id}/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:add_user_to_group');
        const { group, user } = await member(req.params['group_id'] as string, req.params['user_id'] as string);
        await store.mark(T.groupMembers, `${group.id}/${user.id}`);
        await store.mark(T.userGroups, `${user.id}/${group.id}`);
        return NO_CONTENT;
      },
    },
    {
      method: 'HEAD',
      path: '/v3/groups/{group_id}/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:check_user_in_group');
        const { group, user } = await member(req.params['group_id'] as string, req.params['user_id'] as string);
        if (!(await isMember(group.id, user.id))) throw notMember(group.id, user.id);
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v3/groups/{group_id}/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:check_user_in_group');
        const { group, user } = await member(req.params['group_id'] as string, req.params['user_id'] as string);
        if (!(await isMember(group.id, user.id))) throw notMember(group.id, user.id);
        return NO_CONTENT;
      },
    },
    {
      method: 'DELETE',
      path: '/v3/groups/{group_id}/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:remove_user_from_group');
        const { group, user } = await member(req.params['group_id'] as string, req.params['user_id'] as string);
        if (!(await isMember(group.id, user.id))) throw notMember(group.id, user.id);
        await deps.revocations.revoke({ user_id: user.id });
        await store.records.delete(T.userGroups, `${user.id}/${group.id}`);
        await store.records.delete(T.groupMembers, `${group.id}/${user.id}`);
        return NO_CONTENT;
      },
    },
  ];
}
