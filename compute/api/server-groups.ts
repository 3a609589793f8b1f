import { randomUUID } from 'node:crypto';
import { atLeast } from '../api-version.ts';
import { badRequest, notFound, overQuota, policyForbidden } from '../errors.ts';
import { quotaLimits } from '../quota.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeRoute, contextOf, NO_CONTENT, ok } from '../request.ts';
import type { ServerGroupRecord } from '../server-group-record.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember, checkMembers, fieldError, integerParam, isObject, nameParam, pyRepr, queryError } from '../validation.ts';
import { MAX_LIMIT } from './flavors.ts';

const POLICIES_2_1 = ['anti-affinity', 'affinity'] as const;
const POLICIES_2_15 = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] as const;

/** nova/api/openstack/compute/server_groups.py `_format_server_group`. */
function view(req: ComputeRequest, g: ServerGroupRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.uuid, name: g.name };
  if (atLeast(req.version, '2.64')) {
    out['policy'] = g.policy;
    out['rules'] = g.rules;
  } else {
    out['policies'] = [g.policy];
    out['metadata'] = {};
  }
  out['members'] = g.members;
  if (atLeast(req.version, '2.13')) {
    out['project_id'] = g.project_id;
    out['user_id'] = g.user_id;
  }
  return out;
}

/** The body's policy (`policies: [one]` before 2.64, `policy` and `rules` from it), as Nova's schemas check it. */
function policyOf(req: ComputeRequest, sg: Record<string, unknown>): Pick<ServerGroupRecord, 'policy' | 'rules'> {
  const enumText = (list: readonly string[]) => `is not one of ${pyRepr([...list])}`;
  if (atLeast(req.version, '2.64')) {
    const policy = sg['policy'];
    if (typeof policy !== 'string' || !(POLICIES_2_15 as readonly string[]).includes(policy)) throw fieldError('policy', policy, `${pyRepr(policy)} ${enumText(POLICIES_2_15)}`);
    const rules = sg['rules'] ?? {};
    if (!isObject(rules)) throw fieldError('rules', rules, `${pyRepr(rules)} is not of type 'object'`);
    checkMembers('rules', rules, ['max_server_per_host'], []);
    const max = rules['max_server_per_host'] === undefined ? undefined : integerParam('max_server_per_host', rules['max_server_per_host'], 1);
    if (policy !== 'anti-affinity' && Object.keys(rules).length > 0) throw badRequest('Only anti-affinity policy supports rules.');
    return { policy: policy as ServerGroupRecord['policy'], rules: max === undefined ? {} : { max_server_per_host: max } };
  }
  const allowed = atLeast(req.version, '2.15') ? POLICIES_2_15 : POLICIES_2_1;
  const policies = sg['policies'];
  if (!Array.isArray(policies)) throw fieldError('policies', policies, `${pyRepr(policies)} is not of type 'array'`);
  if (policies.length === 0) throw fieldError('policies', policies, '[] should be non-empty');
  if (policies.length > 1) throw fieldError('policies', policies, `${pyRepr(policies)} is too long`);
  const [policy] = policies as unknown[];
  if (typeof policy !== 'string' || !(allowed as readonly string[]).includes(policy)) throw fieldError('0', policy, `${pyRepr(policy)} ${enumText(allowed)}`);
  return { policy: policy as ServerGroupRecord['policy'], rules: {} };
}

/** Nova's `limited`: `offset` and `limit` (at most `osapi_max_limit`) over the list. */
export function limited<T>(req: ComputeRequest, items: readonly T[]): readonly T[] {
  const number = (name: string): number | undefined => {
    const v = req.query.get(name);
    if (v === null) return undefined;
    if (!/^[0-9]+$/.test(v)) throw queryError(name, v, `${pyRepr(v)} does not match '^[0-9]*$'`);
    return Number(v);
  };
  const offset = number('offset') ?? 0;
  const limit = Math.min(number('limit') ?? MAX_LIMIT, MAX_LIMIT);
  return items.slice(offset, offset + limit);
}

/**
 * os-server-groups: create (the policy as each microversion spells it; `server_groups` quota),
 * list (the caller's project, every project for admins with `all_projects`; offset and limit),
 * show and delete (the group's project or an admin; others get Nova's policy 403). Members
 * are the servers that booted with the `group` hint and are not deleted.
 */
export function serverGroupRoutes(store: ComputeStore): ComputeRoute[] {
  const owned = async (req: ComputeRequest, action: string): Promise<ServerGroupRecord> => {
    const c = contextOf(req);
    const id = req.params['group_id'] as string;
    const g = await store.get<ServerGroupRecord>(T.serverGroups, id);
    if (!g) throw notFound(`Instance group ${id} could not be found.`);
    if (!c.isAdmin && g.project_id !== c.projectId) throw policyForbidden(`os_compute_api:os-server-groups:${action}`);
    return g;
  };
  return [
    {
      method: 'POST',
      path: '/v2.1/os-server-groups',
      auth: 'token',
      handler: async (req) => {
        const c = contextOf(req);
        const allowed = atLeast(req.version, '2.64') ? ['name', 'policy', 'rules'] : ['name', 'policies'];
        const sg = bodyMember(req.body, 'server_group', allowed, atLeast(req.version, '2.64') ? ['name', 'policy'] : ['name', 'policies']);
        const name = nameParam('name', sg['name']);
        const { policy, rules } = policyOf(req, sg);
        const limit = (await quotaLimits(store, c.projectId)).server_groups;
        const mine = async () => (await store.scan<ServerGroupRecord>(T.serverGroups)).filter((g) => g.project_id === c.projectId).length;
        if (limit >= 0 && (await mine()) + 1 > limit) throw overQuota('Quota exceeded, too many server groups.');
        const group: ServerGroupRecord = { uuid: randomUUID(), name, project_id: c.projectId, user_id: c.userId, policy, rules, members: [], created_at: store.isoMicros() };
        await store.records.create(T.serverGroups, group.uuid, group);
        // Nova's recheck_quota: two creates that both passed the first count, one of them is undone.
        if (limit >= 0 && (await mine()) > limit) {
          await store.records.delete(T.serverGroups, group.uuid);
          throw overQuota('Quota exceeded, too many server groups.');
        }
        return ok({ server_group: view(req, group) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-server-groups',
      auth: 'token',
      handler: async (req) => {
        const c = contextOf(req);
        const all = c.isAdmin && req.query.has('all_projects');
        const groups = (await store.scan<ServerGroupRecord>(T.serverGroups)).filter((g) => all || g.project_id === c.projectId).sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.uuid < b.uuid ? -1 : 1));
        return ok({ server_groups: limited(req, groups).map((g) => view(req, g)) });
      },
    },
    {
      method: 'GET',
      path: '/v2.1/os-server-groups/{group_id}',
      auth: 'token',
      handler: async (req) => ok({ server_group: view(req, await owned(req, 'show')) }),
    },
    {
      method: 'DELETE',
      path: '/v2.1/os-server-groups/{group_id}',
      auth: 'token',
      handler: async (req) => {
        const g = await owned(req, 'delete');
        await store.records.delete(T.serverGroups, g.uuid);
        return NO_CONTENT;
      },
    },
  ];
}
