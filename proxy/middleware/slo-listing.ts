import { type ListingRecord, listingToJson } from '../../common/listing-format.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ProxyHandler, ProxyRequest } from '../request.ts';
import { headerOf, isSuccess, lowerCaseHeaders, readWhole } from './subresponse.ts';

/** Largest listing body rewritten (Swift's `MAX_CONTAINER_LISTING_CONTENT_LENGTH`). */
const MAX_LISTING_BYTES = 1024 * 1024 * 16;

/**
 * Container listings with SLO manifests in them (Swift's `handle_container_listing`): a
 * manifest's row carries the container update's etag `<manifest md5>; slo_etag=<slo etag>`;
 * it is split into `hash` (the manifest's MD5) and `slo_etag` (quoted), as clients expect.
 * `listing_formats` has every listing answered as JSON here and renders the client's format
 * (XML shows `slo_etag` too, plain text no etags). Other answers pass as they are.
 */
export async function sloContainerListing(next: ProxyHandler, req: ProxyRequest): Promise<ServerResponse> {
  const response = await next(req);
  if (req.method !== 'GET' || !isSuccess(response.status)) return response;
  const type = (headerOf(response, 'content-type') ?? '').toLowerCase();
  const declared = Number(headerOf(response, 'content-length'));
  if (!type.startsWith('application/json') || !(declared <= MAX_LISTING_BYTES)) return response;
  const text = (await readWhole(response.body, MAX_LISTING_BYTES)).toString('utf8');
  if (!text.includes('slo_etag=')) return { ...response, body: text };
  const body = rewriteJsonListing(text);
  return { ...response, headers: { ...lowerCaseHeaders(response.headers), 'content-length': String(Buffer.byteLength(body)) }, body };
}

/** Splits `slo_etag` out of each row's hash in a JSON listing. */
export function rewriteJsonListing(text: string): string {
  let listing: unknown;
  try {
    listing = JSON.parse(text);
  } catch {
    return text;
  }
  if (!Array.isArray(listing)) return text;
  const rows = (listing as Record<string, string | number | boolean | null>[]).map((row) => {
    if (typeof row !== 'object' || row === null || typeof row['hash'] !== 'string') return row;
    const split = splitSloEtag(row['hash']);
    return split ? { ...row, hash: split.hash, slo_etag: `"${split.sloEtag}"` } : row;
  });
  return listingToJson(rows as ListingRecord[]);
}

/** `abc; slo_etag=def; x=y` → hash `abc; x=y`, slo etag `def` (Swift's `parse_header`); undefined without one. */
function splitSloEtag(value: string): { hash: string; sloEtag: string } | undefined {
  const [base = '', ...params] = value.split(';');
  let sloEtag: string | undefined;
  const rest: string[] = [];
  for (const param of params) {
    const eq = param.indexOf('=');
    const key = (eq === -1 ? param : param.slice(0, eq)).trim().toLowerCase();
    const val = eq === -1 ? '' : param.slice(eq + 1).trim();
    if (key === 'slo_etag') sloEtag = val;
    else if (key !== '') rest.push(`; ${key}=${val}`);
  }
  return sloEtag === undefined ? undefined : { hash: base.trim() + rest.join(''), sloEtag };
}
