import type { NetworkContext } from './context.ts';
import { HttpBadRequest, PolicyNotAuthorized } from './errors.ts';

/**
 * Neutron's default policies (neutron/conf/policies/*.py) as a deployment without
 * `enforce_new_defaults` applies them: `context_is_admin` may do anything; otherwise
 * `admin_or_owner` (the resource's project is the token's), `admin_or_network_owner` for
 * subnets and ports on someone's network, networks `shared` or `router:external` readable by
 * all, and attributes only admins may set (`shared`, `router:external`, `binding:*`, ...).
 * A caller who may not even see a resource gets its NotFound (Neutron hides it), one who may
 * see it but not change it gets 403 PolicyNotAuthorized.
 */
export function isOwner(ctx: NetworkContext, projectId: string): boolean {
  return ctx.isAdmin || (ctx.projectId !== undefined && ctx.projectId === projectId);
}

/** `rule:admin_only`: 403 naming the rule unless the caller is an admin. */
export function requireAdmin(ctx: NetworkContext, rule: string): void {
  if (!ctx.isAdmin) throw new PolicyNotAuthorized(rule);
}

/**
 * The project a new resource belongs to (neutron-lib's `populate_project_info` and
 * `_validate_privileges`): the body's `project_id`/`tenant_id`, another project's only for
 * admins; else the token's.
 */
export function owningProject(ctx: NetworkContext, body: Readonly<Record<string, unknown>>): string {
  if (body.project_id !== undefined && body.tenant_id !== undefined && body.project_id !== body.tenant_id) throw new HttpBadRequest("'project_id' and 'tenant_id' do not match");
  const asked = body.project_id ?? body.tenant_id;
  if (asked !== undefined) {
    if (asked !== ctx.projectId && !ctx.isAdmin) throw new HttpBadRequest("Specifying 'project_id' other than the authenticated project in request is not allowed for the current user.");
    if (typeof asked !== 'string' || asked === '') throw new HttpBadRequest(`Invalid input for project_id. Reason: '${String(asked)}' is not a valid string.`);
    return asked;
  }
  if (ctx.projectId === undefined) throw new HttpBadRequest('Running without keystone AuthN requires that project_id is specified');
  return ctx.projectId;
}
