import { deleteUser } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, unauthorized, validationError } from '../errors.ts';
import { callerDomain, mustGet, newId } from '../lookup.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, verifyPassword } from '../password-hash.ts';
import { requireAdmin, requireAdminOrUser } from '../policy.ts';
import { type DomainRecord, type GroupRecord, renderGroup, renderList, renderProject, renderUser, type UserRecord } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, ID_STRING, NAME, optionalBoolean, optionalObject, optionalString, queryBoolean, requiredString, section } from '../validation.ts';
import { userProjects } from './auth.ts';

const KNOWN = ['id', 'name', 'domain_id', 'enabled', 'password', 'default_project_id', 'options', 'federated', 'links', 'password_expires_at'];

/**
 * Users (`/v3/users`): names unique within a domain, passwords stored as slow hashes and never
 * shown, the user's own password change (`POST /v3/users/{id}/password`), and what a user
 * belongs to (`/groups`, `/projects`). Disabling, deleting or a new password revokes the
 * user's tokens everywhere.
 */
export function userRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const taken = (name: string, domainId: string) => (): Error => conflict('user', `Duplicate entry found with name ${name} at domain ID ${domainId}.`);
  const password = (body: Record<string, unknown>): string | undefined => {
    const value = optionalString(body, 'password', { nullable: true });
    if (value !== undefined && value.length > MAX_PASSWORD_LENGTH) throw validationError(`Invalid input for field 'password': the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
    return value;
  };

  return [
    {
      method: 'POST',
      path: '/v3/users',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_user');
        const body = section(req.body, 'user');
        const name = requiredString(body, 'name', NAME);
        const domainId = optionalString(body, 'domain_id', ID_STRING) ?? callerDomain(req);
        const defaultProject = optionalString(body, 'default_project_id', { ...ID_STRING, nullable: true });
        const secret = password(body);
        if (!(await store.get<DomainRecord>(T.domains, domainId))) throw validationError(`Could not find domain: ${domainId}.`);
        const user: UserRecord = {
          id: newId(),
          name,
          domain_id: domainId,
          enabled: optionalBoolean(body, 'enabled') ?? true,
          ...(defaultProject !== undefined ? { default_project_id: defaultProject } : {}),
          ...(secret !== undefined ? { password_hash: await hashPassword(secret, deps.passwordHashRounds) } : {}),
          options: optionalObject(body, 'options') ?? {},
          extra: extraFields(body, KNOWN),
        };
        await store.createNamed(T.users, T.userNames, `${domainId}/${name}`, user, taken(name, domainId));
        return ok({ user: renderUser(user, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/users',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_users');
        const q = req.query;
        const name = q.get('name');
        const domainId = q.get('domain_id');
        let users: UserRecord[];
        if (name !== null && domainId !== null) users = [await store.byName<UserRecord>(T.users, T.userNames, `${domainId}/${name}`)].filter((u): u is UserRecord => u !== undefined);
        else users = await store.scan<UserRecord>(T.users);
        users = users.filter((u) => (name === null || u.name === name) && (domainId === null || u.domain_id === domainId) && (q.get('enabled') === null || u.enabled === queryBoolean(q.get('enabled') as string)));
        return ok(renderList('users', users.map((u) => renderUser(u, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:get_user', id);
        return ok({ user: renderUser(await mustGet<UserRecord>(store, T.users, id, 'user'), req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_user');
        const id = req.params['user_id'] as string;
        const body = section(req.body, 'user');
        const name = optionalString(body, 'name', NAME);
        const enabled = optionalBoolean(body, 'enabled');
        const secret = password(body);
        const defaultProject = optionalString(body, 'default_project_id', { ...ID_STRING, nullable: true });
        const options = optionalObject(body, 'options');
        const before = await mustGet<UserRecord>(store, T.users, id, 'user');
        if (body['domain_id'] !== undefined && body['domain_id'] !== before.domain_id) throw validationError('Cannot change Domain ID');
        const hash = secret !== undefined ? await hashPassword(secret, deps.passwordHashRounds) : undefined;
        if ((enabled === false && before.enabled) || hash !== undefined) await deps.revocations.revoke({ user_id: id });
        const updated = await store.update<UserRecord>(
          T.users,
          id,
          (u) => {
            const next: UserRecord = {
              ...u,
              ...(name !== undefined ? { name } : {}),
              ...(enabled !== undefined ? { enabled } : {}),
              ...(hash !== undefined ? { password_hash: hash } : {}),
              ...(options !== undefined ? { options: { ...u.options, ...options } } : {}),
              extra: { ...u.extra, ...extraFields(body, KNOWN) },
            };
            if (body['default_project_id'] === null) {
              const { default_project_id: _, ...rest } = next;
              return rest;
            }
            return defaultProject !== undefined ? { ...next, default_project_id: defaultProject } : next;
          },
          { nameType: T.userNames, keyOf: (u) => `${u.domain_id}/${u.name}`, conflict: taken(name ?? '', before.domain_id) },
        );
        return ok({ user: renderUser(updated ?? before, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/users/{user_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_user');
        await deleteUser(deps, await mustGet<UserRecord>(store, T.users, req.params['user_id'] as string, 'user'));
        return NO_CONTENT;
      },
    },
    {
      // The user's own change: proven by the original password (Keystone asks no token here).
      method: 'POST',
      path: '/v3/users/{user_id}/password',
      auth: 'optional',
      handler: async (req) => {
        const id = req.params['user_id'] as string;
        const body = section(req.body, 'user');
        const original = requiredString(body, 'original_password');
        const secret = requiredString(body, 'password');
        if (secret.length > MAX_PASSWORD_LENGTH) throw validationError(`Invalid input for field 'password': the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
        const user = await store.get<UserRecord>(T.users, id);
        if (!user?.enabled || !user.password_hash || !(await verifyPassword(original, user.password_hash))) throw unauthorized();
        const hash = await hashPassword(secret, deps.passwordHashRounds);
        await deps.revocations.revoke({ user_id: id });
        await store.update<UserRecord>(T.users, id, (u) => ({ ...u, password_hash: hash }));
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v3/users/{user_id}/groups',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:list_groups_for_user', id);
        await mustGet<UserRecord>(store, T.users, id, 'user');
        const groups = await Promise.all((await deps.resolver.userGroups(id)).map((g) => store.get<GroupRecord>(T.groups, g)));
        const shown = groups.filter((g): g is GroupRecord => g !== undefined).map((g) => ({ ...renderGroup(g, req.base), membership_expires_at: null }));
        return ok(renderList('groups', shown, selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/users/{user_id}/projects',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:list_user_projects', id);
        await mustGet<UserRecord>(store, T.users, id, 'user');
        const q = req.query;
        const projects = (await userProjects(deps, id)).filter((p) => (q.get('enabled') === null || p.enabled === queryBoolean(q.get('enabled') as string)) && (q.get('name') === null || p.name === q.get('name')));
        return ok(renderList('projects', projects.map((p) => renderProject(p, req.base)), selfUrl(req)));
      },
    },
  ];
}
