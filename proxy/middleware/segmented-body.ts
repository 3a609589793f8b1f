import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { SwiftError } from '../../common/errors.ts';
import { normalizeEtag } from '../../common/http/conditional.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { Logger } from '../../common/logger.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { bodyChunks, discardBody, headerOf, isSuccess, readWhole, respond } from './subresponse.ts';

/**
 * The body of a large object (Swift's `SegmentedIterable`): the bytes of its segments, each
 * read with a GET subrequest through the rest of the pipeline (so authorization applies), in
 * order, with backpressure: a segment is only asked for when the client has taken the bytes
 * before it.
 *
 * A segment that is not what the manifest or listing said (gone, other etag, other size,
 * short, bad checksum) stops the body with an error rather than serve wrong bytes. Before the
 * first byte, the caller turns that into a 409 (503 when a server failed); after it, the
 * connection is cut so the client cannot take a short body for a whole one.
 */

/** A segment turned out different from what the manifest or listing promised. */
export class SegmentError extends SwiftError {
  constructor(message: string) {
    super('SEGMENT_INVALID', message);
  }
}

/** The list of segments could not be read (a sub-manifest or listing page failed). */
export class ListingIterError extends SwiftError {
  constructor(message: string) {
    super('SEGMENT_LISTING_FAILED', message);
  }
}

/** A segment GET failed on the server side (5xx): a 503 when it happens before the first byte. */
export class SegmentUnavailableError extends SwiftError {
  constructor(message: string) {
    super('SEGMENT_UNAVAILABLE', message);
  }
}

/** Bytes to serve: part of an object segment, or inline data (SLO `data` segments). */
export type SegmentPiece =
  | {
      readonly kind: 'object';
      /** Percent-encoded `/v1/<account>/<container>/<object>`. */
      readonly path: string;
      /** Inclusive bounds within the segment. */
      readonly first: number;
      readonly last: number;
      /** The etag the segment must have (unquoted); unchecked when undefined. */
      readonly etag?: string;
      /** The segment's whole size, when known; a whole read must return exactly this many bytes. */
      readonly size?: number;
    }
  | { readonly kind: 'data'; readonly data: Uint8Array };

/** Where and how a large object's body reads its segments. */
export interface SegmentedBodyOptions {
  readonly next: ProxyHandler;
  /** The client's request: subrequests share its env (identity, transaction id) and signal. */
  readonly parent: ProxyRequest;
  /** `SLO` or `DLO`, for logs. */
  readonly source: string;
  /** The manifest's path, for messages. */
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Swift's `max_get_time`, in seconds. */
  readonly maxGetTime: number;
  /** The total the pieces must add up to, when the response promised one. */
  readonly expectedLength?: number;
}

/** The bytes of the pieces, in order, checked as they go. */
export async function* segmentedBody(pieces: AsyncIterable<SegmentPiece>, options: SegmentedBodyOptions): AsyncGenerator<Uint8Array> {
  const start = options.clock.monotonic();
  let sent = 0;
  const checkTime = (): void => {
    if (options.clock.monotonic() - start > options.maxGetTime * 1000) {
      throw new SegmentError(`While processing manifest ${options.name}, max LO GET time of ${options.maxGetTime}s exceeded`);
    }
  };
  const count = (n: number): void => {
    sent += n;
    if (options.expectedLength !== undefined && sent > options.expectedLength) {
      throw new SegmentError(`Too many bytes for ${options.name}; more than the ${options.expectedLength} promised`);
    }
  };
  try {
    for await (const piece of pieces) {
      if (piece.kind === 'data') {
        if (piece.data.length === 0) continue;
        count(piece.data.length);
        yield piece.data;
        checkTime();
        continue;
      }
      for await (const chunk of readSegment(piece, options)) {
        count(chunk.length);
        yield chunk;
        checkTime();
      }
    }
  } catch (err) {
    if (err instanceof SegmentError || err instanceof ListingIterError || err instanceof SegmentUnavailableError) {
      options.logger.error('large object read failed', { manifest: options.name, err: err.message, txn: options.parent.env.transId });
    }
    throw err;
  }
  if (options.expectedLength !== undefined && sent < options.expectedLength) {
    throw new SegmentError(`Expected another ${options.expectedLength - sent} bytes for ${options.name}; closing connection`);
  }
}

/** One piece of one segment: GET (ranged unless whole), check, stream, verify. */
async function* readSegment(piece: Extract<SegmentPiece, { kind: 'object' }>, options: SegmentedBodyOptions): AsyncGenerator<Uint8Array> {
  const whole = piece.first === 0 && piece.size !== undefined && piece.last === piece.size - 1;
  const headers: Record<string, string> = whole ? {} : { range: `bytes=${piece.first}-${piece.last}` };
  const response = await respond(options.next, subrequest(options.parent, { method: 'GET', path: piece.path, query: 'multipart-manifest=get', headers, source: options.source }));
  if (!isSuccess(response.status)) {
    const text = (await readWhole(response.body, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
    const message = `While processing manifest ${options.name}, got ${response.status} (${text.length <= 60 ? text : `${text.slice(0, 57)}...`}) while retrieving ${piece.path}`;
    if (response.status >= 500) throw new SegmentUnavailableError(message);
    throw new SegmentError(message);
  }
  const etag = normalizeEtag(headerOf(response, 'etag') ?? '');
  const length = Number(headerOf(response, 'content-length'));
  if ((piece.etag !== undefined && etag !== normalizeEtag(piece.etag)) || (whole && piece.size !== undefined && length !== piece.size)) {
    await discardBody(response.body);
    throw new SegmentError(`Object segment no longer valid: ${piece.path} etag: ${etag} != ${piece.etag ?? ''} or ${length} != ${piece.size ?? ''}.`);
  }
  // Where the response starts within the segment: a 206 says; a 200 is the whole object.
  const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(headerOf(response, 'content-range') ?? '');
  let position = response.status === 206 && range ? Number(range[1]) : 0;
  const md5 = whole ? createHash('md5') : undefined;
  let received = 0;
  const wanted = piece.last - piece.first + 1;
  let delivered = 0;
  const chunks = bodyChunks(response.body);
  try {
    for await (const chunk of chunks) {
      md5?.update(chunk);
      received += chunk.length;
      const from = Math.max(0, piece.first - position);
      const to = Math.min(chunk.length, piece.last + 1 - position);
      position += chunk.length;
      if (to > from) {
        const part = from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
        delivered += part.length;
        yield part;
      }
      // A body that goes past what is wanted (a 200 to a ranged GET) need not be read on.
      if (!md5 && delivered >= wanted) break;
    }
  } finally {
    await chunks.return(undefined);
  }
  if (delivered < wanted) throw new SegmentError(`While processing manifest ${options.name}, ${piece.path} ended ${wanted - delivered} bytes short`);
  if (md5) {
    if (received !== length) {
      throw new SegmentError(`Bad response length for ${piece.path} as part of ${options.name}: headers had ${length}, but response length was actually ${received}`);
    }
    const actual = md5.digest('hex');
    if (actual !== etag) throw new SegmentError(`Bad MD5 checksum for ${piece.path} as part of ${options.name}: headers had ${etag}, but object MD5 was actually ${actual}`);
  }
}

/**
 * Swift's `RateLimitedIterator`: the first `after` pieces (of those `applies` to) pass at once,
 * then at most `perSecond` a second. Slow clients of huge objects with tiny segments would
 * otherwise make the proxy hammer the object servers.
 */
export async function* rateLimited<T>(items: AsyncIterable<T>, options: { after: number; perSecond: number; clock: Clock; signal?: AbortSignal; applies?: (item: T) => boolean }): AsyncGenerator<T> {
  let free = options.after;
  let nextAt = 0;
  for await (const item of items) {
    if (options.perSecond > 0 && (options.applies?.(item) ?? true)) {
      if (free > 0) {
        free--;
      } else {
        const now = options.clock.monotonic();
        if (nextAt > now) await options.clock.sleep(nextAt - now, options.signal);
        nextAt = Math.max(nextAt, now) + 1000 / options.perSecond;
      }
    }
    yield item;
  }
}

/**
 * Starts a large object's body to see that its first segment is good (Swift's
 * `validate_first_segment`), so a missing or changed first segment is a proper error status
 * instead of a broken 200.
 * @throws {HttpError} 409 when a segment or the listing is not as promised; 503 when a server failed.
 */
export async function validateFirstSegment(body: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const iterator = body[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (err) {
    if (err instanceof SegmentError || err instanceof ListingIterError) throw new HttpError(409, undefined, {}, { cause: err });
    if (err instanceof SegmentUnavailableError) throw new HttpError(503, undefined, {}, { cause: err });
    throw err;
  }
  return {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      try {
        yield first.value;
        for (;;) {
          const step = await iterator.next();
          if (step.done) return;
          yield step.value;
        }
      } finally {
        await iterator.return?.();
      }
    },
  };
}
