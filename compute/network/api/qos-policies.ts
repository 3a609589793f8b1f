import { type AttributeMap, parseBody, stringOf, toBoolean } from '../attributes.ts';
import { type NetworkDeps, timestamp } from '../deps.ts';
import { QoSPolicyDefaultAlreadyExists, QosPolicyInUse, QosPolicyNotFound, RbacPolicyInUse } from '../errors.ts';
import type { NetworkContext } from '../context.ts';
import type { ApiResource } from '../listing.ts';
import { owningProject, requireAdmin } from '../policy.ts';
import { canSeeQosPolicy, defaultQosPolicyId, type QosDefaultClaim, sharedQosPolicy, visibleQosPolicy } from '../qos-policy-access.ts';
import { inlineRuleView } from '../qos-rules.ts';
import type { NetworkRecord, PortRecord, QosPolicyRecord } from '../records.ts';
import { ctxOf, NO_CONTENT, type NetworkRoute } from '../request.ts';
import type { NetworkStore } from '../store.ts';
import { listResponse, newId, showResponse } from './collection.ts';
import { sharedAccessInUse, sharedWildcard } from './rbac-policies.ts';

const ATTRIBUTES: AttributeMap = {
  name: { post: true, put: true, validate: stringOf(255) },
  description: { post: true, put: true, validate: stringOf(255) },
  shared: { post: true, put: true, convert: toBoolean },
  is_default: { post: true, put: true, convert: toBoolean },
  project_id: { post: true, put: false, validate: stringOf(255) },
  tenant_id: { post: true, put: false, validate: stringOf(255) },
};

/** A policy as `ctx` sees it (`shared`: with the caller's project, RBAC entries included). */
export function qosPolicyView(ctx: NetworkContext, policy: QosPolicyRecord, isDefault: boolean): ApiResource {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    shared: sharedQosPolicy(ctx, policy),
    is_default: isDefault,
    project_id: policy.project_id,
    tenant_id: policy.project_id,
    rules: policy.rules.map((r) => inlineRuleView(policy.id, r)),
    tags: policy.tags,
    created_at: policy.created_at,
    updated_at: policy.updated_at,
    revision_number: policy.revision_number,
  };
}

/**
 * Makes `policyId` its project's default (the qos-default extension): at most one per project,
 * a second is 409. A claim left by a deleted policy is taken over.
 * @throws {QoSPolicyDefaultAlreadyExists}
 */
async function setDefault(store: NetworkStore, projectId: string, policyId: string): Promise<void> {
  if (await store.claim('qos-default-policies', projectId, { qos_policy_id: policyId })) return;
  const current = await defaultQosPolicyId(store, projectId);
  if (current === policyId) return;
  if (current !== undefined) throw new QoSPolicyDefaultAlreadyExists(projectId);
  await store.put('qos-default-policies', projectId, { qos_policy_id: policyId });
}

async function unsetDefault(store: NetworkStore, projectId: string, policyId: string): Promise<void> {
  if ((await store.get<QosDefaultClaim>('qos-default-policies', projectId))?.qos_policy_id === policyId) await store.delete('qos-default-policies', projectId);
}

/**
 * `/v2.0/qos/policies` (`openstack network qos policy create/list/show/set/delete`), as Neutron's
 * QoS plugin with its pre-Wallaby default policies: anyone sees their project's policies and
 * shared ones; only admins create, change and delete them (and their rules). `is_default` marks
 * the one policy a project's new networks get when they name none. A policy bound to a port or
 * network cannot be deleted (409 QosPolicyInUse).
 */
export function qosPolicyRoutes(deps: NetworkDeps): NetworkRoute[] {
  const { store } = deps;
  const isDefault = async (policy: QosPolicyRecord) => (await store.get<QosDefaultClaim>('qos-default-policies', policy.project_id))?.qos_policy_id === policy.id;
  return [
    {
      method: 'GET',
      path: '/v2.0/qos/policies',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const [policies, defaults] = await Promise.all([store.scan<QosPolicyRecord>('qos-policies'), store.scan<QosDefaultClaim>('qos-default-policies')]);
        const defaultIds = new Set(defaults.map((d) => d.qos_policy_id));
        return listResponse(req, 'policies', policies.filter((p) => canSeeQosPolicy(ctx, p)).map((p) => qosPolicyView(ctx, p, defaultIds.has(p.id))));
      },
    },
    {
      method: 'POST',
      path: '/v2.0/qos/policies',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const fields = parseBody(req.body, 'policy', ATTRIBUTES, 'create');
        const projectId = owningProject(ctx, fields);
        requireAdmin(ctx, 'rule:create_policy');
        const now = timestamp(deps.clock);
        const policy: QosPolicyRecord = {
          id: newId(),
          project_id: projectId,
          name: (fields.name as string | undefined) ?? '',
          description: (fields.description as string | undefined) ?? '',
          shared: (fields.shared as boolean | undefined) ?? false,
          rules: [],
          tags: [],
          created_at: now,
          updated_at: now,
          revision_number: 1,
        };
        // The default is claimed first: a project that has one gets its 409 with nothing made.
        const asDefault = fields.is_default === true;
        if (asDefault) await setDefault(store, projectId, policy.id);
        try {
          await store.create('qos-policies', policy.id, policy);
        } catch (err) {
          if (asDefault) await unsetDefault(store, projectId, policy.id);
          throw err;
        }
        return showResponse(req, 'policy', qosPolicyView(ctx, policy, asDefault), 201);
      },
    },
    {
      method: 'GET',
      path: '/v2.0/qos/policies/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const policy = await visibleQosPolicy(store, ctx, req.params.id as string);
        return showResponse(req, 'policy', qosPolicyView(ctx, policy, await isDefault(policy)));
      },
    },
    {
      method: 'PUT',
      path: '/v2.0/qos/policies/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const fields = parseBody(req.body, 'policy', ATTRIBUTES, 'update');
        const found = await visibleQosPolicy(store, ctx, req.params.id as string);
        requireAdmin(ctx, 'rule:update_policy');
        // Unsharing removes the wildcard RBAC entry: refused while other projects' ports or networks use the policy.
        if (found.shared && fields.shared === false && (await sharedAccessInUse(store, 'qos_policy', found, sharedWildcard(found)))) {
          throw new RbacPolicyInUse(found.id, 'project_id=*');
        }
        const { is_default: wantDefault, ...rest } = fields;
        if (wantDefault === true) await setDefault(store, found.project_id, found.id);
        else if (wantDefault === false) await unsetDefault(store, found.project_id, found.id);
        const updated = await store.update<QosPolicyRecord>('qos-policies', found.id, (p) => ({ ...p, ...rest, updated_at: timestamp(deps.clock), revision_number: p.revision_number + 1 }) as QosPolicyRecord);
        if (!updated) throw new QosPolicyNotFound(found.id);
        return showResponse(req, 'policy', qosPolicyView(ctx, updated, await isDefault(updated)));
      },
    },
    {
      method: 'DELETE',
      path: '/v2.0/qos/policies/{id}',
      auth: 'token',
      handler: async (req) => {
        const ctx = ctxOf(req);
        const policy = await visibleQosPolicy(store, ctx, req.params.id as string);
        requireAdmin(ctx, 'rule:delete_policy');
        // Neutron looks at its port bindings first, then its network bindings.
        const port = (await store.scan<PortRecord>('ports')).find((p) => p.qos_policy_id === policy.id);
        if (port) throw new QosPolicyInUse(policy.id, 'port', port.id);
        const net = (await store.scan<NetworkRecord>('networks')).find((n) => n.qos_policy_id === policy.id);
        if (net) throw new QosPolicyInUse(policy.id, 'network', net.id);
        await store.delete('qos-policies', policy.id);
        await unsetDefault(store, policy.project_id, policy.id);
        return NO_CONTENT;
      },
    },
  ];
}
