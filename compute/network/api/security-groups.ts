import { type AttributeMap, parseBody, stringOf, toBoolean } from '../attributes.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { NeutronError, PolicyNotAuthorized, SecurityGroupCannotRemoveDefault, SecurityGroupCannotUpdateDefault, SecurityGroupInUse, SecurityGroupNotFound } from '../errors.ts';
import type { ApiResource } from '../listing.ts';
import { isOwner, owningProject } from '../policy.ts';
import { enforceQuota } from '../quota-check.ts';
import type { PortRecord, SecurityGroupRecord, SecurityGroupRuleRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { ruleView } from './security-group-rules.ts';

const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  description: { post: true, put: true, validate: stringOf(255) },
  stateful: { post: true, put: true, convert: toBoolean },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
  // Set through the `/tags` sub-resource (api/tags.ts), never in the body.
  tags: { post: false, put: false },
};

/** A project's default group: `default-security-groups/<project>` names it once made. */
interface DefaultGroupClaim {
  readonly security_group_id: string;
}

function rule(deps: NetworkDeps, group: SecurityGroupRecord, direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6', remoteGroup: string | null): SecurityGroupRuleRecord {
  const now = timestamp(deps.clock);
  return {
    id: newId(),
    project_id: group.project_id,
    security_group_id: group.id,
    direction,
    ethertype,
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: remoteGroup,
    remote_address_group_id: null,
    description: '',
    tags: [],
    created_at: now,
    updated_at: now,
    revision_number: 0,
  };
}

/**
 * Makes a group and its template rules (Neutron's default rule templates): every group lets
 * all IPv4 and IPv6 out; the default group also lets in what comes from its own members.
 */
async function createGroup(deps: NetworkDeps, group: SecurityGroupRecord, isDefault: boolean): Promise<SecurityGroupRuleRecord[]> {
  const rules = (['IPv4', 'IPv6'] as const).flatMap((eth) => [rule(deps, group, 'egress', eth, null), ...(isDefault ? [rule(deps, group, 'ingress', eth, group.id)] : [])]);
  // The rules first: a group seen without its rules would let nothing out.
  for (const r of rules) await deps.store.create('security-group-rules', r.id, r);
  await deps.store.create('security-groups', group.id, group);
  return rules;
}

/**
 * The project's `default` group, made on first need (a network, port or group list or create of
 * the project) exactly once: the group is claimed by a create-if-absent record, and a loser
 * of a concurrent first need uses the winner's.
 */
export async function ensureDefaultSecurityGroup(deps: NetworkDeps, projectId: string): Promise<string> {
  const existing = await deps.store.get<DefaultGroupClaim>('default-security-groups', projectId);
  if (existing) return existing.security_group_id;
  const now = timestamp(deps.clock);
  const group: SecurityGroupRecord = { id: newId(), project_id: projectId, name: 'default', description: 'Default security group', stateful: true, tags: [], created_at: now, updated_at: now, revision_number: 1 };
  if (!(await deps.store.claim('default-security-groups', projectId, { security_group_id: group.id }))) {
    return ((await deps.store.get<DefaultGroupClaim>('default-security-groups', projectId)) as DefaultGroupClaim).security_group_id;
  }
  await createGroup(deps, group, true);
  return group.id;
}

export function groupView(group: SecurityGroupRecord, rules: readonly SecurityGroupRuleRecord[]): ApiResource {
  return {
    id: group.id,
    name: group.name,
    stateful: group.stateful,
    tenant_id: group.project_id,
    project_id: group.project_id,
    description: group.description,
    security_group_rules: rules.filter((r) => r.security_group_id === group.id).map(ruleView),
    shared: false,
    tags: group.tags,
    created_at: group.created_at,
    updated_at: group.updated_at,
    revision_number: group.revision_number,
  };
}

export function securityGroupRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const visible = async (req: Parameters<NetworkRoute['handler']>[0]): Promise<SecurityGroupRecord> => {
    const id = req.params.id as string;
    const group = await store.get<SecurityGroupRecord>('security-groups', id);
    if (!group || !isOwner(ctxOf(req), group.project_id)) throw new SecurityGroupNotFound(id);
    return group;
  };
  const isDefaultGroup = async (group: SecurityGroupRecord) => (await store.get<DefaultGroupClaim>('default-security-groups', group.project_id))?.security_group_id === group.id;
  return [
    {
      method: 'GET',
      path: '/v2.0/security-groups',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const asked = req.query.get('project_id') ?? req.query.get('tenant_id') ?? ctx.projectId;
        if (asked !== undefined && (ctx.isAdmin || asked === ctx.projectId)) await ensureDefaultSecurityGroup(deps, asked);
        const [groups, rules] = await Promise.all([store.scan<SecurityGroupRecord>('security-groups'), store.scan<SecurityGroupRuleRecord>('security-group-rules')]);
        return listResponse(req, 'security_groups', groups.filter((g) => isOwner(ctx, g.project_id)).map((g) => groupView(g, rules)), ['stateful']);
      },
    },
    {
      method: 'POST',
      path: '/v2.0/security-groups',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const fields = parseBody(req.body, 'security_group', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, fields);
        if (fields.name === 'default') throw new NeutronError('SecurityGroupDefaultAlreadyExists', 'Conflict', 'Default security group already exists.');
        await ensureDefaultSecurityGroup(deps, projectId);
        await enforceQuota(deps, projectId, 'security_group');
        const now = timestamp(deps.clock);
        const group: SecurityGroupRecord = {
          id: newId(),
          project_id: projectId,
          name: (fields.name as string | undefined) ?? '',
          description: (fields.description as string | undefined) ?? '',
          stateful: (fields.stateful as boolean | undefined) ?? true,
          tags: [],
          created_at: now,
          updated_at: now,
          revision_number: 1,
        };
        const rules = await createGroup(deps, group, false);
        return showResponse(req, 'security_group', groupView(group, rules), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/security-groups/{id}',
      auth: 'token',
      handler: async (req) => showResponse(req, 'security_group', groupView(await visible(req), await store.scan<SecurityGroupRuleRecord>('security-group-rules'))),
    },
    {
      method: 'PUT',
      path: '/v2.0/security-groups/{id}',
      auth: 'token',
      handler: async (req) => {
        const fields = parseBody(req.body, 'security_group', ATTRIBUTES, 'update');
        const found = await visible(req);
        if (fields.name !== undefined && fields.name !== 'default' && (await isDefaultGroup(found))) throw new SecurityGroupCannotUpdateDefault();
        const updated = await store.update<SecurityGroupRecord>('security-groups', found.id, (g) => ({ ...g, ...fields, updated_at: timestamp(deps.clock), revision_number: g.revision_number + 1 }) as SecurityGroupRecord);
        if (!updated) throw new SecurityGroupNotFound(found.id);
        return showResponse(req, 'security_group', groupView(updated, await store.scan<SecurityGroupRuleRecord>('security-group-rules')));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/security-groups/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const group = await visible(req);
        if ((await isDefaultGroup(group)) && !ctx.isAdmin) throw new SecurityGroupCannotRemoveDefault();
        if ((await store.scan<PortRecord>('ports')).some((p) => p.security_groups.includes(group.id))) throw new SecurityGroupInUse(group.id);
        if (!isOwner(ctx, group.project_id)) throw new PolicyNotAuthorized('rule:delete_security_group');
        await store.delete('security-groups', group.id);
        for (const r of (await store.scan<SecurityGroupRuleRecord>('security-group-rules')).filter((x) => x.security_group_id === group.id)) await store.delete('security-group-rules', r.id);
        if (await isDefaultGroup(group)) await store.delete('default-security-groups', group.project_id);
        return NO_CONTENT;
      },
    },
  ];
}
