import { createHash } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { isTrueValue } from '../../common/config.ts';
import { readWholeBody } from '../../common/http/body-reader.ts';
import { normalizeEtag } from '../../common/http/conditional.ts';
import { HttpError, reasonPhrase, RESPONSE_REASONS } from '../../common/http/http-error.ts';
import { rangesForLength } from '../../common/http/range.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { guessContentType } from '../mime-types.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import type { SloConfig } from './large-object-config.ts';
import { cleanContentType } from './large-object-response.ts';
import { keepAliveBody, type ResultError, type ResultFormat, resultBody, resultFormat } from './result-body.ts';
import { swiftPath } from './segment-path.ts';
import { quotePath } from './url-quote.ts';
import {
  isDataSegment,
  OVERRIDE_ETAG,
  parsePutManifest,
  type PutObjectSegment,
  type PutSegment,
  SloManifestError,
  sloEtag,
  type StoredSegment,
  storedManifestJson,
  SYSMETA_SLO_ETAG,
  SYSMETA_SLO_SIZE,
} from './slo-manifest.ts';
import { discardBody, headerOf, isSuccess, lowerCaseHeaders, readWhole, respond } from './subresponse.ts';

/** What a manifest PUT needs besides its config. */
export interface SloPutDeps {
  readonly clock: Clock;
  /** Seconds a client may pause while sending the manifest. */
  readonly clientTimeout: number;
}

/** The manifest being written: `/<version>/<account>/<container>/<object>`, decoded. */
export interface ManifestTarget {
  readonly version: string;
  readonly account: string;
  readonly container: string;
  readonly object: string;
}

/** How the checks of a manifest ended. */
type Outcome =
  | { readonly kind: 'problems'; readonly problems: ResultError[] }
  | { readonly kind: 'etag-mismatch' }
  | { readonly kind: 'stored'; readonly response: ServerResponse; readonly sloEtag: string };

/**
 * `PUT ?multipart-manifest=put` (Swift's `handle_multipart_put`):
 *
 * 1. the body must be a put-form manifest within `max_manifest_size` (413), valid (400 with one
 *    line per problem) and with at most `max_manifest_segments` object segments (413);
 * 2. each distinct segment path gets a HEAD through the SLO middleware itself (so a nested SLO
 *    shows its whole size and SLO etag), `concurrency` at a time; the segment must exist and
 *    match the etag, size and range the client gave; any problem is a 400 listing each one, in
 *    the `Accept` format, and nothing is stored;
 * 3. a client `Etag` must equal the SLO etag (422);
 * 4. the stored form goes down the pipeline as a plain PUT, with `X-Static-Large-Object`, the
 *    SLO's etag and size in sysmeta, `swift_bytes` in its content type and the container
 *    update's etag override, so listings show the whole size and both etags.
 *
 * The answer is the PUT's, with the quoted SLO etag. With `heartbeat=on` it is a 202 at once,
 * whitespace every `yield_frequency` seconds while segments are checked, and the real status
 * in the body.
 */
export async function sloPut(self: ProxyHandler, next: ProxyHandler, req: ProxyRequest, target: ManifestTarget, config: SloConfig, deps: SloPutDeps): Promise<ServerResponse> {
  if (req.headers['x-copy-from'] !== undefined) throw new HttpError(405, 'Multipart Manifest PUTs cannot be COPY requests');
  const declared = req.headers['content-length'];
  if (declared === undefined) {
    if ((req.headers['transfer-encoding'] ?? '').toLowerCase() !== 'chunked') throw new HttpError(411);
  } else if (Number(declared) > config.max_manifest_size) {
    throw new HttpError(413, `Manifest File > ${config.max_manifest_size} bytes`);
  }
  const text = await readManifestBody(req, config.max_manifest_size, deps.clientTimeout);
  let segments: PutSegment[];
  try {
    segments = parsePutManifest(text, target);
  } catch (err) {
    if (err instanceof SloManifestError) throw new HttpError(400, err.problems.map((p) => `${p}\n`).join(''), { 'Content-Type': 'text/plain' });
    throw err;
  }
  const objectCount = segments.filter((s) => !isDataSegment(s)).length;
  if (objectCount > config.max_manifest_segments) throw new HttpError(413, `Number of object-backed segments must be <= ${config.max_manifest_segments}`);
  const format = resultFormat(req.headers['accept']) ?? 'text/plain';

  const work = checkAndStore(self, next, req, target, segments, config, deps);
  if (isTrueValue(req.query.get('heartbeat') ?? undefined)) {
    // 202 at once, whitespace while the segments are checked, the real status in the body.
    const result = work.then(
      (outcome) => heartbeatResult({ outcome }, format),
      (error: unknown) => heartbeatResult({ error }, format),
    );
    const sleep = (ms: number, signal: AbortSignal): Promise<void> => deps.clock.sleep(ms, signal);
    return { status: 202, headers: { 'Content-Type': format }, body: keepAliveBody(result, { intervalMs: config.yield_frequency * 1000, sleep, beatAtOnce: true }) };
  }
  const outcome = await work;
  if (outcome.kind === 'problems') {
    return { status: 400, headers: { 'Content-Type': format }, body: resultBody(format, {}, outcome.problems, 'upload') };
  }
  if (outcome.kind === 'etag-mismatch') throw new HttpError(422);
  return outcome.response;
}

/** The manifest body, at most `limit` bytes. @throws {HttpError} 413 past the limit. */
async function readManifestBody(req: ProxyRequest, limit: number, clientTimeout: number): Promise<string> {
  const bytes = await readWholeBody(req.body, clientTimeout * 1000, limit, () => new HttpError(413, `Manifest File > ${limit} bytes`));
  return bytes.toString('utf8');
}

async function checkAndStore(self: ProxyHandler, next: ProxyHandler, req: ProxyRequest, target: ManifestTarget, segments: readonly PutSegment[], config: SloConfig, deps: SloPutDeps): Promise<Outcome> {
  const heads = await headSegments(self, req, target, segments, config.concurrency);
  const problems: ResultError[] = [];
  const stored: StoredSegment[] = [];
  let totalSize = 0;
  segments.forEach((seg, index) => {
    if (isDataSegment(seg)) {
      stored.push(seg);
      totalSize += Buffer.from(seg.data, 'base64').length;
      return;
    }
    const checked = checkSegment(seg, heads.get(seg.path) as ServerResponse, index === segments.length - 1, problems, deps.clock);
    if (checked) {
      stored.push(checked.stored);
      totalSize += checked.length;
    }
  });
  if (problems.length > 0) return { kind: 'problems', problems };
  const etag = sloEtag(stored);
  const clientEtag = normalizeEtag(req.headers['etag'] ?? '');
  if (clientEtag !== '' && clientEtag !== etag) return { kind: 'etag-mismatch' };

  const json = storedManifestJson(stored);
  const manifestEtag = createHash('md5').update(json).digest('hex');
  const headers: Record<string, string | undefined> = { ...req.headers };
  for (const h of ['content-length', 'transfer-encoding', 'etag', 'x-detect-content-type']) delete headers[h];
  const [overrideBase = '', ...overrideParams] = (req.headers[OVERRIDE_ETAG] ?? '').split(';');
  const contentType = req.headers['content-type'] ? req.headers['content-type'] : guessContentType(target.object);
  Object.assign(headers, {
    'content-length': String(Buffer.byteLength(json)),
    etag: manifestEtag,
    'content-type': `${contentType};swift_bytes=${totalSize}`,
    'x-static-large-object': 'True',
    [SYSMETA_SLO_ETAG]: etag,
    [SYSMETA_SLO_SIZE]: String(totalSize),
    // Keep a base etag some middleware before us chose; add ours for listings.
    [OVERRIDE_ETAG]: `${[overrideBase.trim() || manifestEtag, ...overrideParams].join(';')}; slo_etag=${etag}`,
  });
  const response = await respond(next, subrequest(req, { method: 'PUT', path: req.path, headers, body: oneChunk(json), source: 'SLO' }));
  if (!isSuccess(response.status)) return { kind: 'stored', response, sloEtag: etag };
  const shown = lowerCaseHeaders(response.headers);
  shown['etag'] = `"${etag}"`;
  return { kind: 'stored', response: { ...response, headers: shown }, sloEtag: etag };
}

/** One HEAD per distinct segment path, `concurrency` at a time, through the SLO middleware. */
async function headSegments(self: ProxyHandler, req: ProxyRequest, target: ManifestTarget, segments: readonly PutSegment[], concurrency: number): Promise<Map<string, ServerResponse>> {
  const paths = [...new Set(segments.filter((s): s is PutObjectSegment => !isDataSegment(s)).map((s) => s.path))];
  const heads = new Map<string, ServerResponse>();
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < paths.length) {
      const path = paths[cursor++] as string;
      const response = await respond(self, subrequest(req, { method: 'HEAD', path: swiftPath(target.version, target.account, path.replace(/^\/+/, '')), headers: {}, source: 'SLO' }));
      await discardBody(response.body);
      heads.set(path, response);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return heads;
}

/** Swift's `validate_seg_dict`: the stored form of one segment and its length, or problems. */
function checkSegment(seg: PutObjectSegment, head: ServerResponse, isLast: boolean, problems: ResultError[], clock: Clock): { stored: StoredSegment; length: number } | undefined {
  const name = quotePath(seg.path);
  if (!isSuccess(head.status)) {
    problems.push([name, statusLine(head.status)]);
    return undefined;
  }
  const size = Number(headerOf(head, 'content-length') ?? 0);
  let length = size;
  let range: string | undefined;
  if (seg.range) {
    const ranges = rangesForLength([seg.range], size);
    const [only] = ranges ?? [];
    if (!only) {
      problems.push([name, 'Unsatisfiable Range']);
    } else if (!(only[0] === 0 && only[1] === size)) {
      range = `${only[0]}-${only[1] - 1}`;
      length = only[1] - only[0];
    }
  }
  if (length < 1 && !isLast) problems.push([name, 'Too small; each segment must be at least 1 byte.']);
  if (seg.size_bytes !== undefined && seg.size_bytes !== size) problems.push([name, 'Size Mismatch']);
  const etag = normalizeEtag(headerOf(head, 'etag') ?? '');
  if (seg.etag !== undefined && normalizeEtag(seg.etag) !== etag) problems.push([name, 'Etag Mismatch']);
  const stored: StoredSegment = {
    name: `/${seg.path.replace(/^\/+/, '')}`,
    bytes: size,
    hash: etag,
    content_type: cleanContentType(headerOf(head, 'content-type') ?? 'application/octet-stream'),
    last_modified: isoLastModified(headerOf(head, 'last-modified'), clock),
    ...(range !== undefined ? { range } : {}),
    ...(isTrueValue(headerOf(head, 'x-static-large-object')) ? { sub_slo: true } : {}),
  };
  return { stored, length };
}

/** `2024-01-02T03:04:05.000000` from an HTTP date (Swift's `last_modified` in manifests). */
function isoLastModified(httpDate: string | undefined, clock: Clock): string {
  const ms = httpDate === undefined ? NaN : Date.parse(httpDate);
  return `${new Date(Number.isNaN(ms) ? clock.now() : ms).toISOString().slice(0, 19)}.000000`;
}

/** `404 Not Found`. */
export function statusLine(status: number): string {
  return `${status} ${reasonPhrase(status)}`;
}

/** A status's default explanation as Swift puts it in result bodies: reason and text, one per line. */
function defaultExplanation(status: number): string {
  return (RESPONSE_REASONS[status] ?? [reasonPhrase(status)]).join('\n');
}

/** The result of a `heartbeat=on` PUT, as Swift writes it in the body. */
async function heartbeatResult(settled: { outcome?: Outcome; error?: unknown }, format: ResultFormat): Promise<string> {
  const { outcome, error } = settled;
  if (!outcome) {
    const status = error instanceof HttpError ? error.status : 500;
    const body = error instanceof HttpError && error.body !== undefined ? error.body : defaultExplanation(status);
    return resultBody(format, { 'Response Status': statusLine(status), 'Response Body': body }, [], 'upload');
  }
  if (outcome.kind === 'problems') {
    return resultBody(format, { 'Response Status': statusLine(400), 'Response Body': defaultExplanation(400) }, outcome.problems, 'upload');
  }
  if (outcome.kind === 'etag-mismatch') {
    return resultBody(format, { 'Response Status': statusLine(422), 'Response Body': defaultExplanation(422) }, [], 'upload');
  }
  const { response } = outcome;
  const body = (await readWhole(response.body, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
  const fields: Record<string, string> = { 'Response Status': statusLine(response.status) };
  if (isSuccess(response.status)) {
    fields['Etag'] = `"${outcome.sloEtag}"`;
    fields['Last Modified'] = headerOf(response, 'last-modified') ?? '';
  }
  fields['Response Body'] = body;
  return resultBody(format, fields, [], 'upload');
}

async function* oneChunk(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}
