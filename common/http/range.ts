/**
 * HTTP byte ranges with Swift's (swob's) rules:
 * - a syntactically bad `Range` header is ignored (the whole object, 200);
 * - ranges starting past the end are dropped; none left means 416 (`bytes *\/<length>`);
 * - "egregious" requests are refused with 416 too: more than 50 ranges, more than 2
 *   overlapping, or 8 or more out of ascending order;
 * - a suffix range (`bytes=-n`) on an empty object gets the (empty) whole object, 200.
 */

/** Inclusive bounds as sent; `undefined` for an open side. */
export type RangeSpec = readonly [start: number | undefined, end: number | undefined];

const MAX_RANGES = 50;
const MAX_RANGE_OVERLAPS = 2;
const MAX_NONASCENDING_RANGES = 8;

/** Parses a `Range` header; undefined when it is not valid `bytes=` syntax (then it is ignored). */
export function parseRange(header: string | undefined): RangeSpec[] | undefined {
  if (header === undefined) return undefined;
  const value = header.replace(/ /g, '');
  if (!value.toLowerCase().startsWith('bytes=')) return undefined;
  const specs: RangeSpec[] = [];
  for (const part of value.slice(6).split(',')) {
    const dash = part.indexOf('-');
    if (dash === -1) return undefined;
    const a = part.slice(0, dash);
    const b = part.slice(dash + 1);
    if ((a !== '' && !/^\d+$/.test(a)) || (b !== '' && !/^\d+$/.test(b))) return undefined;
    const start = a === '' ? undefined : Number(a);
    const end = b === '' ? undefined : Number(b);
    if (start === undefined && end === undefined) return undefined;
    if (start !== undefined && end !== undefined && end < start) return undefined;
    specs.push([start, end]);
  }
  return specs.length > 0 ? specs : undefined;
}

/** Half-open byte ranges `[start, end)` to serve. */
export type ByteRange = readonly [start: number, end: number];

/**
 * The ranges to serve for an object of `length` bytes: a non-empty list (206), an empty list
 * (416), or `undefined` when the whole object should be served (200).
 */
export function rangesForLength(specs: readonly RangeSpec[] | undefined, length: number): ByteRange[] | undefined {
  if (specs === undefined || specs.length === 0) return undefined;
  const ranges: ByteRange[] = [];
  for (const [start, end] of specs) {
    if (start === undefined) {
      const suffix = end as number;
      if (suffix === 0) continue;
      ranges.push(suffix > length ? [0, length] : [length - suffix, length]);
    } else if (start < length) {
      ranges.push([start, end === undefined ? length : Math.min(end + 1, length)]);
    }
  }
  if (ranges.length > MAX_RANGES) return [];
  let overlaps = 0;
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [s1, e1] = ranges[i] as ByteRange;
      const [s2, e2] = ranges[j] as ByteRange;
      if ((s1 < s2 && s2 < e1) || (s1 < e2 && e2 < e1) || (s2 < s1 && s1 < e2) || (s2 < e1 && e1 < e2)) {
        overlaps++;
        if (overlaps > MAX_RANGE_OVERLAPS) return [];
      }
    }
  }
  const ascending = ranges.every((r, i) => i === 0 || compareRanges(ranges[i - 1] as ByteRange, r) <= 0);
  if (!ascending && ranges.length >= MAX_NONASCENDING_RANGES) return [];
  if (ranges.length > 0 && length === 0) return undefined; // bytes=-n of nothing: the whole (empty) object
  return ranges;
}

function compareRanges(a: ByteRange, b: ByteRange): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** `bytes 0-99/1000` for the half-open range [0, 100). */
export function contentRange(range: ByteRange, length: number): string {
  return `bytes ${range[0]}-${range[1] - 1}/${length}`;
}

/** A random 32-hex-digit boundary, as swob makes them. */
export function newBoundary(random: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(random() * 16).toString(16);
  return s;
}

/**
 * The framing of a `multipart/byteranges` body as Swift writes it: before each part
 * `--B\r\nContent-Type: <type>\r\nContent-Range: bytes a-b/N\r\n\r\n`, after each part `\r\n`,
 * and `--B--` at the end. Returns the part headers and the total body length.
 */
export function multipartFraming(ranges: readonly ByteRange[], length: number, contentType: string, boundary: string): { partHeaders: string[]; trailer: string; bodyLength: number } {
  const partHeaders = ranges.map((r) => `--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(r, length)}\r\n\r\n`);
  const trailer = `--${boundary}--`;
  let bodyLength = Buffer.byteLength(trailer);
  ranges.forEach((r, i) => {
    bodyLength += Buffer.byteLength(partHeaders[i] as string) + (r[1] - r[0]) + 2;
  });
  return { partHeaders, trailer, bodyLength };
}

/**
 * Streams a multipart/byteranges body, reading each range with `read(start, end)`.
 */
export async function* multipartBody(ranges: readonly ByteRange[], framing: { partHeaders: readonly string[]; trailer: string }, read: (start: number, end: number) => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < ranges.length; i++) {
    const [start, end] = ranges[i] as ByteRange;
    yield Buffer.from(framing.partHeaders[i] as string);
    yield* read(start, end);
    yield Buffer.from('\r\n');
  }
  yield Buffer.from(framing.trailer);
}
