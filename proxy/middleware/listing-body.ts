import { type ListingRecord, listingToJson } from '../../common/listing-format.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { headerOf, lowerCaseHeaders, readWhole } from './subresponse.ts';

/** Largest JSON listing read (Swift's `MAX_CONTAINER_LISTING_CONTENT_LENGTH`). */
export const MAX_LISTING_BYTES = 1024 * 10_000 * 2;

/** A listing row as middlewares change it: a parsed JSON object. */
export type ListingRow = Record<string, string | number | boolean | null | undefined>;

/**
 * The rows of a JSON listing answer (after `listing_formats`, every account and container GET
 * below it answers JSON); undefined when the answer is not a JSON list of objects, or too big,
 * or (to spare parsing it) its text does not contain `mentions`. The body is read either way:
 * an answer whose rows are not given comes back in `text`.
 */
export async function readListing(response: ServerResponse, mentions?: string): Promise<{ rows?: ListingRow[]; text?: string }> {
  const type = (headerOf(response, 'content-type') ?? '').split(';')[0]?.trim();
  const declared = headerOf(response, 'content-length');
  if (type !== 'application/json' || (declared !== undefined && !(Number(declared) <= MAX_LISTING_BYTES))) return {};
  const text = (await readWhole(response.body, MAX_LISTING_BYTES)).toString('utf8');
  if (mentions !== undefined && !text.includes(mentions)) return { text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { text };
  }
  if (!Array.isArray(parsed) || !parsed.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) return { text };
  return { rows: parsed as ListingRow[] };
}

/** `response` with `rows` as its JSON body. */
export function withListing(response: ServerResponse, rows: readonly ListingRow[]): ServerResponse {
  const body = listingToJson(rows as ListingRecord[]);
  return { ...response, headers: { ...lowerCaseHeaders(response.headers), 'content-length': String(Buffer.byteLength(body)) }, body };
}

/**
 * Reads a listing answer, changes its rows with `change` and answers them; an answer that is
 * not a JSON listing, or does not contain `mentions`, passes (its body, if read, kept).
 */
export async function rewriteListing(response: ServerResponse, change: (rows: ListingRow[]) => ListingRow[] | Promise<ListingRow[]>, mentions?: string): Promise<ServerResponse> {
  const { rows, text } = await readListing(response, mentions);
  if (rows) return withListing(response, await change(rows));
  return text === undefined ? response : { ...response, body: text };
}
