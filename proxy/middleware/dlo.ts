import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { normalizeEtag } from '../../common/http/conditional.ts';
import { parseRange } from '../../common/http/range.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { Middleware, ProxyHandler, ProxyRequest } from '../request.ts';
import { subrequest } from '../request.ts';
import type { DloConfig } from './large-object-config.ts';
import { largeObjectResponse } from './large-object-response.ts';
import { fetchPossibleManifest } from './manifest-fetch.ts';
import { RangeWalker, type SegmentSpan } from './segment-range.ts';
import { ListingIterError, rateLimited, type SegmentPiece, segmentedBody } from './segmented-body.ts';
import { requestTarget, swiftPath, unquoteHeader } from './segment-path.ts';
import { headerOf, isSuccess, lowerCaseHeaders, readWhole, respond, withoutBody } from './subresponse.ts';

/**
 * Dynamic large objects (Swift's `dlo` middleware). A DLO is a manifest object (usually empty)
 * with `X-Object-Manifest: <container>/<prefix>`; a GET or HEAD of it answers for the
 * concatenation of the objects listed under that prefix, in name order:
 *
 * 1. the manifest is read (again without `Range`/conditions if they were applied to it);
 * 2. the segment container is listed (`format=json`, `prefix`, pages of `marker`) to learn
 *    the total size and the etag: the quoted MD5 of the segments' etags in order;
 * 3. conditions and a single `Range` apply to the whole (several ranges get the whole object,
 *    200, as Swift's DLO answers), and the body streams the segments through GET
 *    subrequests, each checked against its listing entry, so a segment replaced during the
 *    read fails the read instead of serving other bytes.
 *
 * Swift stops at the first page of 10,000 segments and then answers without a length or
 * etag; here every page is listed first, so even the largest DLO has both. `?multipart-manifest=get`
 * reads the manifest object itself. A PUT with a malformed `X-Object-Manifest` is a 400.
 */
export function dlo(config: DloConfig, deps: { readonly clock: Clock; readonly listingLimit: number }): Middleware {
  return (next) => async (req) => {
    const target = requestTarget(req.path);
    if (!target || target.object === undefined) return next(req);
    if ((req.method === 'GET' || req.method === 'HEAD') && req.query.get('multipart-manifest') !== 'get') {
      return getOrHead(next, req, target.version, target.account, config, deps);
    }
    if (req.method === 'PUT' && req.headers['x-object-manifest'] !== undefined) checkManifestHeader(req.headers['x-object-manifest']);
    return next(req);
  };
}

/**
 * Swift's check of `X-Object-Manifest` on PUT: `<container>/<prefix>`, both non-empty, no
 * query characters, no leading slash on the prefix.
 * @throws {HttpError} 400 otherwise.
 */
export function checkManifestHeader(value: string): void {
  const slash = value.indexOf('/');
  const container = slash === -1 ? '' : value.slice(0, slash);
  const prefix = slash === -1 ? '' : value.slice(slash + 1);
  if (!container || !prefix || value.includes('?') || value.includes('&') || prefix.startsWith('/')) {
    throw new HttpError(400, 'X-Object-Manifest must be in the format container/prefix');
  }
}

/** One row of a JSON container listing, as far as a DLO cares. */
interface ListingRow {
  readonly name: string;
  readonly hash: string;
  readonly bytes: number;
}

interface Listing {
  readonly version: string;
  readonly account: string;
  readonly container: string;
  readonly prefix: string;
}

async function getOrHead(next: ProxyHandler, req: ProxyRequest, version: string, account: string, config: DloConfig, deps: { clock: Clock; listingLimit: number }): Promise<ServerResponse> {
  const isDlo = (r: ServerResponse): boolean => headerOf(r, 'x-object-manifest') !== undefined;
  const { response, manifest } = await fetchPossibleManifest(next, req, isDlo, req.method, 'DLO');
  if (!manifest) return response;
  const value = unquoteHeader(headerOf(response, 'x-object-manifest') ?? '');
  const slash = value.indexOf('/');
  // A manifest header that never went through the PUT check (there is no segment container
  // to list) is served as the plain object it is.
  if (slash <= 0) return response;
  await withoutBody(response);
  const listing: Listing = { version, account, container: value.slice(0, slash), prefix: value.slice(slash + 1) };

  const firstPage = await listPage(next, req, listing, '');
  if (!Array.isArray(firstPage)) return req.method === 'HEAD' ? withoutBody(firstPage) : firstPage;
  const { length, etag } = await totals(next, req, listing, firstPage, deps.listingLimit);
  const name = req.path;
  // Swift's DLO serves one range only: a request for several gets the whole object (200).
  const wholeForRanges = (parseRange(req.headers['range'])?.length ?? 0) > 1;
  return largeObjectResponse(wholeForRanges ? { ...req, headers: { ...req.headers, range: undefined } } : req, {
    headers: lowerCaseHeaders(response.headers),
    length,
    etag,
    contentType: headerOf(response, 'content-type') ?? 'application/octet-stream',
    body: (spans) =>
      segmentedBody(
        rateLimited(segmentPieces(next, req, listing, firstPage, spans, deps.listingLimit), {
          after: config.rate_limit_after_segment,
          perSecond: config.rate_limit_segments_per_sec,
          clock: deps.clock,
          signal: req.signal,
        }),
        { next, parent: req, source: 'DLO', name, clock: deps.clock, logger: req.env.logger, maxGetTime: config.max_get_time, expectedLength: spans.reduce((n, s) => n + s.last - s.first + 1, 0) },
      ),
  });
}

/** The size and etag of the whole DLO: every page of the listing, in order. */
async function totals(next: ProxyHandler, req: ProxyRequest, listing: Listing, firstPage: readonly ListingRow[], limit: number): Promise<{ length: number; etag: string }> {
  const md5 = createHash('md5');
  let length = 0;
  let page = firstPage;
  for (;;) {
    for (const row of page) {
      length += row.bytes;
      md5.update(normalizeEtag(row.hash));
    }
    const last = page[page.length - 1];
    if (page.length < limit || !last) break;
    const more = await listPage(next, req, listing, last.name);
    if (!Array.isArray(more)) {
      await withoutBody(more);
      throw new HttpError(more.status >= 500 ? 503 : 409, undefined, {}, { cause: new ListingIterError(`Got status ${more.status} listing container /${listing.account}/${listing.container}`) });
    }
    page = more;
  }
  return { length, etag: md5.digest('hex') };
}

/** The segment pieces of each span, walking the listing again page by page (the first page is kept). */
async function* segmentPieces(next: ProxyHandler, req: ProxyRequest, listing: Listing, firstPage: readonly ListingRow[], spans: readonly SegmentSpan[], limit: number): AsyncGenerator<SegmentPiece> {
  for (const span of spans) {
    const walker = new RangeWalker(span.first, span.last);
    let page = firstPage;
    for (;;) {
      for (const row of page) {
        if (walker.done) break;
        const part = walker.next(row.bytes);
        if (!part) continue;
        yield {
          kind: 'object',
          path: swiftPath(listing.version, listing.account, `${listing.container}/${row.name}`),
          first: part.first,
          last: part.last,
          // A segment that is itself an SLO lists as `<etag>; slo_etag=...`; its GET shows the first part.
          etag: normalizeEtag(row.hash.split(';')[0]?.trim() ?? ''),
          size: row.bytes,
        };
      }
      const last = page[page.length - 1];
      if (walker.done || page.length < limit || !last) break;
      const more = await listPage(next, req, listing, last.name);
      if (!Array.isArray(more)) {
        await withoutBody(more);
        throw new ListingIterError(`Got status ${more.status} listing container /${listing.account}/${listing.container}`);
      }
      page = more;
    }
  }
}

/** One page of the segment listing, or the container's answer when it is not a listing. */
async function listPage(next: ProxyHandler, req: ProxyRequest, listing: Listing, marker: string): Promise<ListingRow[] | ServerResponse> {
  const query = new URLSearchParams({ format: 'json', prefix: listing.prefix });
  if (marker !== '') query.set('marker', marker);
  const response = await respond(next, subrequest(req, { method: 'GET', path: swiftPath(listing.version, listing.account, listing.container), query, headers: {}, source: 'DLO' }));
  if (!isSuccess(response.status)) return response;
  const text = (await readWhole(response.body, 256 * 1024 * 1024)).toString('utf8');
  if (response.status === 204 || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ListingIterError(`Bad JSON listing of /${listing.account}/${listing.container}`);
  }
  if (!Array.isArray(parsed)) throw new ListingIterError(`Bad JSON listing of /${listing.account}/${listing.container}`);
  const rows: ListingRow[] = [];
  for (const item of parsed as Record<string, unknown>[]) {
    if (typeof item?.['name'] !== 'string') continue;
    rows.push({ name: item['name'], hash: String(item['hash'] ?? ''), bytes: Number(item['bytes'] ?? 0) || 0 });
  }
  return rows;
}
