import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { isTrueValue } from '../../common/config.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import type { SloConfig } from './large-object-config.ts';
import { cleanContentType, largeObjectResponse } from './large-object-response.ts';
import { fetchPossibleManifest } from './manifest-fetch.ts';
import { RangeWalker, type SegmentSpan } from './segment-range.ts';
import { ListingIterError, rateLimited, type SegmentPiece, segmentedBody } from './segmented-body.ts';
import { swiftPath } from './segment-path.ts';
import { type AnnotatedSegment, annotateSegments, parseStoredManifest, rawManifestJson, SloManifestError, sloTotals, type StoredSegment, SYSMETA_SLO_ETAG, SYSMETA_SLO_SIZE } from './slo-manifest.ts';
import { headerOf, isSuccess, lowerCaseHeaders, readWhole, respond, withoutBody } from './subresponse.ts';

/** Swift's `max_slo_recursion_depth`: manifests within manifests, at most this deep. */
const MAX_RECURSION_DEPTH = 10;
/** Sub-manifests kept while one GET walks its ranges (Swift keeps 20 in an LRU). */
const SUB_MANIFEST_CACHE = 20;

/** Whether a response is of an SLO manifest. */
export function isSloResponse(response: ServerResponse): boolean {
  return isTrueValue(headerOf(response, 'x-static-large-object'));
}

/**
 * GET or HEAD of an object that may be an SLO (Swift's `SloGetContext`). A plain object passes
 * through. For a manifest:
 *
 * - `?multipart-manifest=get` returns the stored manifest as JSON; with `&format=raw`, the put
 *   form the client sent (with the object's content type), so it can be PUT again.
 * - otherwise the answer is the large object: `Content-Length` the SLO size, `ETag` the quoted
 *   SLO etag (`X-Manifest-Etag` the manifest's own), `Range` and conditions over the whole,
 *   the body the segments (nested manifests fetched as the read reaches them, ranged segments
 *   cut), each checked against the manifest as it is read.
 *
 * A HEAD needs no manifest body: the size and etag are in sysmeta (manifests written without
 * it have both computed from the body).
 */
export async function sloGetOrHead(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string }, config: SloConfig, deps: { clock: Clock }): Promise<ServerResponse> {
  if (req.query.get('multipart-manifest') === 'get') return manifestItself(next, req, config);
  const { response, manifest } = await fetchPossibleManifest(next, req, isSloResponse, req.method, 'SLO');
  if (!manifest) return response;
  const headers = lowerCaseHeaders(response.headers);
  let size = Number(headers[SYSMETA_SLO_SIZE]);
  let etag = headers[SYSMETA_SLO_ETAG];
  let body: ServerResponse['body'] = response.body;
  if (req.method === 'HEAD' && (!Number.isSafeInteger(size) || !etag)) {
    // An old manifest without the sysmeta: its size and etag come from its body.
    body = (await respond(next, subrequest(req, { method: 'GET', path: req.path, query: 'multipart-manifest=get', headers: {}, source: 'SLO' }))).body;
  }
  let segments: StoredSegment[] = [];
  if (req.method === 'GET' || body !== response.body) segments = await loadManifest(body, config);
  if (!Number.isSafeInteger(size) || size < 0 || !etag) ({ size, etag } = sloTotals(segments));
  headers['x-manifest-etag'] = headers['etag'] ?? '';
  const contentType = cleanContentType(headers['content-type'] ?? 'application/octet-stream');
  headers['content-type'] = contentType;
  const annotated = annotateSegments(segments);
  return largeObjectResponse(req, {
    headers,
    length: size,
    etag,
    contentType,
    body: (spans) =>
      segmentedBody(
        rateLimited(sloPieces(next, req, target, annotated, spans, config), {
          after: config.rate_limit_after_segment,
          perSecond: config.rate_limit_segments_per_sec,
          clock: deps.clock,
          signal: req.signal,
          applies: (piece) => piece.kind === 'object' && piece.last - piece.first + 1 < config.rate_limit_under_size,
        }),
        { next, parent: req, source: 'SLO', name: req.path, clock: deps.clock, logger: req.env.logger, maxGetTime: config.max_get_time, expectedLength: spans.reduce((n, s) => n + s.last - s.first + 1, 0) },
      ),
  });
}

/** The manifest itself (`?multipart-manifest=get[&format=raw]`). */
async function manifestItself(next: ProxyHandler, req: ProxyRequest, config: SloConfig): Promise<ServerResponse> {
  const raw = req.query.get('format') === 'raw';
  // The raw form is computed from the whole manifest, so a HEAD of it reads the body too.
  const response = await next(raw && req.method === 'HEAD' ? subrequest(req, { method: 'GET', path: req.path, query: req.query, headers: req.headers, source: 'SLO' }) : req);
  if (!isSloResponse(response)) return response;
  const headers = lowerCaseHeaders(response.headers);
  if (!raw || response.status !== 200) {
    headers['content-type'] = 'application/json; charset=utf-8';
    return { ...response, headers };
  }
  const json = rawManifestJson(await loadManifest(response.body, config));
  headers['content-type'] = cleanContentType(headers['content-type'] ?? 'application/octet-stream');
  headers['content-length'] = String(Buffer.byteLength(json));
  headers['etag'] = createHash('md5').update(json).digest('hex');
  return { status: 200, headers, body: req.method === 'HEAD' ? null : json };
}

/** Reads and parses a stored manifest. @throws {HttpError} 500 when it is not one. */
async function loadManifest(body: ServerResponse['body'], config: SloConfig): Promise<StoredSegment[]> {
  const text = (await readWhole(body, 4 * config.max_manifest_size + 1024 * 1024)).toString('utf8');
  try {
    return parseStoredManifest(text);
  } catch (err) {
    if (err instanceof SloManifestError) throw new HttpError(500, 'Unable to load SLO manifest', {}, { cause: err });
    throw err;
  }
}

/**
 * The pieces of each span of the SLO (Swift's `_byterange_listing_iterator`): segments outside
 * the span are skipped without being read, nested manifests are fetched only when the span
 * reaches into them, and a segment's own `range` shifts what is read from it.
 */
async function* sloPieces(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string }, segments: readonly AnnotatedSegment[], spans: readonly SegmentSpan[], config: SloConfig): AsyncGenerator<SegmentPiece> {
  const cache = new Map<string, AnnotatedSegment[]>();
  const subManifest = async (name: string): Promise<AnnotatedSegment[]> => {
    const hit = cache.get(name);
    if (hit) {
      cache.delete(name);
      cache.set(name, hit);
      return hit;
    }
    const loaded = await fetchSubManifest(next, req, target, name, config);
    cache.set(name, loaded);
    if (cache.size > SUB_MANIFEST_CACHE) cache.delete(cache.keys().next().value as string);
    return loaded;
  };
  async function* walk(list: readonly AnnotatedSegment[], first: number, last: number, depth: number): AsyncGenerator<SegmentPiece> {
    const walker = new RangeWalker(first, last);
    for (const seg of list) {
      if (walker.done) return;
      const part = walker.next(seg.segmentLength);
      if (!part) continue;
      if ('raw' in seg) {
        yield { kind: 'data', data: seg.raw.subarray(part.first, part.last + 1) };
      } else if (seg.sub_slo) {
        if (depth >= MAX_RECURSION_DEPTH) throw new ListingIterError(`While processing manifest ${req.path}, max recursion depth was exceeded`);
        yield* walk(await subManifest(seg.name), seg.rangeStart + part.first, seg.rangeStart + part.last, depth + 1);
      } else {
        yield {
          kind: 'object',
          path: swiftPath(target.version, target.account, seg.name.replace(/^\/+/, '')),
          first: seg.rangeStart + part.first,
          last: seg.rangeStart + part.last,
          etag: seg.hash,
          size: seg.bytes,
        };
      }
    }
  }
  for (const span of spans) yield* walk(segments, span.first, span.last, 1);
}

/** A nested manifest's segments. @throws {ListingIterError} when it cannot be read. */
async function fetchSubManifest(next: ProxyHandler, req: ProxyRequest, target: { version: string; account: string }, name: string, config: SloConfig): Promise<AnnotatedSegment[]> {
  const path = swiftPath(target.version, target.account, name.replace(/^\/+/, ''));
  const response = await respond(next, subrequest(req, { method: 'GET', path, query: 'multipart-manifest=get', headers: {}, source: 'SLO' }));
  if (!isSuccess(response.status)) {
    const text = (await readWhole(response.body, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
    throw new ListingIterError(`while fetching ${req.path}, GET of submanifest ${path} failed with status ${response.status} (${text.length <= 60 ? text : `${text.slice(0, 57)}...`})`);
  }
  if (!isSloResponse(response)) {
    await withoutBody(response);
    throw new ListingIterError(`while fetching ${req.path}, submanifest ${path} is not an SLO manifest`);
  }
  try {
    return annotateSegments(parseStoredManifest((await readWhole(response.body, 4 * config.max_manifest_size + 1024 * 1024)).toString('utf8')));
  } catch (err) {
    throw new ListingIterError(`while fetching ${req.path}, JSON-decoding of submanifest ${path} failed with ${(err as Error).message}`);
  }
}
