import { checkMetadata, type HeaderBag, headerToUtf8, type MetadataTarget } from '../constraints.ts';
import { ConstraintError } from '../errors.ts';
import { titleCaseHeader } from '../http/title-case.ts';
import { Timestamp } from '../timestamp.ts';
import { parseTimestampHeader } from '../http/request-timestamp.ts';
import type { Metadata } from './metadata.ts';

/**
 * Reading the headers of the backend protocol for the account and container servers. Errors
 * are `ConstraintError`s with Swift's messages; the servers turn them into 400s.
 */

/** An optional timestamp header. @throws {ConstraintError} naming the header when it is bad. */
export function optionalTimestamp(headers: HeaderBag, name: string): Timestamp | undefined {
  const value = headers[name];
  if (value === undefined || value === '') return undefined;
  return parseTimestampHeader(value, name);
}

/** A timestamp header that must be there. */
export function requiredTimestamp(headers: HeaderBag, name: string): Timestamp {
  const value = headers[name];
  if (value === undefined) throw new ConstraintError('bad_request', `Missing ${titleCaseHeader(name)} header`);
  return parseTimestampHeader(value, name);
}

/** A non-negative integer header that must be there (`X-Size`, `X-Object-Count`, ...). */
export function requiredCount(headers: HeaderBag, name: string): number {
  const value = headers[name];
  if (value === undefined) throw new ConstraintError('bad_request', `Missing ${titleCaseHeader(name)} header`);
  const n = /^\s*\d{1,16}\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new ConstraintError('bad_request', `Invalid ${titleCaseHeader(name)} header`);
  return n;
}

/** A string header that must be there (`X-Content-Type`, `X-Etag`), as UTF-8 text. */
export function requiredText(headers: HeaderBag, name: string): string {
  const value = headers[name];
  if (value === undefined) throw new ConstraintError('bad_request', `Missing ${titleCaseHeader(name)} header`);
  const text = headerToUtf8(value);
  if (text === undefined) throw new ConstraintError('bad_request', `Invalid ${titleCaseHeader(name)} header`);
  return text;
}

/**
 * The storage policy index a request names (`X-Backend-Storage-Policy-Index`), checked against
 * the cluster's policies; undefined when absent.
 * @throws {ConstraintError} `Invalid X-Storage-Policy-Index '...'` (Swift's words).
 */
export function policyIndexHeader(headers: HeaderBag, policies: ReadonlyMap<number, string>, name = 'x-backend-storage-policy-index'): number | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const index = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!policies.has(index)) throw new ConstraintError('bad_request', `Invalid X-Storage-Policy-Index '${value}'`);
  return index;
}

/**
 * The metadata a request sets (Swift's `_update_metadata`): `X-<Target>-Meta-*`,
 * `X-<Target>-Sysmeta-*` and the extra headers the server keeps, each stamped with the
 * request's timestamp; an empty value removes the key. `X-Remove-<Target>-Meta-*` also
 * removes (the proxy normally translates it). Values are checked as Swift's `check_metadata`
 * does and stored as text.
 * @throws {ConstraintError} `bad_request` for metadata over the limits or not UTF-8.
 */
export function metadataFromHeaders(headers: HeaderBag, target: Exclude<MetadataTarget, 'object'>, timestamp: Timestamp, keep: readonly string[] = []): Metadata {
  checkMetadata(headers, target);
  const meta = `x-${target}-meta-`;
  const sysmeta = `x-${target}-sysmeta-`;
  const remove = `x-remove-${target}-meta-`;
  const ts = timestamp.internal;
  const out: Record<string, readonly [string, string]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !name.startsWith(remove)) continue;
    out[titleCaseHeader(`${meta}${name.slice(remove.length)}`)] = ['', ts];
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (!(name.startsWith(meta) || name.startsWith(sysmeta) || keep.includes(name))) continue;
    const key = headerToUtf8(name);
    const text = headerToUtf8(value);
    if (key === undefined || text === undefined) throw new ConstraintError('bad_request', 'Metadata must be valid UTF-8');
    out[titleCaseHeader(key)] = [text, ts];
  }
  return out;
}

/** Text as a header value for node, which writes header strings as latin-1 (one byte per char). */
export function toHeaderValue(text: string): string {
  // ASCII needs no work, and most values are ASCII.
  return /^[\x00-\x7f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** `Last-Modified` for a timestamp, rounded up to the second as Swift does. */
export function lastModified(timestamp: string): string {
  return new Date(Math.ceil(Timestamp.parse(timestamp).seconds) * 1000).toUTCString();
}
