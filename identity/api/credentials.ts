import { createHash } from 'node:crypto';
import { RecordExistsError } from '../../client/record-store.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, forbiddenAction, notFound, validationError } from '../errors.ts';
import { mustGet, newId } from '../lookup.ts';
import { caller, isAdmin, requireAdminOrUser } from '../policy.ts';
import { type CredentialRecord, type ProjectRecord, renderCredential, renderList, type UserRecord } from '../records.ts';
import { NO_CONTENT, ok, type IdentityRequest, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, type Json, optionalString, requiredString, section } from '../validation.ts';

const KNOWN = ['id', 'user_id', 'project_id', 'type', 'blob', 'links'];

/**
 * Credentials (`/v3/credentials`) and their EC2 view (`/v3/users/{user_id}/credentials/OS-EC2`,
 * what `openstack ec2 credentials` uses). An EC2 credential's id is the SHA-256 of its access
 * key, as Keystone makes it, so an access key exists once. Users see and manage their own;
 * admins everyone's.
 */
export function credentialRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const ec2Id = (access: string): string => createHash('sha256').update(access).digest('hex');
  const ownedOrAdmin = (req: IdentityRequest, c: CredentialRecord, action: string): void => {
    const token = caller(req);
    if (!isAdmin(token) && token.userId !== c.user_id) throw forbiddenAction(action);
  };
  const ec2View = (c: CredentialRecord, base: string): Json => {
    const blob = parseBlob(c.blob) ?? {};
    return { user_id: c.user_id, tenant_id: c.project_id, access: blob['access'], secret: blob['secret'], trust_id: blob['trust_id'] ?? null, links: { self: `${base}/v3/users/${c.user_id}/credentials/OS-EC2/${String(blob['access'])}` } };
  };
  const userEc2 = async (userId: string): Promise<CredentialRecord[]> => (await store.scan<CredentialRecord>(T.credentials)).filter((c) => c.user_id === userId && c.type === 'ec2');
  const ec2ByAccess = async (userId: string, access: string): Promise<CredentialRecord> => {
    const c = await store.get<CredentialRecord>(T.credentials, ec2Id(access));
    if (!c || c.user_id !== userId || c.type !== 'ec2') throw notFound('credential', access);
    return c;
  };
  const store1 = async (c: CredentialRecord): Promise<void> => {
    try {
      await store.create(T.credentials, c);
    } catch (err) {
      if (err instanceof RecordExistsError) throw conflict('credential', `Duplicate ID, ${c.id}.`);
      throw err;
    }
  };

  return [
    {
      method: 'POST',
      path: '/v3/credentials',
      auth: 'token',
      handler: async (req) => {
        const body = section(req.body, 'credential');
        const type = requiredString(body, 'type');
        const userId = requiredString(body, 'user_id');
        const blob = requiredString(body, 'blob', { min: 0 });
        const projectId = optionalString(body, 'project_id', { nullable: true });
        requireAdminOrUser(req, 'identity:create_credential', userId);
        let id = newId();
        if (type === 'ec2') {
          if (projectId === undefined) throw validationError(`${JSON.stringify(body)} is not valid under any of the given schemas`);
          const access = parseBlob(blob)?.['access'];
          if (typeof access !== 'string') throw validationError('Invalid blob in credential');
          id = ec2Id(access);
        }
        await mustGet<UserRecord>(store, T.users, userId, 'user');
        const credential: CredentialRecord = { id, user_id: userId, project_id: projectId ?? null, type, blob, extra: extraFields(body, KNOWN) };
        await store1(credential);
        return ok({ credential: renderCredential(credential, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/credentials',
      auth: 'token',
      handler: async (req) => {
        const token = caller(req);
        const userId = req.query.get('user_id');
        const type = req.query.get('type');
        const all = await store.scan<CredentialRecord>(T.credentials);
        const shown = all.filter((c) => (isAdmin(token) || c.user_id === token.userId) && (userId === null || c.user_id === userId) && (type === null || c.type === type));
        return ok(renderList('credentials', shown.map((c) => renderCredential(c, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/credentials/{credential_id}',
      auth: 'token',
      handler: async (req) => {
        const c = await mustGet<CredentialRecord>(store, T.credentials, req.params['credential_id'] as string, 'credential');
        ownedOrAdmin(req, c, 'identity:get_credential');
        return ok({ credential: renderCredential(c, req.base) });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/credentials/{credential_id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['credential_id'] as string;
        const body = section(req.body, 'credential');
        const blob = optionalString(body, 'blob', { min: 0 });
        const type = optionalString(body, 'type');
        const projectId = optionalString(body, 'project_id', { nullable: true });
        const before = await mustGet<CredentialRecord>(store, T.credentials, id, 'credential');
        ownedOrAdmin(req, before, 'identity:update_credential');
        if (body['user_id'] !== undefined && body['user_id'] !== before.user_id && !isAdmin(caller(req))) throw forbiddenAction('identity:update_credential');
        if (before.type === 'ec2' && blob !== undefined && parseBlob(blob)?.['access'] !== parseBlob(before.blob)?.['access']) throw validationError('Credential ID does not match the new blob\'s access key');
        const updated = await store.update<CredentialRecord>(T.credentials, id, (c) => ({
          ...c,
          ...(blob !== undefined ? { blob } : {}),
          ...(type !== undefined ? { type } : {}),
          ...(projectId !== undefined ? { project_id: projectId } : {}),
          ...(typeof body['user_id'] === 'string' ? { user_id: body['user_id'] } : {}),
          extra: { ...c.extra, ...extraFields(body, KNOWN) },
        }));
        return ok({ credential: renderCredential(updated as CredentialRecord, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/credentials/{credential_id}',
      auth: 'token',
      handler: async (req) => {
        const c = await mustGet<CredentialRecord>(store, T.credentials, req.params['credential_id'] as string, 'credential');
        ownedOrAdmin(req, c, 'identity:delete_credential');
        await store.records.delete(T.credentials, c.id);
        return NO_CONTENT;
      },
    },
    {
      method: 'POST',
      path: '/v3/users/{user_id}/credentials/OS-EC2',
      auth: 'token',
      handler: async (req) => {
        const userId = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:ec2_create_credential', userId);
        const body = req.body as Json | undefined;
        const tenant = body?.['tenant_id'];
        if (typeof tenant !== 'string') throw validationError("'tenant_id' is a required property");
        await mustGet<UserRecord>(store, T.users, userId, 'user');
        await mustGet<ProjectRecord>(store, T.projects, tenant, 'project');
        const access = newId();
        const credential: CredentialRecord = { id: ec2Id(access), user_id: userId, project_id: tenant, type: 'ec2', blob: JSON.stringify({ access, secret: newId(), trust_id: null }), extra: {} };
        await store1(credential);
        return ok({ credential: ec2View(credential, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/users/{user_id}/credentials/OS-EC2',
      auth: 'token',
      handler: async (req) => {
        const userId = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:ec2_list_credentials', userId);
        return ok(renderList('credentials', (await userEc2(userId)).map((c) => ec2View(c, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/users/{user_id}/credentials/OS-EC2/{access}',
      auth: 'token',
      handler: async (req) => {
        const userId = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:ec2_get_credential', userId);
        return ok({ credential: ec2View(await ec2ByAccess(userId, req.params['access'] as string), req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/users/{user_id}/credentials/OS-EC2/{access}',
      auth: 'token',
      handler: async (req) => {
        const userId = req.params['user_id'] as string;
        requireAdminOrUser(req, 'identity:ec2_delete_credential', userId);
        const c = await ec2ByAccess(userId, req.params['access'] as string);
        await store.records.delete(T.credentials, c.id);
        return NO_CONTENT;
      },
    },
  ];
}

function parseBlob(blob: string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(blob);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : undefined;
  } catch {
    return undefined;
  }
}
