import { randomUUID } from 'node:crypto';
import { RecordExistsError } from '../../../client/record-store.ts';
import { badRequest, conflict, forbidden, GlanceError, imageNotFound, tooLarge } from '../errors.ts';
import type { ImageDeps } from '../deps.ts';
import { deleteImageData } from '../image-data-store.ts';
import type { ImageRecord } from '../image-record.ts';
import { parsePatch, applyPatch } from '../image-patch.ts';
import { mayChange, mayGiveVisibility, seen } from '../image-policy.ts';
import { pageOf, parseImageQuery } from '../image-query.ts';
import { validateImage } from '../image-schema.ts';
import { pyRepr } from '../python-repr.ts';
import { imageView, isoTime } from '../image-view.ts';
import type { ImageRequest, ImageResponse, ImageRoute } from '../request.ts';

const DISALLOWED = ['direct_url', 'self', 'file', 'schema', 'stores'];
const READ_ONLY_ON_CREATE = ['created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'os_hash_algo', 'os_hash_value'];
const RESERVED = ['location', 'deleted', 'deleted_at'];
const BASE = ['container_format', 'disk_format', 'min_disk', 'min_ram', 'name', 'visibility', 'protected', 'os_hidden', 'owner', 'id'];

/** The import methods this service offers (`OpenStack-image-import-methods`, `/v2/info/import`). */
export const IMPORT_METHODS = ['glance-direct', 'web-download'];

/** `/v2/images` and `/v2/images/{image_id}` (glance/api/v2/images.py), tags and actions. */
export function imageRoutes(d: ImageDeps): ImageRoute[] {
  return [
    { method: 'POST', path: '/v2/images', handler: (req) => create(d, req) },
    { method: 'GET', path: '/v2/images', handler: (req) => list(d, req) },
    { method: 'GET', path: '/v2/images/{image_id}', handler: async (req) => ({ status: 200, json: imageView(seen(req.context, await d.store.get(req.params['image_id'] as string), req.params['image_id'] as string)) }) },
    { method: 'PATCH', path: '/v2/images/{image_id}', handler: (req) => update(d, req) },
    { method: 'DELETE', path: '/v2/images/{image_id}', handler: (req) => remove(d, req) },
    { method: 'PUT', path: '/v2/images/{image_id}/tags/{tag}', handler: (req) => tag(d, req, 'add') },
    { method: 'DELETE', path: '/v2/images/{image_id}/tags/{tag}', handler: (req) => tag(d, req, 'remove') },
    { method: 'POST', path: '/v2/images/{image_id}/actions/deactivate', handler: (req) => action(d, req, 'deactivate') },
    { method: 'POST', path: '/v2/images/{image_id}/actions/reactivate', handler: (req) => action(d, req, 'reactivate') },
  ];
}

async function create(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const ctx = req.context;
  const body = await req.json();
  if (body === undefined) throw badRequest('Body expected in request.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`Provided object does not match schema 'image': ${pyRepr(body)} is not of type 'object'`);
  const input = { ...(body as Record<string, unknown>) };
  for (const key of DISALLOWED) if (key in input) throw forbidden(`Attribute '${key}' is read-only.`);
  validateImage(input);
  for (const key of READ_ONLY_ON_CREATE) if (key in input) throw forbidden(`Attribute '${key}' is read-only.`);
  const tags = (input['tags'] as string[] | undefined) ?? [];
  delete input['tags'];
  const base: Record<string, unknown> = {};
  for (const key of BASE) {
    if (key in input) {
      base[key] = input[key];
      delete input[key];
    }
  }
  for (const key of Object.keys(input)) {
    if (key.length > 255) throw badRequest('Custom property should not be greater than 255 characters.');
    if (RESERVED.includes(key) || key.startsWith('os_glance')) throw forbidden(`Attribute '${key}' is reserved.`);
  }
  const owner = base['owner'] === undefined ? (ctx.projectId ?? null) : (base['owner'] as string | null);
  if (owner !== ctx.projectId && !ctx.isAdmin) throw forbidden(`You are not permitted to create images owned by '${owner}'`);
  const visibility = (base['visibility'] as ImageRecord['visibility'] | undefined) ?? 'shared';
  mayGiveVisibility(ctx, visibility);
  await checkCount(d, owner);
  const now = isoTime(d.clock.now());
  const image: ImageRecord = {
    id: (base['id'] as string | undefined) ?? randomUUID(),
    name: (base['name'] as string | null | undefined) ?? null,
    status: 'queued',
    visibility,
    protected: (base['protected'] as boolean | undefined) ?? false,
    os_hidden: (base['os_hidden'] as boolean | undefined) ?? false,
    owner,
    disk_format: (base['disk_format'] as string | null | undefined) ?? null,
    container_format: (base['container_format'] as string | null | undefined) ?? null,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    min_ram: (base['min_ram'] as number | undefined) ?? 0,
    min_disk: (base['min_disk'] as number | undefined) ?? 0,
    created_at: now,
    updated_at: now,
    tags: [...new Set(tags)],
    properties: input as Record<string, string>,
    members: {},
  };
  try {
    await d.store.create(image);
  } catch (err) {
    if (err instanceof RecordExistsError) throw conflict(`Image with identifier ${image.id} already exists!`);
    throw err;
  }
  return { status: 201, headers: { Location: `${req.base}/v2/images/${image.id}`, 'OpenStack-image-import-methods': IMPORT_METHODS.join(',') }, json: imageView(image) };
}

/** The unified limit `image_count_total`: images the owner has, deleted ones aside. */
async function checkCount(d: ImageDeps, owner: string | null): Promise<void> {
  const limit = d.limits.imageCountTotal;
  if (limit < 0 || owner === null) return;
  const count = (await d.store.all()).filter((i) => i.owner === owner && i.status !== 'deleted').length;
  if (count + 1 > limit) throw tooLarge(`Project ${owner} is over a limit for [Resource image_count_total is over limit of ${limit} due to current usage ${count} and delta 1]`);
}

async function list(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const query = parseImageQuery(req.query);
  const page = pageOf(req.context, await d.store.all(), query);
  const params = new URLSearchParams(req.rawQuery);
  params.delete('marker');
  const rest = params.toString();
  const json: Record<string, unknown> = { images: page.images.map(imageView), first: rest ? `/v2/images?${rest}` : '/v2/images', schema: '/v2/schemas/images' };
  if (page.nextMarker !== undefined) {
    params.set('marker', page.nextMarker);
    json['next'] = `/v2/images?${params.toString()}`;
  }
  return { status: 200, json };
}

async function update(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const changes = parsePatch(req.headers['content-type'], await req.json());
  const image = await d.store.update(id, (current) => {
    const visible = seen(req.context, current, id);
    const next = applyPatch(req.context, visible, changes, isoTime(d.clock.now()));
    return next === visible ? undefined : next;
  });
  if (!image) throw imageNotFound(id);
  return { status: 200, json: imageView(image) };
}

async function remove(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const image = seen(req.context, await d.store.get(id), id);
  mayChange(req.context, image, 'delete_image');
  if (image.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
  // Mark it deleted first (so no upload finishes into it), then its bytes, then the record.
  const marked = await d.store.update(id, (current) => {
    if (current.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    return { ...current, status: 'deleted', updated_at: isoTime(d.clock.now()) };
  });
  if (!marked) throw imageNotFound(id);
  await deleteImageData(d.client, id);
  await d.store.delete(id);
  return { status: 204 };
}

async function tag(d: ImageDeps, req: ImageRequest, op: 'add' | 'remove'): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const value = req.params['tag'] as string;
  if (op === 'add' && [...value].length > 255) throw badRequest(`Could not update image: Provided object does not match schema 'image': ${JSON.stringify(value)} is too long`);
  const image = await d.store.update(id, (current) => {
    const visible = seen(req.context, current, id);
    mayChange(req.context, visible, 'modify_image');
    const has = visible.tags.includes(value);
    if (op === 'remove' && !has) throw new GlanceError(404, `Tag ${value} not found.`);
    if (op === 'add' && has) return undefined;
    const tags = op === 'add' ? [...visible.tags, value] : visible.tags.filter((t) => t !== value);
    return { ...visible, tags, updated_at: isoTime(d.clock.now()) };
  });
  if (!image) throw new GlanceError(404, `Image ${id} not found.`);
  return { status: 204 };
}

async function action(d: ImageDeps, req: ImageRequest, what: 'deactivate' | 'reactivate'): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const image = await d.store.update(id, (current) => {
    const visible = seen(req.context, current, id);
    mayChange(req.context, visible, what);
    const [from, to] = what === 'deactivate' ? ['active', 'deactivated'] : ['deactivated', 'active'];
    if (visible.status === to) return undefined;
    if (visible.status !== from) throw forbidden(`Not allowed to ${what} image in status '${visible.status}'`);
    return { ...visible, status: to as ImageRecord['status'], updated_at: isoTime(d.clock.now()) };
  });
  if (!image) throw imageNotFound(id);
  return { status: 204 };
}
