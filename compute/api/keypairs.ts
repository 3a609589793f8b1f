import { randomInt } from 'node:crypto';
import { RecordExistsError } from '../../client/record-store.ts';
import { listAllKeys } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, conflict, notFound, overQuota, policyForbidden } from '../errors.ts';
import { quotaLimits } from '../quota.ts';
import { type KeypairRecord, T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, contextOf, NO_CONTENT, ACCEPTED, ok } from '../request.ts';
import { generateSshKeyPair, InvalidPublicKey, sshFingerprint } from '../ssh-key.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember, fieldError, pyRepr, queryError } from '../validation.ts';
import { MAX_LIMIT } from './flavors.ts';
import { nextLink } from './next-link.ts';

/** The user a request is about: the caller, or (2.10, admins) `user_id`. */
function targetUser(req: ComputeRequest, rule: string, given?: unknown): string {
  const c = contextOf(req);
  const asked = given ?? (atLeast(req.version, '2.10') ? req.query.get('user_id') ?? undefined : undefined);
  if (asked === undefined || asked === null || asked === c.userId) return c.userId;
  if (typeof asked !== 'string') throw fieldError('user_id', asked, `${pyRepr(asked)} is not of type 'string'`);
  if (!c.isAdmin) throw policyForbidden(rule);
  return asked;
}

/**
 * os-keypairs: a user's SSH keys, by name. Import (`public_key`) or, before 2.92, generation
 * (the private key is answered once and never stored); `type` from 2.2, 201 from 2.2, other
 * users' keys for admins from 2.10, paging from 2.35. Deleting answers 202 before 2.2, 204 after.
 */
export function keypairRoutes(store: ComputeStore): ComputeRoute[] {
  const view = (req: ComputeRequest, k: KeypairRecord, attrs: readonly string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const full: Record<string, unknown> = { ...k, deleted: false, deleted_at: null, updated_at: null };
    for (const a of attrs) out[a] = full[a];
    if (atLeast(req.version, '2.2')) out['type'] = k.type;
    return out;
  };
  return [
    {
      method: 'GET',
      path: '/v2.1/os-keypairs',
      auth: 'token',
      handler: async (req) => {
        const user = targetUser(req, 'os_compute_api:os-keypairs:index');
        let keys = await store.scan<KeypairRecord>(T.keypairs, `${user}/`);
        const paged = atLeast(req.version, '2.35');
        let limit = MAX_LIMIT;
        if (paged) {
          const marker = req.query.get('marker');
          if (marker !== null) {
            const at = keys.findIndex((k) => k.name === marker);
            if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
            keys = keys.slice(at + 1);
          }
          const l = req.query.get('limit');
          if (l !== null) {
            if (!/^[0-9]+$/.test(l)) throw queryError('limit', l, `${pyRepr(l)} does not match '^[0-9]*$'`);
            limit = Math.min(MAX_LIMIT, Number(l));
          }
        }
        const page = keys.slice(0, limit);
        const body: Record<string, unknown> = { keypairs: page.map((k) => ({ keypair: view(req, k, ['name', 'public_key', 'fingerprint']) })) };
        if (paged && page.length > 0 && page.length === limit) {
          body['keypairs_links'] = [nextLink(req, 'os-keypairs', (page.at(-1) as KeypairRecord).name)];
        }
        return ok(body);
      },
    },
    {
      method: 'POST',
      path: '/v2.1/os-keypairs',
      auth: 'token',
      handler: async (req) => {
        const allowed = ['name', 'public_key', ...(atLeast(req.version, '2.2') ? ['type'] : []), ...(atLeast(req.version, '2.10') ? ['user_id'] : [])];
        const required = atLeast(req.version, '2.92') ? ['name', 'public_key'] : ['name'];
        const k = bodyMember(req.body, 'keypair', allowed, required);
        const name = k['name'];
        if (typeof name !== 'string') throw fieldError('name', name, `${pyRepr(name)} is not of type 'string'`);
        const namePattern = atLeast(req.version, '2.92') ? /^[a-zA-Z0-9 @._-]+$/ : /^[\p{L}\p{N} _@.-]+$/u;
        if (name.length === 0 || name.length > 255 || !namePattern.test(name) || /^\s|\s$/.test(name)) throw fieldError('name', name, `${pyRepr(name)} is not a 'keypair_name'`);
        const type = k['type'] ?? 'ssh';
        if (type !== 'ssh' && type !== 'x509') throw fieldError('type', type, `${pyRepr(type)} is not one of ['ssh', 'x509']`);
        if (type === 'x509') throw badRequest('Keypair data is invalid: x509 keys are not supported here');
        const userId = targetUser(req, 'os_compute_api:os-keypairs:create', k['user_id']);
        let count = 0;
        for await (const _ of listAllKeys(store.records, T.keypairs, `${userId}/`)) count++;
        if (count >= (await quotaLimits(store, contextOf(req).projectId)).key_pairs) throw overQuota('Quota exceeded, too many key pairs.');
        let publicKey: string;
        let fingerprint: string;
        let privateKey: string | undefined;
        if (k['public_key'] !== undefined) {
          if (typeof k['public_key'] !== 'string') throw fieldError('public_key', k['public_key'], `${pyRepr(k['public_key'])} is not of type 'string'`);
          publicKey = k['public_key'];
          try {
            fingerprint = sshFingerprint(publicKey);
          } catch (err) {
            if (err instanceof InvalidPublicKey) throw badRequest('Keypair data is invalid: failed to generate fingerprint');
            throw err;
          }
        } else {
          ({ privateKey, publicKey, fingerprint } = generateSshKeyPair());
        }
        const record: KeypairRecord = { id: randomInt(1, 2 ** 31 - 1), name, user_id: userId, public_key: publicKey, fingerprint, type, created_at: store.isoMicros() };
        try {
          await store.records.create(T.keypairs, `${userId}/${name}`, record);
        } catch (err) {
          if (err instanceof RecordExistsError) throw conflict(`Key pair '${name}' already exists.`);
          throw err;
        }
        const body = view(req, record, ['name', 'public_key', 'fingerprint', 'user_id']);
        if (privateKey !== undefined) body['private_key'] = privateKey;
        return ok({ keypair: body }, atLeast(req.version, '2.2') ? 201 : 200);
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-keypairs/{name}',
      auth: 'token',
      handler: async (req) => {
        const user = targetUser(req, 'os_compute_api:os-keypairs:show');
        const name = req.params['name'] as string;
        const k = await store.get<KeypairRecord>(T.keypairs, `${user}/${name}`);
        if (!k) throw notFound(`Keypair ${name} not found for user ${user}`);
        return ok({ keypair: view(req, k, ['name', 'public_key', 'fingerprint', 'user_id', 'created_at', 'deleted', 'deleted_at', 'id', 'updated_at']) });
      },
    },
    {
      method: 'DELETE',
      path: '/v2.1/os-keypairs/{name}',
      auth: 'token',
      handler: async (req) => {
        const user = targetUser(req, 'os_compute_api:os-keypairs:delete');
        const name = req.params['name'] as string;
        if (!(await store.records.delete(T.keypairs, `${user}/${name}`))) throw notFound(`Keypair ${name} not found for user ${user}`);
        return atLeast(req.version, '2.2') ? NO_CONTENT : ACCEPTED;
      },
    },
  ];
}
