import { conditionalStatus } from '../../common/http/conditional.ts';
import { defaultErrorBody } from '../../common/http/http-error.ts';
import { parseHttpDate } from '../../common/http/http-date.ts';
import { type ByteRange, contentRange, multipartFraming, newBoundary, parseRange, rangesForLength } from '../../common/http/range.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import type { ProxyRequest } from '../request.ts';
import { SegmentError, validateFirstSegment } from './segmented-body.ts';
import type { SegmentSpan } from './segment-range.ts';

/** What a GET or HEAD of a large object (DLO or SLO) answers with, before ranges and conditions. */
export interface LargeObjectView {
  /** The manifest's headers, lower-case, to pass on (length, range and etag are set here). */
  readonly headers: Readonly<Record<string, string>>;
  /** The size of the concatenated segments. */
  readonly length: number;
  /** The large object's etag, unquoted; undefined when it cannot be known. */
  readonly etag?: string;
  /** The content type the parts of a multi-range answer carry. */
  readonly contentType: string;
  /** The bytes of the given spans of the whole object, one after another. */
  body(spans: readonly SegmentSpan[]): AsyncIterable<Uint8Array>;
}

/**
 * The answer for a large object, as swob answers any object (a conditional response): the
 * conditions against the large object's etag and the manifest's Last-Modified first
 * (304/412), then `Range` over the whole object (206, single or `multipart/byteranges`; 416
 * when nothing is satisfiable; ignored on HEAD), else 200. The first segment is read before
 * answering, so a bad one is a 409 (or 503) rather than a broken 200.
 * @throws {HttpError} 409 or 503 from the first segment.
 */
export async function largeObjectResponse(req: ProxyRequest, view: LargeObjectView): Promise<ServerResponse> {
  const headers: Record<string, string> = { ...view.headers, 'accept-ranges': 'bytes' };
  delete headers['content-length'];
  delete headers['content-range'];
  delete headers['etag'];
  if (view.etag !== undefined) headers['etag'] = `"${view.etag}"`;
  const lastModified = parseHttpDate(headers['last-modified']);
  const conditional = conditionalStatus(req.headers, { exists: true, ...(view.etag !== undefined ? { etag: view.etag } : {}), ...(lastModified !== undefined ? { lastModified } : {}) });
  if (conditional !== undefined) return { status: conditional, headers: { ...headers, 'content-length': '0' }, body: null };
  if (req.method === 'HEAD') return { status: 200, headers: { ...headers, 'content-length': String(view.length) }, body: null };

  const ranges = rangesForLength(parseRange(req.headers['range']), view.length);
  if (ranges !== undefined && ranges.length === 0) {
    const body = defaultErrorBody(416);
    return { status: 416, headers: { ...headers, 'content-range': `bytes */${view.length}`, 'content-type': 'text/html; charset=UTF-8', 'content-length': String(Buffer.byteLength(body)) }, body };
  }
  if (ranges === undefined) {
    const body = await validateFirstSegment(view.body([{ first: 0, last: view.length - 1 }]));
    return { status: 200, headers: { ...headers, 'content-length': String(view.length) }, body };
  }
  const spans = ranges.map(([start, end]) => ({ first: start, last: end - 1 }));
  const data = await validateFirstSegment(view.body(spans));
  const [only] = ranges;
  if (ranges.length === 1 && only) {
    return { status: 206, headers: { ...headers, 'content-range': contentRange(only, view.length), 'content-length': String(only[1] - only[0]) }, body: data };
  }
  const boundary = newBoundary();
  const framing = multipartFraming(ranges, view.length, view.contentType, boundary);
  return {
    status: 206,
    headers: { ...headers, 'content-type': `multipart/byteranges;boundary=${boundary}`, 'content-length': String(framing.bodyLength) },
    body: framedParts(data, ranges, framing),
  };
}

/**
 * Splits the concatenated bytes of several ranges into `multipart/byteranges` parts (Swift's
 * `Spliterator` under `multi_range_iterator`).
 */
export async function* framedParts(data: AsyncIterable<Uint8Array>, ranges: readonly ByteRange[], framing: { partHeaders: readonly string[]; trailer: string }): AsyncGenerator<Uint8Array> {
  const iterator = data[Symbol.asyncIterator]();
  let leftover: Uint8Array | undefined;
  try {
    for (let i = 0; i < ranges.length; i++) {
      const [start, end] = ranges[i] as ByteRange;
      yield Buffer.from(framing.partHeaders[i] as string);
      let need = end - start;
      while (need > 0) {
        let chunk = leftover;
        leftover = undefined;
        if (!chunk) {
          const step = await iterator.next();
          if (step.done) throw new SegmentError(`large object body ended ${need} bytes short of range ${start}-${end - 1}`);
          chunk = step.value;
        }
        if (chunk.length > need) {
          leftover = chunk.subarray(need);
          chunk = chunk.subarray(0, need);
        }
        need -= chunk.length;
        yield chunk;
      }
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(framing.trailer);
  } finally {
    await iterator.return?.();
  }
}

/** A content type without the `swift_bytes` parameter SLO manifests carry in storage. */
export function cleanContentType(contentType: string): string {
  return contentType.replace(/\s*;\s*swift_bytes=[^;]*/gi, '');
}
