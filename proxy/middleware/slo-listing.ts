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
 * JSON and XML listings are rewritten; plain ones show no etags. Other listings pass as they are.
 */
export async function sloContainerListing(next: ProxyHandler, req: ProxyRequest): Promise<ServerResponse> {
  const response = await next(req);
  if (req.method !== 'GET' || !isSuccess(response.status)) return response;
  const type = (headerOf(response, 'content-type') ?? '').toLowerCase();
  const json = type.startsWith('application/json');
  const xml = /^(application|text)\/xml/.test(type);
  const declared = Number(headerOf(response, 'content-length'));
  if ((!json && !xml) || !(declared <= MAX_LISTING_BYTES)) return response;
  const text = (await readWhole(response.body, MAX_LISTING_BYTES)).toString('utf8');
  if (!text.includes('slo_etag=')) return { ...response, body: text };
  const body = json ? rewriteJsonListing(text) : rewriteXmlListing(text);
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

/** The same for an XML listing: `<hash>` loses the parameter, `<slo_etag>` follows `<last_modified>`. */
export function rewriteXmlListing(text: string): string {
  return text.replace(/<object>(.*?)<\/object>/gs, (object: string, inner: string) => {
    const m = /<hash>([^<]*)<\/hash>/.exec(inner);
    const split = m ? splitSloEtag(m[1] as string) : undefined;
    if (!m || !split) return object;
    let out = inner.replace(m[0], `<hash>${split.hash}</hash>`);
    const slo = `<slo_etag>"${split.sloEtag}"</slo_etag>`;
    out = out.includes('</last_modified>') ? out.replace(/(<\/last_modified>|<last_modified \/>)/, `$1${slo}`) : `${out}${slo}`;
    return `<object>${out}</object>`;
  });
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
