import type { RequestContext } from '../../common/token/request-context.ts';
import { imageNotFound, notAuthorized } from './errors.ts';
import type { ImageRecord } from './image-record.ts';

/**
 * Glance's default policies (glance/policies/image.py with the new defaults) and the
 * visibility rules of its database layer:
 * - an image is seen by admins, its owner's project, everyone when `public` or `community`, and
 *   the projects it is shared with (`shared`, a member of any status; listings default to
 *   accepted members);
 * - changes (`modify_image`, `delete_image`, `upload_image`, `deactivate`, `reactivate`,
 *   `add_member`, `delete_member`) need `admin`, or `member` on the owning project; an image
 *   the caller cannot see is 404 to them, one they can see but not change 403;
 * - `publicize_image` (making an image public) is admin only; `communitize_image` is the owner's.
 */
export function canSee(ctx: RequestContext, image: ImageRecord): boolean {
  if (ctx.isAdmin) return true;
  if (image.owner !== null && image.owner === ctx.projectId) return true;
  if (image.visibility === 'public' || image.visibility === 'community') return true;
  return image.visibility === 'shared' && ctx.projectId !== undefined && ctx.projectId in image.members;
}

/** The image when the caller may see it. @throws {GlanceError} 404 */
export function seen(ctx: RequestContext, image: ImageRecord | undefined, id: string): ImageRecord {
  if (!image || image.status === 'deleted' || !canSee(ctx, image)) throw imageNotFound(id);
  return image;
}

/** `ADMIN_OR_PROJECT_MEMBER` on the image's owner. @throws {GlanceError} 404 or 403 */
export function mayChange(ctx: RequestContext, image: ImageRecord, action: string): void {
  if (ctx.isAdmin) return;
  if (!canSee(ctx, image)) throw imageNotFound(image.id);
  if (image.owner === null || image.owner !== ctx.projectId || !ctx.roles.includes('member')) throw notAuthorized(action);
}

/** `publicize_image` for `public`, `communitize_image` for `community`. @throws {GlanceError} 403 */
export function mayGiveVisibility(ctx: RequestContext, visibility: string): void {
  if (visibility === 'public' && !ctx.isAdmin) throw notAuthorized('publicize_image');
  if (visibility === 'community' && !ctx.isAdmin && !ctx.roles.includes('member')) throw notAuthorized('communitize_image');
}
