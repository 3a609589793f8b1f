import { BackendError, SwiftError } from '../common/errors.ts';
import type { SwiftClient } from './swift-client.ts';
import { unexpected } from './swift-client.ts';

export interface ObjectDownload {
  /** 200, or 206 for a satisfiable range. */
  readonly status: number;
  /** The answer's headers (lower-case): content-length, content-range, etag, ... */
  readonly headers: Readonly<Record<string, string>>;
  /** The bytes; a connection cut mid-way is resumed from where it stopped. */
  readonly body: AsyncIterable<Uint8Array>;
}

/** The object is gone (404). */
export class ObjectMissingError extends SwiftError {
  constructor(path: string) {
    super('OBJECT_MISSING', `${path} not found`);
  }
}

/** The range asked for is outside the object (416). */
export class RangeNotSatisfiableError extends SwiftError {
  readonly size: number | undefined;
  constructor(path: string, size: number | undefined) {
    super('RANGE_NOT_SATISFIABLE', `${path}: range not satisfiable`);
    this.size = size;
  }
}

/** How many times a cut download is resumed before the failure is passed on. */
const RESUMES = 3;

/**
 * A streamed GET of `container/object` (a `Range` header passed as given). When the stream
 * breaks (a storage node stopped mid-way: the proxy cuts the body), it is asked again from the
 * next byte with `If-Match` on the first answer's ETag, so the proxy reads from another
 * replica and the caller sees one whole body, or an error when the object changed meanwhile.
 */
export async function downloadObject(client: SwiftClient, container: string, object: string, options: { range?: string } = {}): Promise<ObjectDownload> {
  const path = `${container}/${object}`;
  const res = await client.request({ method: 'GET', container, object, headers: options.range ? { range: options.range } : {} });
  if (res.status === 404) {
    await res.body.dump();
    throw new ObjectMissingError(path);
  }
  if (res.status === 416) {
    await res.body.dump();
    const size = /\/(\d+)$/.exec(res.headers['content-range'] ?? '')?.[1];
    throw new RangeNotSatisfiableError(path, size === undefined ? undefined : Number(size));
  }
  if (res.status !== 200 && res.status !== 206) throw await unexpected(res, 'GET', path);
  const etag = res.headers['etag'];
  const length = Number(res.headers['content-length'] ?? 'NaN');
  const start = res.status === 206 ? Number(/bytes (\d+)-/.exec(res.headers['content-range'] ?? '')?.[1] ?? 0) : 0;
  const body = async function* (): AsyncGenerator<Uint8Array> {
    let sent = 0;
    let stream: AsyncIterable<Uint8Array> = res.body;
    for (let resume = 0; ; resume++) {
      try {
        for await (const chunk of stream) {
          sent += chunk.length;
          yield chunk;
        }
        if (!Number.isFinite(length) || sent >= length) return;
        throw new BackendError('BACKEND_IO', path, `${sent} of ${length} bytes`);
      } catch (err) {
        if (resume >= RESUMES || !Number.isFinite(length) || etag === undefined) throw err;
        const next = await client.request({ method: 'GET', container, object, headers: { range: `bytes=${start + sent}-${start + length - 1}`, 'if-match': etag } });
        if (next.status !== 206) throw await unexpected(next, 'GET', path);
        stream = next.body;
      }
    }
  };
  return { status: res.status, headers: res.headers, body: body() };
}
