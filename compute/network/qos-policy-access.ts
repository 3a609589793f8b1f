import type { NetworkContext } from './context.ts';
import { PolicyRemoveAuthorizationError, QosPolicyNotFound } from './errors.ts';
import { isOwner } from './policy.ts';
import type { QosPolicyRecord } from './records.ts';
import type { NetworkStore } from './store.ts';

/** Neutron's `QosPolicy.is_accessible`: admin, the policy's project, or a policy shared with everyone or (RBAC) the caller's project. */
export function canSeeQosPolicy(ctx: NetworkContext, policy: QosPolicyRecord): boolean {
  return isOwner(ctx, policy.project_id) || sharedQosPolicy(ctx, policy);
}

/** `shared` as the caller sees it: shared with everyone, or by an RBAC entry with its project. */
export function sharedQosPolicy(ctx: NetworkContext, policy: QosPolicyRecord): boolean {
  return policy.shared || (policy.rbac ?? []).some((e) => e.action === 'access_as_shared' && e.target_tenant === ctx.projectId);
}

/** `get_policy_obj`: a policy the caller may see. @throws {QosPolicyNotFound} */
export async function visibleQosPolicy(store: NetworkStore, ctx: NetworkContext, id: string): Promise<QosPolicyRecord> {
  const policy = await store.get<QosPolicyRecord>('qos-policies', id);
  if (!policy || !canSeeQosPolicy(ctx, policy)) throw new QosPolicyNotFound(id);
  return policy;
}

/**
 * The `qos_policy_id` a network or port update asks for, checked as Neutron's QoS core extension
 * does: the policy it has now must be one the caller may see (else 403), the new one too (else
 * 404). Returns the id to store (null: none).
 * @throws {PolicyRemoveAuthorizationError}
 * @throws {QosPolicyNotFound}
 */
export async function qosPolicyChange(store: NetworkStore, ctx: NetworkContext, current: string | null | undefined, wanted: string | null): Promise<string | null> {
  if (current) {
    const old = await store.get<QosPolicyRecord>('qos-policies', current);
    if (old && !canSeeQosPolicy(ctx, old)) throw new PolicyRemoveAuthorizationError(current);
  }
  if (wanted !== null) await visibleQosPolicy(store, ctx, wanted);
  return wanted;
}

/** A project's default policy: `qos-default-policies/<project>` names it. */
export interface QosDefaultClaim {
  readonly qos_policy_id: string;
}

/** The project's default policy id, if it has one (a claim left by a policy since deleted does not count). */
export async function defaultQosPolicyId(store: NetworkStore, projectId: string): Promise<string | undefined> {
  const claim = await store.get<QosDefaultClaim>('qos-default-policies', projectId);
  if (!claim) return undefined;
  return (await store.get<QosPolicyRecord>('qos-policies', claim.qos_policy_id)) ? claim.qos_policy_id : undefined;
}
