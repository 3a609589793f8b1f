import type { HeaderBag } from '../common/constraints.ts';
import { conditionalStatus } from '../common/http/conditional.ts';
import { defaultErrorBody, HttpError } from '../common/http/http-error.ts';
import { httpDate } from '../common/http/http-date.ts';
import { contentRange, multipartBody, multipartFraming, newBoundary, parseRange, rangesForLength } from '../common/http/range.ts';
import type { ResponseHeaders, ServerResponse } from '../common/http/server.ts';
import { DiskFileQuarantined } from './diskfile/errors.ts';
import type { ObjectReader, ObjectState, ReadOptions } from './diskfile/types.ts';

/** A lending reader's body goes out `lent`: the server is done with a chunk when it asks for the next. */
const LEND: ReadOptions = { lend: true };

/** Whether a stored metadata key goes back to clients (Swift: user/sys/transient meta + allowed headers). */
export function isReturnedMetadata(key: string, allowed: ReadonlySet<string>): boolean {
  const k = key.toLowerCase();
  return k.startsWith('x-object-meta-') || k.startsWith('x-object-sysmeta-') || k.startsWith('x-object-transient-sysmeta-') || allowed.has(k);
}

/** The headers of a GET or HEAD of an object, as Swift's object server sets them. */
export function objectHeaders(state: ObjectState, allowed: ReadonlySet<string>): ResponseHeaders {
  const headers: ResponseHeaders = { 'Content-Type': state.metadata['Content-Type'] ?? 'application/octet-stream' };
  const metadata = state.metadata;
  for (const key in metadata) {
    if (isReturnedMetadata(key, allowed)) headers[key] = metadata[key] as string;
  }
  headers['ETag'] = state.metadata['ETag'] ?? '';
  headers['Last-Modified'] = httpDate(Math.ceil(state.timestamp.seconds));
  headers['Content-Length'] = state.contentLength;
  headers['X-Timestamp'] = state.timestamp.normal;
  headers['X-Backend-Timestamp'] = state.timestamp.internal;
  headers['X-Backend-Data-Timestamp'] = state.dataTimestamp.internal;
  headers['X-Backend-Durable-Timestamp'] = state.dataTimestamp.internal;
  return headers;
}

/**
 * The response to a GET (with `reader`) or HEAD (without): conditional requests first
 * (304/412, headers kept, no body), then `Range` (206 single or multipart, 416), else 200.
 */
export function objectReadResponse(request: { headers: HeaderBag }, state: ObjectState, allowed: ReadonlySet<string>, reader?: ObjectReader): ServerResponse {
  const headers = objectHeaders(state, allowed);
  const conditional = conditionalStatus(request.headers, { exists: true, etag: state.metadata['ETag'], lastModified: Math.ceil(state.timestamp.seconds) });
  if (conditional !== undefined) {
    void reader?.close();
    return { status: conditional, headers: { ...headers, 'Content-Length': 0 } };
  }
  const length = state.contentLength;
  const ranges = ignoresRange(request.headers, state) ? undefined : rangesForLength(parseRange(request.headers['range']), length);
  if (ranges !== undefined && ranges.length === 0) {
    void reader?.close();
    // As swob answers: the object's headers (type, etag, metadata) with the default text.
    const body = defaultErrorBody(416);
    return { status: 416, headers: { ...headers, 'Content-Range': `bytes */${length}`, 'Content-Length': Buffer.byteLength(body) }, body };
  }
  if (!reader) return { status: 200, headers };
  if (ranges === undefined) return { status: 200, headers, body: guarded(reader, () => reader.read(0, length, LEND)), lent: reader.lends };
  const [first] = ranges;
  if (ranges.length === 1 && first) {
    headers['Content-Range'] = contentRange(first, length);
    headers['Content-Length'] = first[1] - first[0];
    return { status: 206, headers, body: guarded(reader, () => reader.read(first[0], first[1], LEND)), lent: reader.lends };
  }
  const boundary = newBoundary();
  const framing = multipartFraming(ranges, length, String(headers['Content-Type']), boundary);
  headers['Content-Type'] = `multipart/byteranges;boundary=${boundary}`;
  headers['Content-Length'] = framing.bodyLength;
  return { status: 206, headers, body: guarded(reader, () => multipartBody(ranges, framing, (s, e) => reader.read(s, e, LEND))), lent: reader.lends };
}

/** A GET body up to this long is read before the answer goes out (see `withWholeBody`). */
export const WHOLE_BODY_BYTES = 64 * 1024;

/**
 * A small object's body read whole (it is in memory already, or one page-cached read): the
 * answer then leaves in one write, with no stream for the server to drive. A corrupt block is
 * still found before any byte goes out (a 404: the proxy reads another replica).
 */
export async function withWholeBody(res: ServerResponse): Promise<ServerResponse> {
  const body = res.body;
  if (body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array) return res;
  if (!(Number(res.headers?.['Content-Length']) <= WHOLE_BODY_BYTES)) return res;
  const chunks: Uint8Array[] = [];
  // A lent chunk is the reader's memory, filled again by its next read: copied out at once.
  for await (const chunk of body) chunks.push(res.lent ? Buffer.from(chunk) : chunk);
  const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
  return { status: res.status, ...(res.headers ? { headers: res.headers } : {}), body: bytes };
}

/**
 * Swift's `X-Backend-Ignore-Range-If-Metadata-Present`: a comma-separated list of metadata
 * names; an object holding any of them is read whole whatever the `Range` (a symlink, whose
 * zero bytes a range would turn into a 416 before the proxy sees it is a link).
 */
function ignoresRange(headers: HeaderBag, state: ObjectState): boolean {
  const names = headers['x-backend-ignore-range-if-metadata-present'];
  if (names === undefined || headers['range'] === undefined) return false;
  const wanted = new Set(names.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
  return Object.keys(state.metadata).some((key) => wanted.has(key.toLowerCase()));
}

/**
 * Streams a body and always closes the reader. A quarantine found before the first byte is a
 * 404 (the proxy tries another replica); found later, the error cuts the connection.
 */
async function* guarded(reader: ObjectReader, body: () => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* body();
  } catch (err) {
    if (err instanceof DiskFileQuarantined) throw new HttpError(404, undefined, {}, { cause: err });
    throw err;
  } finally {
    await reader.close();
  }
}
