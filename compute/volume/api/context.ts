import type { VolumeContext, VolumeRequest } from './request.ts';
import { CinderError } from './cinder-error.ts';

/** The caller. @throws 401 when the route ran without one (a bug in the route table). */
export function contextOf(req: VolumeRequest): VolumeContext {
  if (!req.context) throw new CinderError(401, 'Authentication required');
  return req.context;
}

/**
 * Cinder's default rule for a resource: its own project's members, or an admin
 * (`rule:admin_or_owner`). Others get a 404 as though it did not exist, as Cinder's DB
 * queries scoped to the project give.
 */
export function ownsOrAdmin(ctx: VolumeContext, projectId: string): boolean {
  return ctx.isAdmin || ctx.projectId === projectId;
}

/**
 * Which projects a listing covers: the caller's, or all for an admin asking `all_tenants`
 * (Cinder's `all_tenants` filter, admin only; `project_id` narrows it again).
 */
export function listingProject(req: VolumeRequest): string | undefined {
  const ctx = contextOf(req);
  const all = req.query.get('all_tenants');
  if (ctx.isAdmin && all !== null && !['0', 'false', 'False', 'no'].includes(all)) return req.query.get('project_id') ?? undefined;
  return ctx.projectId;
}
