import type { RequestContext } from '../../common/token/request-context.ts';
import { badRequest, imageNotFound } from './errors.ts';
import type { ImageRecord } from './image-record.ts';
import { canSee } from './image-policy.ts';

/** Glance's `limit_param_default` and `api_limit_max`. */
export const LIMIT_DEFAULT = 25;
export const LIMIT_MAX = 1000;

const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
type SortKey = (typeof SORT_KEYS)[number];

export interface ImageQuery {
  readonly limit: number;
  readonly marker?: string;
  readonly memberStatus: 'pending' | 'accepted' | 'rejected' | 'all';
  readonly sort: readonly { key: SortKey; dir: 'asc' | 'desc' }[];
  readonly match: (image: ImageRecord) => boolean;
  readonly visibility?: string;
}

/**
 * `GET /v2/images`'s query as Glance reads it (RequestDeserializer.index and the database
 * layer's filters): `limit`, `marker`, `member_status`, `tag` (every one must be on the image),
 * `sort` or `sort_key`/`sort_dir`, `visibility`, `os_hidden`, `protected`, `size_min`/`size_max`,
 * `created_at`/`updated_at` with `gt|gte|lt|lte|eq|neq:<ISO 8601>`, `name`/`id`/`status`/
 * `container_format`/`disk_format` as `<value>` or `in:a,b`, `owner`, `checksum`,
 * `os_hash_value`, and any other key as a custom property's exact value.
 * @throws {GlanceError} 400 with Glance's message for what it refuses.
 */
export function parseImageQuery(query: URLSearchParams): ImageQuery {
  const params = new Map<string, string[]>();
  for (const [k, v] of query) (params.get(k) ?? params.set(k, []).get(k) as string[]).push(v);
  const one = (k: string): string | undefined => {
    const v = params.get(k);
    params.delete(k);
    return v?.at(-1);
  };
  const limitText = one('limit');
  let limit = LIMIT_DEFAULT;
  if (limitText !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(limitText)) throw badRequest('limit param must be an integer');
    limit = Number(limitText);
    if (limit < 0) throw badRequest('limit param must be positive');
  }
  limit = Math.min(LIMIT_MAX, limit);
  const marker = one('marker');
  const memberStatus = one('member_status') ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw badRequest(`Invalid status: ${memberStatus}`);
  const tags = (params.get('tag') ?? []).map((t) => t.trim());
  params.delete('tag');
  const sort = sorting(params);
  const visibility = one('visibility');
  if (visibility && !['community', 'public', 'private', 'shared', 'all'].includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
  if (params.has('changes-since')) throw badRequest('The "changes-since" filter is no longer available on v2.');
  const hiddenText = (one('os_hidden') ?? 'false').toLowerCase();
  if (!['true', 'false'].includes(hiddenText)) throw badRequest(`Invalid value '${hiddenText}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);
  const protectedText = one('protected');
  if (protectedText !== undefined && !['true', 'false'].includes(protectedText)) throw badRequest(`Invalid value '${protectedText}' for 'protected' filter. Valid values are 'true' or 'false'.`);
  const checks: ((image: ImageRecord) => boolean)[] = [];
  checks.push((i) => i.status !== 'deleted' && i.status !== 'killed');
  checks.push((i) => i.os_hidden === (hiddenText === 'true'));
  if (protectedText !== undefined) checks.push((i) => i.protected === (protectedText === 'true'));
  if (visibility && visibility !== 'all') checks.push((i) => i.visibility === visibility);
  for (const tag of tags) checks.push((i) => i.tags.includes(tag));
  for (const [key, values] of params) {
    const value = values.at(-1) as string;
    checks.push(filterFor(key, value));
  }
  return { limit, ...(marker !== undefined ? { marker } : {}), memberStatus: memberStatus as ImageQuery['memberStatus'], sort, match: (i) => checks.every((c) => c(i)), ...(visibility ? { visibility } : {}) };
}

function filterFor(key: string, value: string): (image: ImageRecord) => boolean {
  if (key.endsWith('_min') || key.endsWith('_max')) {
    const attr = key.slice(0, -4);
    if (!/^\s*[-+]?\d+\s*$/.test(value)) throw badRequest('Unable to filter on a range with a non-numeric value.');
    const n = Number(value);
    const get = (i: ImageRecord): number | null => (attr === 'size' ? i.size : attr === 'virtual_size' ? i.virtual_size : attr === 'min_ram' ? i.min_ram : attr === 'min_disk' ? i.min_disk : null);
    return key.endsWith('_min') ? (i) => (get(i) ?? Number.NaN) >= n : (i) => (get(i) ?? Number.NaN) <= n;
  }
  if (key === 'created_at' || key === 'updated_at') {
    const [op, time] = splitFilterOp(value);
    const threshold = Date.parse(time);
    if (Number.isNaN(threshold) || !/^\d{4}-\d{2}-\d{2}/.test(time)) throw badRequest(`Bad "${key}" query filter format. Use ISO 8601 DateTime notation.`);
    const compare = comparator(op);
    return (i) => compare(Date.parse(i[key]), threshold);
  }
  if (['name', 'id', 'status', 'container_format', 'disk_format'].includes(key)) {
    const [op, text] = splitFilterOp(value);
    const attr = key as 'name' | 'id' | 'status' | 'container_format' | 'disk_format';
    if (op === 'in') {
      const set = new Set(splitQuoted(text));
      return (i) => i[attr] !== null && set.has(i[attr] as string);
    }
    if (op === 'eq') return (i) => i[attr] === text;
    throw badRequest(`Unable to filter by unknown operator '${op}'.`);
  }
  if (key === 'owner' || key === 'checksum' || key === 'os_hash_value') return (i) => i[key] === value;
  if (key === 'min_ram' || key === 'min_disk') return (i) => String(i[key]) === value;
  return (i) => i.properties[key] === value;
}

/** Glance's `split_filter_op`: `op:value`, or `eq` (an ISO time with its colons is one value). */
function splitFilterOp(expression: string): [string, string] {
  const colon = expression.indexOf(':');
  if (colon === -1) return ['eq', expression];
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(expression) && !Number.isNaN(Date.parse(expression))) return ['eq', expression];
  return [expression.slice(0, colon), expression.slice(colon + 1)];
}

/** Glance's `evaluate_filter_op`. */
function comparator(op: string): (a: number, b: number) => boolean {
  switch (op) {
    case 'gt':
      return (a, b) => a > b;
    case 'gte':
      return (a, b) => a >= b;
    case 'lt':
      return (a, b) => a < b;
    case 'lte':
      return (a, b) => a <= b;
    case 'neq':
      return (a, b) => a !== b;
    case 'eq':
      return (a, b) => a === b;
    default:
      throw badRequest('Unable to filter on a unknown operator.');
  }
}

/** `in:` values: comma separated, a quoted value may hold commas (`split_filter_value_for_quotes`). */
function splitQuoted(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|([^,]+)/g)) out.push(m[1] ?? (m[2] as string));
  return out;
}

function sorting(params: Map<string, string[]>): ImageQuery['sort'] {
  const keys: SortKey[] = [];
  const dirs: ('asc' | 'desc')[] = [];
  const key = (k: string): SortKey => {
    if (!(SORT_KEYS as readonly string[]).includes(k)) throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
    return k as SortKey;
  };
  const dir = (d: string): 'asc' | 'desc' => {
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  const sort = params.get('sort');
  if (sort) {
    if (params.has('sort_key') || params.has('sort_dir')) throw badRequest('Old and new sorting syntax cannot be combined');
    for (const part of (sort.at(-1) as string).trim().split(',')) {
      const [k, d] = [part.split(':')[0] as string, part.includes(':') ? part.slice(part.indexOf(':') + 1) : ''];
      keys.push(key(k.trim()));
      dirs.push(dir((d || 'desc').trim()));
    }
  } else {
    for (const k of params.get('sort_key') ?? []) keys.push(key(k.trim()));
    for (const d of params.get('sort_dir') ?? []) dirs.push(dir(d.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
  }
  params.delete('sort');
  params.delete('sort_key');
  params.delete('sort_dir');
  if (keys.length === 0) keys.push('created_at');
  const out = keys.map((k, i) => ({ key: k, dir: dirs[i] ?? dirs[0] ?? ('desc' as const) }));
  // Glance appends created_at and id so the order is total (paging by marker needs that).
  const last = out.at(-1)?.dir ?? 'desc';
  if (!keys.includes('created_at')) out.push({ key: 'created_at', dir: last });
  if (!keys.includes('id')) out.push({ key: 'id', dir: last });
  return out;
}

/** Whether a listing shows the image to the caller (the database layer's visibility rules). */
function listed(ctx: RequestContext, image: ImageRecord, query: ImageQuery): boolean {
  if (!canSee(ctx, image)) return false;
  const own = image.owner !== null && image.owner === ctx.projectId;
  // Community images appear only when asked for (or owned), as in Glance.
  if (image.visibility === 'community' && !own && query.visibility === undefined) return false;
  if (image.visibility === 'shared' && !own && !ctx.isAdmin) {
    const member = ctx.projectId !== undefined ? image.members[ctx.projectId] : undefined;
    if (!member || (query.memberStatus !== 'all' && member.status !== query.memberStatus)) return false;
  }
  return true;
}

/**
 * One page: the images the caller sees that match, sorted, after `marker`, at most `limit`;
 * `nextMarker` when the page is full (Glance links a next page then).
 * @throws {GlanceError} 400 when the marker is not an image the caller sees.
 */
export function pageOf(ctx: RequestContext, images: readonly ImageRecord[], query: ImageQuery): { images: ImageRecord[]; nextMarker?: string } {
  const rows = images.filter((i) => query.match(i) && listed(ctx, i, query));
  rows.sort((a, b) => compareImages(a, b, query.sort));
  let start = 0;
  if (query.marker !== undefined) {
    const markerImage = images.find((i) => i.id === query.marker);
    if (!markerImage || !canSee(ctx, markerImage)) throw badRequest(imageNotFound(query.marker).message);
    start = rows.findIndex((i) => compareImages(i, markerImage, query.sort) > 0);
    if (start === -1) start = rows.length;
  }
  const page = rows.slice(start, start + query.limit);
  return { images: page, ...(page.length > 0 && page.length === query.limit ? { nextMarker: (page.at(-1) as ImageRecord).id } : {}) };
}

function compareImages(a: ImageRecord, b: ImageRecord, sort: ImageQuery['sort']): number {
  for (const { key, dir } of sort) {
    const c = compareValues(a[key], b[key]);
    if (c !== 0) return dir === 'asc' ? c : -c;
  }
  return 0;
}

/** Nulls first (as the database sorts them ascending), numbers as numbers, text by code point. */
function compareValues(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
