import type { RequestContext } from '../../../common/token/request-context.ts';
import { forbidden } from '../errors.ts';

/** The caller's project, for what needs one (members acting on their own membership). */
export function requireProject(ctx: RequestContext): string {
  if (ctx.projectId === undefined) throw forbidden('You are not authorized to complete this action.');
  return ctx.projectId;
}
