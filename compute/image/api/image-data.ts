import { type ObjectDownload, ObjectMissingError, RangeNotSatisfiableError } from '../../../client/object-download.ts';
import { UploadMismatchError, UploadTooLargeError } from '../../../client/errors.ts';
import { parseEndpoint } from '../../../client/endpoint.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../../../common/http/body-reader.ts';
import { badRequest, badTransition, conflict, forbidden, GlanceError, imageNotFound, tooLarge } from '../errors.ts';
import type { ImageDeps } from '../deps.ts';
import { deleteImageData, readImageData, storeImageData } from '../image-data-store.ts';
import type { ImageRecord, ImageStatus } from '../image-record.ts';
import { canTransition } from '../image-record.ts';
import { mayChange, seen } from '../image-policy.ts';
import { isoTime } from '../image-view.ts';
import type { ImageRequest, ImageResponse, ImageRoute } from '../request.ts';
import { IMPORT_METHODS } from './images.ts';

/**
 * Image bytes (glance/api/v2/image_data.py): upload, download with `Range`, glance-direct's
 * `/stage`, `/import` (glance-direct and web-download) and `/v2/info/import`.
 */
export function imageDataRoutes(d: ImageDeps): ImageRoute[] {
  return [
    { method: 'PUT', path: '/v2/images/{image_id}/file', handler: (req) => upload(d, req, 'upload') },
    { method: 'GET', path: '/v2/images/{image_id}/file', handler: (req) => download(d, req) },
    { method: 'PUT', path: '/v2/images/{image_id}/stage', handler: (req) => upload(d, req, 'stage') },
    { method: 'POST', path: '/v2/images/{image_id}/import', handler: (req) => importImage(d, req) },
    {
      method: 'GET',
      path: '/v2/info/import',
      handler: async () => ({ status: 200, json: { 'import-methods': { description: 'Import methods available.', type: 'array', value: IMPORT_METHODS } } }),
    },
  ];
}

/** Moves the image from `from` to `to` if it is in `from`; the image as it now is. */
async function transition(d: ImageDeps, id: string, from: readonly ImageStatus[], to: ImageStatus, extra: Partial<ImageRecord> = {}): Promise<ImageRecord | undefined> {
  return d.store.update(id, (current) => {
    if (!from.includes(current.status) || !canTransition(current.status, to)) throw badTransition(current.status, to);
    return { ...current, ...extra, status: to, updated_at: isoTime(d.clock.now()) };
  });
}

/** How many more bytes the owner may store (`image_size_total`), and the size cap. */
async function maxBytes(d: ImageDeps, image: ImageRecord): Promise<{ limit: number; quota: boolean }> {
  const cap = d.limits.imageSizeCap;
  if (d.limits.imageSizeTotal < 0) return { limit: cap, quota: false };
  const used = (await d.store.all()).filter((i) => i.owner === image.owner && i.id !== image.id).reduce((sum, i) => sum + (i.size ?? 0) + (i.staged?.size ?? 0), 0);
  const left = Math.max(0, d.limits.imageSizeTotal - used);
  return left < cap ? { limit: left, quota: true } : { limit: cap, quota: false };
}

/**
 * `PUT .../file` (queued -> saving -> active) and `PUT .../stage` (queued -> uploading). The body
 * streams into the cluster; on any failure the image is queued again and no bytes stay.
 */
async function upload(d: ImageDeps, req: ImageRequest, kind: 'upload' | 'stage'): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const image = seen(req.context, await d.store.get(id), id);
  mayChange(req.context, image, 'upload_image');
  const during: ImageStatus = kind === 'upload' ? 'saving' : 'uploading';
  const { limit, quota } = await maxBytes(d, image);
  const length = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
  const overLimit = (): GlanceError => (quota ? tooLarge(`Image exceeds the storage quota: The size of the data ${length ?? limit + 1} will exceed the limit. ${limit} bytes remaining.`) : tooLarge('The incoming image is too large: The provided image is too large.'));
  if (length !== undefined && length > limit) throw overLimit();
  const md5 = req.headers['content-md5'];
  const expectedMd5 = md5 === undefined ? undefined : /^[0-9a-f]{32}$/i.test(md5) ? md5 : Buffer.from(md5, 'base64').toString('hex');
  await transition(d, id, ['queued'], during);
  let stored: Awaited<ReturnType<typeof storeImageData>>;
  try {
    if (kind === 'stage') await deleteImageData(d.client, id);
    stored = await storeImageData(d.client, id, req.body, { segmentSize: d.limits.segmentSize, largeObjectSize: d.limits.largeObjectSize, maxBytes: limit, ...(expectedMd5 !== undefined ? { expectedMd5 } : {}), ...(length !== undefined ? { expectedSize: length } : {}) });
  } catch (err) {
    await transition(d, id, [during], 'queued').catch((e: unknown) => d.logger.warn('image: could not queue again after a failed upload', { id, err: e }));
    if (err instanceof UploadTooLargeError) throw overLimit();
    if (err instanceof UploadMismatchError) throw badRequest(err.what === 'md5' ? `Checksum verification failed: ${err.message}` : `Corrupt image upload: ${err.message}`);
    if (err instanceof ClientDisconnectError || err instanceof ClientTimeoutError) throw badRequest('Error reading the image data.');
    throw err;
  }
  const extra: Partial<ImageRecord> =
    kind === 'upload'
      ? { size: stored.size, checksum: stored.md5, os_hash_algo: 'sha512', os_hash_value: stored.sha512, virtual_size: stored.virtualSize, data: segmentData(stored.segmentPrefix) }
      : { staged: { ...segmentData(stored.segmentPrefix), size: stored.size, md5: stored.md5, sha512: stored.sha512 } };
  try {
    const done = await transition(d, id, [during], kind === 'upload' ? 'active' : 'uploading', extra);
    if (!done) throw new GlanceError(410, `Image ${id} could not be found after upload. The image may have been deleted during the upload.`);
  } catch (err) {
    // Deleted (or changed by someone else) meanwhile: the bytes must not stay.
    await deleteImageData(d.client, id).catch(() => undefined);
    if (err instanceof GlanceError && err.status === 409) throw new GlanceError(410, `Image ${id} could not be found after upload. The image may have been deleted during the upload.`);
    throw err;
  }
  return { status: 204 };
}

/** Where a record says the bytes are: `{}` for one object. */
function segmentData(segmentPrefix: string | undefined): { segmentPrefix?: string } {
  return segmentPrefix === undefined ? {} : { segmentPrefix };
}

/** `GET .../file`: the bytes, whole (with `Content-MD5`) or a range (206). */
async function download(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const image = seen(req.context, await d.store.get(id), id);
  if (image.status === 'deactivated' && !req.context.isAdmin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
  if (image.status !== 'active' && image.status !== 'deactivated') return { status: 204 };
  const range = req.headers['range'];
  let got: ObjectDownload;
  try {
    // A record without a segment prefix is one object; images stored before single objects
    // existed all have one (segments, or an empty body the manifest read falls back from).
    const segmented = image.data === undefined || image.data.segmentPrefix !== undefined;
    got = await readImageData(d.client, id, range !== undefined ? { range } : { segmented });
  } catch (err) {
    if (err instanceof ObjectMissingError) throw imageNotFound(id);
    if (err instanceof RangeNotSatisfiableError) throw new GlanceError(416, 'Requested range not satisfiable', { 'Content-Range': `bytes */${image.size ?? 0}` });
    throw err;
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (got.headers['content-length'] !== undefined) headers['Content-Length'] = got.headers['content-length'];
  if (got.status === 206) headers['Content-Range'] = got.headers['content-range'] ?? '';
  else if (image.checksum) headers['Content-MD5'] = image.checksum;
  // Relayed as the proxy relays a GET: each chunk written in batches and freed once sent (a
  // 1 GiB download left 20,000-60,000 page faults and 2.7-4.7 CPU-s to the image process).
  return { status: got.status, headers, body: got.body, given: true };
}

/** `POST .../import`: glance-direct (the staged bytes become the image) or web-download. */
async function importImage(d: ImageDeps, req: ImageRequest): Promise<ImageResponse> {
  const id = req.params['image_id'] as string;
  const body = (await req.json()) as { method?: { name?: unknown; uri?: unknown } } | undefined;
  const image = seen(req.context, await d.store.get(id), id);
  mayChange(req.context, image, 'modify_image');
  if (!body || typeof body !== 'object') throw badRequest('Body expected in request.');
  const method = body.method;
  if (!method || typeof method !== 'object') throw badRequest("Import request requires a 'method' field.");
  const name = method.name;
  if (typeof name !== 'string' || !IMPORT_METHODS.includes(name)) throw badRequest(`Unknown import method name '${String(name)}'.`);
  if (!image.container_format || !image.disk_format) throw conflict(`'disk_format' needs to be set before import`);
  if (name === 'glance-direct') {
    if (image.status !== 'uploading' || !image.staged) throw conflict(`Image needs to be staged before 'glance-direct' method can be used`);
    const staged = image.staged;
    await transition(d, id, ['uploading'], 'importing');
    await transition(d, id, ['importing'], 'active', { size: staged.size, checksum: staged.md5, os_hash_algo: 'sha512', os_hash_value: staged.sha512, data: segmentData(staged.segmentPrefix) });
    await d.store.update(id, (current) => {
      const { staged: _, ...rest } = current;
      return rest;
    });
    return { status: 202 };
  }
  if (image.status !== 'queued') throw conflict(`Image needs to be in 'queued' state to use 'web-download' method`);
  const uri = method.uri;
  if (typeof uri !== 'string' || uri === '') throw badRequest("Import request requires a 'uri' field for the 'web-download' method.");
  let endpoint: ReturnType<typeof parseEndpoint>;
  try {
    endpoint = parseEndpoint(uri, 'uri');
  } catch {
    throw badRequest(`URI for web-download does not pass filtering: ${uri}`);
  }
  await transition(d, id, ['queued'], 'importing');
  const task = webDownload(d, id, endpoint, new URL(uri).search).catch((err: unknown) => d.logger.warn('image: web-download failed', { id, uri, err }));
  d.tasks.add(task);
  void task.finally(() => d.tasks.delete(task));
  return { status: 202 };
}

/** Fetches the URL into the image (importing -> active); queued again when it fails. */
async function webDownload(d: ImageDeps, id: string, endpoint: ReturnType<typeof parseEndpoint>, search: string): Promise<void> {
  try {
    const res = await d.http.request(endpoint.node, { method: 'GET', path: endpoint.path || '/', ...(search ? { query: search.slice(1) } : {}) });
    if (res.status !== 200) {
      await res.body.dump();
      throw new Error(`GET answered ${res.status}`);
    }
    const stored = await storeImageData(d.client, id, res.body, { segmentSize: d.limits.segmentSize, largeObjectSize: d.limits.largeObjectSize, maxBytes: d.limits.imageSizeCap });
    const done = await transition(d, id, ['importing'], 'active', { size: stored.size, checksum: stored.md5, os_hash_algo: 'sha512', os_hash_value: stored.sha512, virtual_size: stored.virtualSize, data: segmentData(stored.segmentPrefix) }).catch(() => undefined);
    if (!done) await deleteImageData(d.client, id);
  } catch (err) {
    await transition(d, id, ['importing'], 'queued').catch(() => undefined);
    throw err;
  }
}
