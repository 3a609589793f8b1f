import { accountToXml, containerToXml, listingAccept, type ListingContentType, listingContentType, type ListingRecord, listingToJson, listingToText } from '../../common/listing-format.ts';
import type { ResponseHeaders } from '../../common/http/server.ts';
import { allowsReservedNames, RESERVED } from '../../common/reserved-name.ts';
import type { Middleware, ProxyRequest } from '../request.ts';
import { readListing } from './listing-body.ts';
import { requestTarget } from './segment-path.ts';
import { lowerCaseHeaders } from './subresponse.ts';

/**
 * Swift's `listing_formats`: an account or container GET is asked of the rest of the pipeline
 * as JSON, whatever the client wants, and the answer is rendered here in the client's format
 * (`format=json|xml|plain` or its `Accept`: 406 when it accepts none, 400 when the header is
 * malformed, before anything else). So the middlewares after it (slo, versioned_writes,
 * symlink) change listing rows in one form only, and clients never see reserved (NUL-led)
 * names in a listing. A listing that is not JSON (a staticweb page) or is too big (Swift's
 * `MAX_CONTAINER_LISTING_CONTENT_LENGTH`) passes as it is. HEAD is left to the servers, which
 * set its Content-Type themselves.
 *
 * What the client accepts is left in `env.listingAccept` for middlewares that answer a listing
 * in one format only and set `env.listingAsIs` (object versioning's `?versions`).
 */
export function listingFormats(validApiVersions: readonly string[]): Middleware {
  return (next) => async (req) => {
    if (req.method !== 'GET') return next(req);
    const target = requestTarget(req.path, allowsReservedNames(req.headers));
    if (!target || target.object !== undefined || !validApiVersions.includes(target.version)) return next(req);
    const format = req.query.get('format') ?? undefined;
    const wanted = listingContentType(format, req.headers['accept']);
    const accept = listingAccept(format, req.headers['accept']);
    if (accept !== undefined) req.env.listingAccept = accept;
    const query = new URLSearchParams(req.query);
    query.set('format', 'json');
    const rawQuery = req.rawQuery === undefined ? undefined : rawWithJsonFormat(req.rawQuery);
    const response = await next({ ...req, query, ...(rawQuery !== undefined ? { rawQuery } : {}) });
    if (response.status !== 200 && response.status !== 204) return response;
    if (req.env.listingAsIs) return response;
    const headers = lowerCaseHeaders(response.headers);
    if (!req.query.has('format')) headers['vary'] = headers['vary'] === undefined ? 'Accept' : varyWithAccept(headers['vary']);
    const { rows, text } = await readListing(response);
    if (!rows) return { ...response, headers, ...(text !== undefined ? { body: text } : {}) };
    const shown = allowsReservedNames(req.headers) ? rows : withoutReservedNames(rows, req, target.container);
    const body = render(wanted, shown, target.account, target.container);
    const out: ResponseHeaders = { ...headers, 'content-type': `${wanted}; charset=utf-8`, 'content-length': String(Buffer.byteLength(body)) };
    return { status: body === '' ? 204 : response.status, headers: out, body };
  };
}

function varyWithAccept(vary: string): string {
  return vary.toLowerCase().split(',').map((v) => v.trim()).includes('accept') ? vary : `${vary}, Accept`;
}

/** Swift's `filter_reserved`: rows whose name or subdir holds a NUL are dropped, and logged. */
function withoutReservedNames(listing: readonly ListingRecord[], req: ProxyRequest, container: string | undefined): ListingRecord[] {
  return listing.filter((row) => {
    const name = row['name'] ?? row['subdir'];
    if (typeof name !== 'string' || !name.includes(RESERVED)) return true;
    req.env.logger.warn(`${container === undefined ? 'account' : 'container'} listing had a reserved byte in a name`, { path: req.path, name: JSON.stringify(name) });
    return false;
  });
}

function render(type: ListingContentType, listing: readonly ListingRecord[], account: string, container: string | undefined): string {
  if (type.endsWith('/xml')) return container === undefined ? accountToXml(listing, account) : containerToXml(listing, container);
  if (type === 'text/plain') return listingToText(listing);
  return listingToJson(listing);
}

/**
 * The client's raw query with `format=json`, changed as `URLSearchParams.set` changes the parsed
 * one (the first `format` replaced in place, the others dropped, else appended), so the
 * storage nodes still get a marker's bytes that are not UTF-8 and refuse it as Swift's do.
 */
function rawWithJsonFormat(raw: string): string {
  const out: string[] = [];
  let replaced = false;
  for (const pair of raw.split('&')) {
    const name = pair.split('=', 1)[0] ?? '';
    if (new URLSearchParams(`${name}=`).keys().next().value !== 'format') {
      out.push(pair);
    } else if (!replaced) {
      out.push('format=json');
      replaced = true;
    }
  }
  if (!replaced) out.push('format=json');
  return out.filter((p) => p !== '').join('&');
}
