import type { RequestContext } from '../../../common/token/request-context.ts';
import { badRequest, conflict, forbidden, GlanceError, imageNotFound } from '../errors.ts';
import type { ImageDeps } from '../deps.ts';
import type { ImageRecord, MemberStatus } from '../image-record.ts';
import { seen } from '../image-policy.ts';
import { isoTime, memberView } from '../image-view.ts';
import type { ImageRequest, ImageResponse, ImageRoute } from '../request.ts';

/** Image members (glance/api/v2/image_members.py): sharing a `shared` image with projects. */
export function memberRoutes(d: ImageDeps): ImageRoute[] {
  return [
    { method: 'POST', path: '/v2/images/{image_id}/members', handler: (req) => add(d, req) },
    { method: 'GET', path: '/v2/images/{image_id}/members', handler: (req) => list(d, req) },
    { method: 'GET', path: '/v2/images/{image_id}/members/{member_id}', handler: (req) => show(d, req) },
    { method: 'PUT', path: '/v2/images/{image_id}/members/{member_id}', handler: (req) => setStatus(d, req) },
    { method: 'DELETE', path: '/v2/images/{image_id}/members/{member_id}', handler: (req) => remove(d, req) },
  ];
}

function isOwner(ctx: RequestContext, image: ImageRecord): boolean {
  return ctx.isAdmin || (image.owner !== null && image.owner === ctx.projectId);
}

/** Glance's member repo check: only `shared` images have members. */
function requireShared(image: ImageRecord, failure: string): void {
  if (image.visibility !== 'shared') throw forbidden(`${failure}: Only shared images have members.`);
}

async function add(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const body = await req.json();
  if (body === undefined) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || body === null || !('member' in body)) throw badRequest('Member to be added not specified');
  const member = (body as { member: unknown }).member;
  if (typeof member !== 'string') throw badRequest('Expected a member in the form: {"member": "image_id"}');
  if (member.trim() === '') throw badRequest("Member can't be empty");
  const image = await d.store.update(id, (current) => {
    const visible = seen(req.context, current, id);
    if (!isOwner(req.context, visible)) throw forbidden(`Not allowed to create members for image ${id}.`);
    requireShared(visible, `Not allowed to create members for image ${id}`);
    if (member in visible.members) throw conflict(`Member ${member} is duplicated for image ${id}`);
    const now = isoTime(d.clock.now());
    return { ...visible, members: { ...visible.members, [member]: { status: 'pending', created_at: now, updated_at: now } } };
  });
  if (!image) throw imageNotFound(id);
  return { status: 200, json: memberView(image, member) };
}

async function list(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const image = seen(req.context, await d.store.get(id), id);
  requireShared(image, `Not allowed to list members for image ${id}`);
  const ctx = req.context;
  // The owner sees every member; a member sees only themselves.
  const ids = isOwner(ctx, image) ? Object.keys(image.members) : Object.keys(image.members).filter((m) => m === ctx.projectId);
  return { status: 200, json: { members: ids.map((m) => memberView(image, m)), schema: '/v2/schemas/members' } };
}

async function show(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const memberId = req.params['member_id'] as string;
  const image = seen(req.context, await d.store.get(id), id);
  requireShared(image, `Not allowed to list members for image ${id}`);
  const view = isOwner(req.context, image) || memberId === req.context.projectId ? memberView(image, memberId) : undefined;
  if (!view) throw new GlanceError(404, `${memberId} not found in the member list of the image ${id}.`);
  return { status: 200, json: view };
}

async function setStatus(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const memberId = req.params['member_id'] as string;
  const body = await req.json();
  if (body === undefined) throw badRequest('Body expected in request.');
  const status = typeof body === 'object' && body !== null ? (body as { status?: unknown }).status : undefined;
  if (typeof status !== 'string') throw badRequest('Status not specified');
  if (!['pending', 'accepted', 'rejected'].includes(status)) throw badRequest(`Incorrect request: Status must be one of: pending, accepted, rejected`);
  const image = await d.store.update(id, (current) => {
    const visible = seen(req.context, current, id);
    const member = visible.members[memberId];
    if (!member) throw new GlanceError(404, `${memberId} not found in the member list of the image ${id}.`);
    // modify_member: the member project itself (admins too).
    if (!req.context.isAdmin && req.context.projectId !== memberId) throw forbidden(`Not allowed to update members for image ${id}.`);
    if (member.status === status) return undefined;
    return { ...visible, members: { ...visible.members, [memberId]: { ...member, status: status as MemberStatus, updated_at: isoTime(d.clock.now()) } } };
  });
  if (!image) throw imageNotFound(id);
  return { status: 200, json: memberView(image, memberId) };
}

async function remove(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const memberId = req.params['member_id'] as string;
  const image = await d.store.update(id, (current) => {
    const visible = seen(req.context, current, id);
    if (!(memberId in visible.members)) throw new GlanceError(404, `${memberId} not found in the member list of the image ${id}.`);
    if (!isOwner(req.context, visible)) throw forbidden(`Not allowed to delete members for image ${id}.`);
    const { [memberId]: _, ...members } = visible.members;
    return { ...visible, members };
  });
  if (!image) throw imageNotFound(id);
  return { status: 204 };
}
