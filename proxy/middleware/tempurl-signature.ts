import { createHmac, timingSafeEqual } from 'node:crypto';
import { pyQuote } from './url-quote.ts';

/**
 * The pure parts of TempURL (Swift's `tempurl` middleware and `common/digest.py`): reading the
 * signature and expiry a URL carries, and computing the HMAC a key gives for a request.
 */

/** The HMAC digests a TempURL signature may use. */
export type TempUrlDigest = 'sha1' | 'sha256' | 'sha512';

/** Digests the cluster accepts (Swift 2.30's `allowed_digests`). */
export const ALLOWED_DIGESTS: readonly TempUrlDigest[] = ['sha1', 'sha256', 'sha512'];
/** Digests still accepted but advised against (`deprecated_digests` in `/info`). */
export const DEPRECATED_DIGESTS: readonly TempUrlDigest[] = ['sha1'];

const HEX_DIGESTS: Readonly<Record<number, TempUrlDigest>> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

/**
 * Swift's `extract_digest_and_algorithm`: `<digest>:<base64>` (standard or URL-safe, padding
 * optional) or plain hex, whose length tells the digest. Returns the digest and the signature
 * as lower-case hex, or undefined for a malformed value or an unknown digest. Note that `+` in
 * a query string arrives as a space, which is malformed: clients send URL-safe base64.
 */
export function parseSignature(value: string): { digest: TempUrlDigest; hex: string } | undefined {
  const colon = value.indexOf(':');
  if (colon !== -1) {
    const algo = value.slice(0, colon);
    let b64 = value.slice(colon + 1);
    if (/[-_]/.test(b64) && !/[+/]/.test(b64)) b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
    const body = b64.replace(/^=+|=+$/g, '');
    if (!/^[A-Za-z0-9+/]*$/.test(body) || body.length % 4 === 1) return undefined;
    if (algo !== 'sha1' && algo !== 'sha256' && algo !== 'sha512') return undefined;
    return { digest: algo, hex: Buffer.from(body, 'base64').toString('hex') };
  }
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(value)) return undefined;
  const digest = HEX_DIGESTS[value.length];
  return digest === undefined ? undefined : { digest, hex: value };
}

/** Python's `int()` of a string: optional spaces and sign, digits (with single underscores). */
function pyInt(value: string): number | undefined {
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number((m[2] as string).replace(/_/g, ''));
  return m[1] === '-' ? -n : n;
}

/** `%Y-%m-%dT%H:%M:%SZ` as Python's `strptime` reads it, as Unix seconds; undefined if not one. */
function iso8601Seconds(value: string): number | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})Z$/.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 61) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
}

/**
 * Swift's `normalize_temp_url_expires`: `temp_url_expires` as Unix seconds, from an integer or
 * an ISO 8601 UTC time (`2030-01-01T00:00:00Z`). Undefined when the URL has none; 0 when it is
 * unreadable or already past (both make the URL invalid).
 */
export function normalizeExpires(value: string | null | undefined, nowSeconds: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const seconds = pyInt(value) ?? iso8601Seconds(value) ?? 0;
  return seconds < nowSeconds ? 0 : seconds;
}

/** What a TempURL signature covers. */
export interface SignedRequest {
  readonly method: string;
  /** Unix seconds, as an integer (an ISO 8601 URL is signed with the seconds it stands for). */
  readonly expires: number;
  /** `/v1/<account>/<container>/<object>` unquoted, or `prefix:/v1/<account>/<container>/<prefix>`. */
  readonly path: string | Uint8Array;
  /** `temp_url_ip_range`, when the URL is limited to addresses. */
  readonly ipRange?: string;
}

/**
 * Swift's `get_hmac`: the HMAC of `method\nexpires\npath`, or `ip=<range>\nmethod\nexpires\npath`
 * for an address-limited URL, under `key`, as lower-case hex. The key and the path are taken as
 * bytes (a key stored in metadata is the UTF-8 the client set).
 */
export function tempUrlHmac(request: SignedRequest, key: Uint8Array, digest: TempUrlDigest): string {
  const head = `${request.ipRange ? `ip=${request.ipRange}\n` : ''}${request.method}\n${request.expires}\n`;
  const path = typeof request.path === 'string' ? Buffer.from(request.path, 'utf8') : request.path;
  return createHmac(digest, key).update(Buffer.concat([Buffer.from(head, 'utf8'), path])).digest('hex');
}

/** Compares two signatures in constant time (for equal lengths). */
export function sameSignature(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Swift's `disposition_format`: `attachment; filename="<name>"; filename*=UTF-8''<name>`, the
 * plain form quoted keeping spaces and slashes, the RFC 5987 form fully quoted.
 */
export function dispositionFormat(type: 'attachment' | 'inline', filename: string): string {
  return `${type}; filename="${pyQuote(filename, ' /')}"; filename*=UTF-8''${pyQuote(filename, '/')}`;
}
