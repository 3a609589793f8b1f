const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;

/**
 * Python's `urllib.parse.quote(value, safe)`: every byte except letters, digits, `_.-~` and
 * the `safe` characters becomes `%XX` (upper-case hex). A string is taken as UTF-8. Swift
 * quotes names this way (in headers, listings, and the paths container sync signs), so a
 * value quoted here matches Swift's byte for byte.
 */
export function pyQuote(value: string | Uint8Array, safe = '/'): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && (ALWAYS_SAFE.test(ch) || safe.includes(ch)) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
