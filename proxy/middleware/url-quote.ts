/**
 * Percent-encoding as Swift does it, byte for byte. Swift quotes names with Python's
 * `urllib.parse.quote` (in `X-Copied-From`, bulk results, `Content-Disposition`) and unquotes
 * header values and bulk lines at the byte level, so names that are not UTF-8 survive the trip
 * and are reported as they were sent.
 */

import { pyQuote } from '../../common/py-quote.ts';

export { pyQuote };

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/**
 * Python's `unquote` at the byte level (Swift's `wsgi_unquote`): `%XX` with two hex digits
 * becomes that byte; anything else, `+` included, stays as it is.
 */
export function percentDecode(value: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] as number;
    if (byte === 0x25 && i + 2 < value.length) {
      const hi = hexValue(value[i + 1] as number);
      const lo = hexValue(value[i + 2] as number);
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/**
 * The UTF-8 text of `bytes`, or undefined when they are not valid UTF-8 or hold a NUL (Swift's
 * `check_utf8`; `internal`: NUL allowed, as in reserved names).
 */
export function utf8OrUndefined(bytes: Uint8Array, internal = false): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return !internal && text.includes('\u0000') ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * A header value as Swift's `wsgi_unquote` + `wsgi_to_str` read it: node hands values over as
 * latin-1 (one char per byte), which may hold raw UTF-8 or `%XX` escapes or both. Returns the
 * text, or undefined when the bytes are not valid UTF-8 (or hold a NUL, unless `internal`).
 */
export function unquoteHeader(value: string, internal = false): string | undefined {
  return utf8OrUndefined(percentDecode(Buffer.from(value, 'latin1')), internal);
}

/** A name as a path segment run: each `/`-separated part percent-encoded, slashes kept. */
export function quotePath(name: string): string {
  return pyQuote(name, '/');
}
