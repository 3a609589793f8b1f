import { randomBytes } from 'node:crypto';
import type { IdentityDeps } from '../deps.ts';
import { conflict, forbiddenAction, notFound, validationError } from '../errors.ts';
import { newId } from '../lookup.ts';
import { hashPassword } from '../password-hash.ts';
import { caller, isAdmin, requireAdminOrUser } from '../policy.ts';
import { type ApplicationCredentialRecord, renderList, renderRole, type RoleRecord } from '../records.ts';
import { NO_CONTENT, ok, type IdentityRequest, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { isObject, type Json, NAME, optionalBoolean, optionalString, requiredString, section } from '../validation.ts';

/**
 * Application credentials (`/v3/users/{user_id}/application_credentials`): a user delegates
 * some of their roles on their token's project to a secret that authenticates alone
 * (`application_credential` method). The secret is shown once, at creation, and stored as a
 * slow hash; names are unique per user. Deleting one revokes its tokens.
 */
export function applicationCredentialRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const path = '/v3/users/{user_id}/application_credentials';

  const render = async (a: ApplicationCredentialRecord, base: string, roles?: Map<string, RoleRecord>): Promise<Json> => {
    const byId = roles ?? (await deps.resolver.roles());
    return {
      id: a.id,
      name: a.name,
      description: a.description,
      user_id: a.user_id,
      project_id: a.project_id,
      expires_at: a.expires_at,
      unrestricted: a.unrestricted,
      system: null,
      roles: a.role_ids.flatMap((id) => {
        const r = byId.get(id);
        if (!r) return [];
        const { links: _links, ...shown } = renderRole(r, base);
        return [shown];
      }),
      links: { self: `${base}/v3/application_credentials/${a.id}` },
    };
  };
  const owned = async (req: IdentityRequest, action: string): Promise<ApplicationCredentialRecord> => {
    const userId = req.params['user_id'] as string;
    requireAdminOrUser(req, action, userId);
    const id = req.params['application_credential_id'] as string;
    const found = await store.get<ApplicationCredentialRecord>(T.appCreds, id);
    if (!found || found.user_id !== userId) throw notFound('application credential', id);
    return found;
  };

  return [
    {
      method: 'POST',
      path,
      auth: 'token',
      handler: async (req) => {
        const token = caller(req);
        const userId = req.params['user_id'] as string;
        if (token.userId !== userId) throw forbiddenAction('identity:create_application_credential');
        if (token.scope.kind !== 'project') throw validationError('An application credential must be created with a project-scoped token.');
        if (token.applicationCredentialId !== undefined) throw forbiddenAction('identity:create_application_credential');
        const body = section(req.body, 'application_credential');
        const name = requiredString(body, 'name', NAME);
        const secret = optionalString(body, 'secret', { min: 1, nullable: true }) ?? randomBytes(64).toString('base64url');
        const expiresAt = optionalString(body, 'expires_at', { nullable: true });
        if (expiresAt !== undefined && Number.isNaN(Date.parse(expiresAt))) throw validationError(`Invalid input for field 'expires_at': '${expiresAt}' is not a 'date-time'`);
        const roleIds = await delegatedRoles(body['roles'], token.roles);
        const record: ApplicationCredentialRecord = {
          id: newId(),
          name,
          user_id: userId,
          project_id: token.scope.projectId,
          description: optionalString(body, 'description', { nullable: true }) ?? null,
          expires_at: expiresAt !== undefined ? new Date(expiresAt).toISOString() : null,
          unrestricted: optionalBoolean(body, 'unrestricted') === true ? true : null,
          secret_hash: await hashPassword(secret, deps.passwordHashRounds),
          role_ids: roleIds,
        };
        await store.createNamed(T.appCreds, T.appCredNames, `${userId}/${name}`, record, () => conflict('application_credential', `Duplicate entry found with name ${name}.`));
        return ok({ application_credential: { ...(await render(record, req.base)), secret } }, 201);
      },
    },
    {
      method: 'GET',
      path,
      auth: 'token',
      handler: async (req) => {
        const userId = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:list_application_credentials', userId);
        const name = req.query.get('name');
        const keys = name !== null ? [`${userId}/${name}`] : await store.keys(T.appCredNames, `${userId}/`);
        const found = (await Promise.all(keys.map((k) => store.byName<ApplicationCredentialRecord>(T.appCreds, T.appCredNames, k)))).filter((a): a is ApplicationCredentialRecord => a !== undefined);
        const roles = await deps.resolver.roles();
        return ok(renderList('application_credentials', await Promise.all(found.map((a) => render(a, req.base, roles))), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: `${path}/{application_credential_id}`,
      auth: 'token',
      handler: async (req) => ok({ application_credential: await render(await owned(req, 'identity:get_application_credential'), req.base) }),
    },
    {
      method: 'DELETE',
      path: `${path}/{application_credential_id}`,
      auth: 'token',
      handler: async (req) => {
        const found = await owned(req, 'identity:delete_application_credential');
        const token = caller(req);
        // A token made from an application credential may not remove credentials (Keystone's rule).
        if (token.applicationCredentialId !== undefined && !isAdmin(token)) throw forbiddenAction('identity:delete_application_credential');
        await deps.revocations.revoke({ application_credential_id: found.id });
        await store.deleteNamed(T.appCreds, T.appCredNames, `${found.user_id}/${found.name}`, found.id);
        return NO_CONTENT;
      },
    },
  ];

  /** The roles asked for (by id or name), each one the token has; all of the token's when none are named. */
  async function delegatedRoles(asked: unknown, held: readonly { id: string; name: string }[]): Promise<string[]> {
    if (asked === undefined || asked === null) return held.map((r) => r.id);
    if (!Array.isArray(asked)) throw validationError("Invalid input for field 'roles': not of type 'array'");
    const ids: string[] = [];
    for (const spec of asked) {
      if (!isObject(spec)) throw validationError("Invalid input for field 'roles': each role is an object with an id or a name");
      const match = held.find((r) => (typeof spec['id'] === 'string' ? r.id === spec['id'] : r.name === spec['name']));
      if (!match) throw notFound('role', String(spec['id'] ?? spec['name']));
      if (!ids.includes(match.id)) ids.push(match.id);
    }
    return ids;
  }
}
