import { type ApiResource, listPage, pageLinks, parseListQuery, selectFields } from '../listing.ts';
import { ok, type NetworkRequest, type NetworkResponse } from '../request.ts';

/** Attributes every resource sorts by (Neutron's `is_sort_key`), beside those a resource adds. */
const COMMON_SORT_KEYS = ['id', 'name', 'project_id', 'tenant_id', 'created_at', 'updated_at', 'revision_number', 'description', 'status'];

/**
 * `GET /v2.0/<collection>`: the resources the caller may see, filtered, sorted, paged and cut
 * to `fields` as Neutron does, with `<collection>_links` when paged.
 */
export function listResponse(req: NetworkRequest, collection: string, items: readonly ApiResource[], sortKeys: readonly string[] = []): NetworkResponse {
  const query = parseListQuery(req.query, new Set([...COMMON_SORT_KEYS, ...sortKeys]));
  const known = new Set(items.flatMap((i) => Object.keys(i)));
  const page = listPage(items, query, (key) => known.has(key));
  const links = pageLinks(`${req.base}${req.path}`, req.query, page, query);
  const body: Record<string, unknown> = { [collection]: page.map((item) => selectFields(item, query.fields)) };
  if (links.length > 0) body[`${collection}_links`] = links;
  return ok(body);
}

/** `GET /v2.0/<collection>/<id>`: one resource, cut to `fields`. */
export function showResponse(req: NetworkRequest, resource: string, item: ApiResource, status = 200): NetworkResponse {
  const fields = req.query.getAll('fields').flatMap((f) => f.split(',')).filter((f) => f !== '');
  return ok({ [resource]: selectFields(item, fields) }, status);
}

/** A new resource id: Neutron's are UUIDs. */
export function newId(): string {
  return crypto.randomUUID();
}
