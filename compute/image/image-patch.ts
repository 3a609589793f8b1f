import type { RequestContext } from '../../common/token/request-context.ts';
import { badRequest, conflict, GlanceError, forbidden } from './errors.ts';
import type { ImageRecord } from './image-record.ts';
import { IMAGE_PROPERTIES, validateImage } from './image-schema.ts';
import { mayChange, mayGiveVisibility } from './image-policy.ts';

export interface ImageChange {
  readonly op: 'add' | 'remove' | 'replace';
  readonly path: readonly string[];
  readonly value?: unknown;
  readonly draft: 4 | 10;
}

const READ_ONLY = ['created_at', 'updated_at', 'status', 'checksum', 'size', 'virtual_size', 'direct_url', 'self', 'file', 'schema', 'id', 'os_hash_algo', 'os_hash_value'];
const RESERVED = ['location', 'deleted', 'deleted_at'];
const RESERVED_NAMESPACE = 'os_glance';
/** The attributes an image has (Glance's `hasattr(image, name)`); the rest are custom properties. */
const ATTRIBUTES = new Set(['name', 'visibility', 'protected', 'os_hidden', 'owner', 'container_format', 'disk_format', 'min_ram', 'min_disk', 'tags']);

const PATCH_TYPES: Readonly<Record<string, 4 | 10>> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};

/**
 * A PATCH body read as Glance's RequestDeserializer.update does: the media type picks the JSON
 * Schema draft (`{"op", "path", "value"}` for v2.1, `{"<op>": path, "value"}` for v2.0), each
 * pointer is checked and decoded, read-only and reserved attributes are refused (403), values
 * are checked against the image schema (400).
 * @throws {GlanceError}
 */
export function parsePatch(contentType: string | undefined, body: unknown): ImageChange[] {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const draft = PATCH_TYPES[type];
  if (draft === undefined) {
    const allowed = Object.keys(PATCH_TYPES).sort().join(', ');
    throw new GlanceError(415, `Image PATCH expects Content-Type one of: ${allowed}`, { 'Accept-Patch': allowed });
  }
  if (body === undefined) throw badRequest('Body expected in request.');
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Operations must be JSON objects.');
    const r = raw as Record<string, unknown>;
    let op: string;
    let pointer: unknown;
    if (draft === 10) {
      if (r['op'] === undefined) throw badRequest('Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.');
      op = String(r['op']);
      if (!['add', 'remove', 'replace'].includes(op)) throw badRequest(`Invalid operation: \`${op}\`. It must be one of the following: add, remove, replace.`);
      if (!('path' in r)) throw badRequest("Unable to find 'path' in JSON Schema change");
      pointer = r['path'];
    } else {
      const ops = ['add', 'remove', 'replace'].filter((o) => o in r);
      if (ops.length > 1) throw badRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
      if (ops.length === 0) throw badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
      op = ops[0] as string;
      pointer = r[op];
    }
    const path = decodePointer(String(pointer));
    if (path.length !== 1) throw badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const change: ImageChange = { op: op as ImageChange['op'], path, draft, ...(op !== 'remove' ? { value: changeValue(r, op) } : {}) };
    const root = path[0] as string;
    if (READ_ONLY.includes(root)) throw forbidden(`Attribute '${root}' is read-only.`);
    if (RESERVED.includes(root) || root.startsWith(RESERVED_NAMESPACE)) throw forbidden(`Attribute '${root}' is reserved.`);
    if (op !== 'remove') validateImage({ [root]: change.value });
    return change;
  });
}

function changeValue(raw: Record<string, unknown>, op: string): unknown {
  if (!('value' in raw)) throw badRequest(`Operation "${op}" requires a member named "value".`);
  return raw['value'];
}

/** Glance's `_decode_json_pointer` with its checks. */
function decodePointer(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw badRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/') throw badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer.replace(/^\/+/, '').split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

/**
 * Applies the changes to `image` as Glance's controller does (`_do_add`, `_do_replace`,
 * `_do_remove`), each after its policy check; returns the new record (unchanged fields kept).
 * @throws {GlanceError}
 */
export function applyPatch(ctx: RequestContext, image: ImageRecord, changes: readonly ImageChange[], updatedAt: string): ImageRecord {
  let next: Record<string, unknown> = { ...image, properties: { ...image.properties } };
  const props = next['properties'] as Record<string, string>;
  for (const change of changes) {
    const root = change.path[0] as string;
    if (change.op === 'replace' && root === 'owner' && !ctx.isAdmin) throw forbidden("Owner can't be updated by non admin.");
    if (root === 'visibility' && change.op !== 'remove') mayGiveVisibility(ctx, String(change.value));
    mayChange(ctx, image, 'modify_image');
    const attribute = ATTRIBUTES.has(root);
    if (change.op === 'remove') {
      if (attribute || root in IMAGE_PROPERTIES) throw forbidden(`Property ${root} may not be removed.`);
      if (!(root in props)) throw conflict(`Property ${root} does not exist.`);
      delete props[root];
    } else if (change.op === 'replace') {
      if (attribute) next = { ...next, [root]: attributeValue(root, change.value) };
      else if (root in props) props[root] = change.value as string;
      else throw conflict(`Property ${root} does not exist.`);
    } else {
      if (change.draft === 4 && (attribute || root in props)) throw conflict(`Property ${root} already present.`);
      if (attribute) next = { ...next, [root]: attributeValue(root, change.value) };
      else props[root] = change.value as string;
    }
  }
  const result = next as unknown as ImageRecord;
  if (JSON.stringify(result) === JSON.stringify(image)) return image;
  return { ...result, updated_at: updatedAt };
}

/** Tags as a set (Glance keeps them unique). */
function attributeValue(name: string, value: unknown): unknown {
  if (name === 'tags') return [...new Set(value as string[])];
  return value;
}
