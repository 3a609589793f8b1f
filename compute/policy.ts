import { policyForbidden } from './errors.ts';
import { type ComputeContext, type ComputeRequest, contextOf } from './request.ts';

/**
 * Nova's default policies (nova/policies/*.py) as a deployment without `enforce_scope` sees
 * them: `ADMIN` rules need the `admin` role; `PROJECT_*_OR_ADMIN` rules need the resource to be
 * in the caller's project, or the admin role; keypairs are their user's. A refusal names the
 * rule: "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed."
 */
export function requireAdmin(req: ComputeRequest, rule: string): ComputeContext {
  const context = contextOf(req);
  if (!context.isAdmin) throw policyForbidden(rule);
  return context;
}

/** `PROJECT_MEMBER_OR_ADMIN` / `PROJECT_READER_OR_ADMIN` on a resource of `projectId`. */
export function requireProjectOrAdmin(req: ComputeRequest, rule: string, projectId: string): ComputeContext {
  const context = contextOf(req);
  if (!context.isAdmin && context.projectId !== projectId) throw policyForbidden(rule);
  return context;
}
