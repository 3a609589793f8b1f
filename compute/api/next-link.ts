import type { ComputeRequest } from '../request.ts';

export interface NextLink {
  readonly rel: 'next';
  readonly href: string;
}

/**
 * Nova's `_get_next_link`: the request's query parameters sorted (as `OrderedDict(sorted(
 * request.params.items()))` keeps them: one value per name, the last in sorted order), then
 * `marker` set to the last identifier of the page. `collection` is the path under `/v2.1/`
 * (`servers/detail`, `os-keypairs`...).
 */
export function nextLink(req: Pick<ComputeRequest, 'base' | 'query'>, collection: string, marker: string): NextLink {
  const sorted = [...req.query.entries()].sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  const params = new URLSearchParams();
  for (const [k, v] of sorted) params.set(k, v);
  params.set('marker', marker);
  return { rel: 'next', href: `${req.base}/v2.1/${collection}?${params.toString()}` };
}
