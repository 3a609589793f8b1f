/**
 * Key order. LevelDB orders keys by their UTF-8 bytes, and Swift's SQLite listings order names
 * the same way (memcmp of UTF-8): that is code point order. JavaScript's `<` compares UTF-16
 * code units, which disagrees for characters above U+FFFF against U+E000..U+FFFF, so code that
 * compares names or keys itself uses these helpers.
 */

/** Maps a UTF-16 code unit so that unit order equals code point order. */
function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  // Surrogates (astral characters) sort above U+E000..U+FFFF in code point order.
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** Compares two strings in code point (UTF-8 byte) order: negative, zero or positive. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string that starts with `prefix`: its last code point
 * plus one (Swift's `prefix[:-1] + chr(ord(prefix[-1]) + 1)`). Keys starting with `prefix` are
 * exactly those in `[prefix, prefixEnd(prefix))`.
 */
export function prefixEnd(prefix: string): string {
  if (prefix === '') throw new RangeError('an empty prefix has no end');
  const last = prefix.codePointAt(prefix.length - 1) ?? 0;
  // A trailing low surrogate belongs to a pair: step back over both units.
  const isPair = prefix.length >= 2 && last >= 0xdc00 && last <= 0xdfff;
  const point = isPair ? (prefix.codePointAt(prefix.length - 2) ?? 0) : last;
  const head = prefix.slice(0, prefix.length - (point > 0xffff ? 2 : 1));
  let next = point + 1;
  if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // lone surrogates are not characters
  // Past the last code point: everything under `prefix` is also under `head`.
  if (next > 0x10ffff) return prefixEnd(head);
  return head + String.fromCodePoint(next);
}

/** A non-negative integer as fixed-width lower-case hex, so numeric order is key order. */
export function fixedHex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
