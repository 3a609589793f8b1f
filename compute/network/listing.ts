import { BadRequest, HttpBadRequest } from './errors.ts';

/** A resource as the API shows it (a JSON object). */
export type ApiResource = Record<string, unknown>;

/**
 * Neutron's collection GET (neutron/api/v2/base.py `_items`, api_common.py): filters on any
 * attribute (`?name=a&name=b` matches either; booleans as `true`/`True`), `fields=` to choose
 * attributes (`id` is kept for paging and dropped after unless asked for), `sort_key`/`sort_dir`
 * pairs (`id` added last as the tie-breaker), `limit`/`marker`/`page_reverse` with
 * `<collection>_links` (`next` unless a short forward page, `previous` unless a short reverse
 * one), every link keeping the request's other parameters.
 */
export interface ListQuery {
  readonly filters: ReadonlyMap<string, readonly string[]>;
  readonly fields: readonly string[];
  readonly sorts: readonly (readonly [string, boolean])[];
  readonly limit: number | undefined;
  readonly marker: string | undefined;
  readonly pageReverse: boolean;
}

/** Query keys that are not filters. */
const CONTROL = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'verbose']);

/** Neutron's `pagination_max_limit` default: no cap. */
export function parseListQuery(query: URLSearchParams, sortable: ReadonlySet<string>): ListQuery {
  const filters = new Map<string, string[]>();
  for (const [key, value] of query) {
    if (CONTROL.has(key)) continue;
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  if (filters.has('tenant_id') && filters.has('project_id')) throw new HttpBadRequest('Both tenant_id and project_id passed as filters.');
  const nonEmpty = (k: string) => query.getAll(k).filter((v) => v !== '');
  const keys = nonEmpty('sort_key');
  const dirs = nonEmpty('sort_dir');
  if (keys.length !== dirs.length) throw new HttpBadRequest('The number of sort_keys and sort_dirs must be same');
  const absent = keys.filter((k) => !sortable.has(k));
  if (absent.length > 0) throw new HttpBadRequest(`[${absent.map((k) => `'${k}'`).join(', ')}] is invalid attribute for sort_keys`);
  const badDirs = dirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length > 0) throw new HttpBadRequest(`[${badDirs.map((d) => `'${d}'`).join(', ')}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  const limitText = query.get('limit') ?? '0';
  const limit = /^\d+$/.test(limitText.trim()) ? Number(limitText.trim()) : Number.NaN;
  if (!Number.isSafeInteger(limit)) throw new BadRequest('limit', `Limit must be an integer 0 or greater and not '${limitText}'`);
  return {
    filters,
    fields: query.getAll('fields').flatMap((f) => f.split(',')).filter((f) => f !== ''),
    sorts: keys.map((k, i) => [k, dirs[i] === 'asc'] as const),
    limit: limit === 0 ? undefined : limit,
    marker: query.get('marker') ?? undefined,
    pageReverse: (query.get('page_reverse') ?? 'False').toLowerCase() === 'true',
  };
}

/** How a filter value compares with an attribute: Neutron converts the text with the attribute's converter first. */
function matches(value: unknown, wanted: readonly string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => matches(v, wanted));
  if (typeof value === 'boolean') return wanted.some((w) => ['true', '1'].includes(w.toLowerCase()) === value && ['true', 'false', '1', '0'].includes(w.toLowerCase()));
  if (value === null || value === undefined) return wanted.some((w) => w === '' || w === 'None');
  return wanted.includes(String(value));
}

/** `?tags=red,blue&tags=green`: each value may hold several tags, comma-separated (neutron/objects/tag.py `_get_tag_list`). */
function tagList(values: readonly string[]): string[] {
  return [...new Set(values.flatMap((v) => v.split(',')))];
}

/**
 * The `standard-attr-tag` list filters (neutron/objects/tag.py `_apply_tag_filters`): `tags` has
 * them all, `tags-any` one of them, `not-tags` not all of them, `not-tags-any` none of them.
 */
const TAG_FILTERS: Readonly<Record<string, (has: ReadonlySet<string>, wanted: readonly string[]) => boolean>> = {
  tags: (has, wanted) => wanted.every((t) => has.has(t)),
  'tags-any': (has, wanted) => wanted.some((t) => has.has(t)),
  'not-tags': (has, wanted) => !wanted.every((t) => has.has(t)),
  'not-tags-any': (has, wanted) => !wanted.some((t) => has.has(t)),
};

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/**
 * One page of `items` (already only those the caller may see) for `query`; `filterable` names
 * the attributes filters apply to (others are ignored, as Neutron ignores unknown filters by
 * default).
 */
export function listPage(items: readonly ApiResource[], query: ListQuery, filterable: (key: string) => boolean): ApiResource[] {
  let rows = items.filter((item) =>
    [...query.filters].every(([key, wanted]) => {
      const tagFilter = TAG_FILTERS[key];
      if (tagFilter) return !filterable('tags') || tagFilter(new Set(item.tags as readonly string[]), tagList(wanted));
      return !filterable(key) || matches(item[key], wanted);
    }),
  );
  const sorts = [...query.sorts.filter(([k]) => k !== 'id'), ['id', query.sorts.find(([k]) => k === 'id')?.[1] ?? true] as const];
  rows = rows.toSorted((a, b) => {
    for (const [key, asc] of sorts) {
      const c = compare(a[key], b[key]);
      if (c !== 0) return asc ? c : -c;
    }
    return 0;
  });
  let page = rows;
  if (query.limit !== undefined) {
    if (query.pageReverse) {
      const end = query.marker !== undefined ? rows.findIndex((r) => r.id === query.marker) : rows.length;
      const stop = end < 0 ? rows.length : end;
      page = rows.slice(Math.max(0, stop - query.limit), stop);
    } else {
      const start = query.marker !== undefined ? rows.findIndex((r) => r.id === query.marker) + 1 : 0;
      page = rows.slice(start, start + query.limit);
    }
  }
  return page;
}

/** The `<collection>_links` Neutron gives a paged list (none without `limit`). */
export function pageLinks(url: string, params: URLSearchParams, page: readonly ApiResource[], query: ListQuery): { rel: string; href: string }[] {
  if (query.limit === undefined) return [];
  const links: { rel: string; href: string }[] = [];
  const short = page.length < query.limit;
  const link = (marker: unknown, reverse: boolean): string => {
    const p = new URLSearchParams(params);
    p.delete('marker');
    p.delete('page_reverse');
    if (marker !== undefined) p.set('marker', String(marker));
    if (reverse) p.set('page_reverse', 'True');
    return `${url}?${p.toString()}`;
  };
  if (!(short && !query.pageReverse)) links.push({ rel: 'next', href: link(page.at(-1)?.id, false) });
  if (!(short && query.pageReverse)) links.push({ rel: 'previous', href: link(page[0]?.id, true) });
  return links;
}

/** `fields=`: only those attributes (unknown names are dropped, as Neutron does). */
export function selectFields(item: ApiResource, fields: readonly string[]): ApiResource {
  if (fields.length === 0) return item;
  return Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]]));
}
