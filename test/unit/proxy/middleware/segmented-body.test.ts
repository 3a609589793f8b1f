import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { framedParts } from '../../../../proxy/middleware/large-object-response.ts';
import { ListingIterError, rateLimited, SegmentError, type SegmentPiece, segmentedBody, SegmentUnavailableError, validateFirstSegment } from '../../../../proxy/middleware/segmented-body.ts';
import type { ProxyHandler, ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { rejects } from '../../../helpers/rejects.ts';

const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

/** Objects by path; GETs honour a single `Range`; `lie` serves other bytes than the etag says. */
function fakeStore(objects: Record<string, string>, options: { lie?: string; status?: number; chunk?: number } = {}): { next: ProxyHandler; seen: ProxyRequest[] } {
  const seen: ProxyRequest[] = [];
  const next: ProxyHandler = async (req): Promise<ServerResponse> => {
    seen.push(req);
    const data = objects[req.path];
    if (options.status) return { status: options.status, headers: {}, body: 'broken' };
    if (data === undefined) throw new HttpError(404);
    const etag = md5(data);
    const served = req.path === options.lie ? data.toUpperCase() : data;
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers['range'] ?? '');
    const chunk = options.chunk ?? 3;
    const stream = async function* (text: string): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < text.length; i += chunk) yield Buffer.from(text.slice(i, i + chunk));
    };
    if (m) {
      const [s, e] = [Number(m[1]), Math.min(Number(m[2]), data.length - 1)];
      return { status: 206, headers: { etag, 'content-length': String(e - s + 1), 'content-range': `bytes ${s}-${e}/${data.length}` }, body: stream(served.slice(s, e + 1)) };
    }
    return { status: 200, headers: { ETag: etag, 'Content-Length': String(data.length) }, body: stream(served) } satisfies ServerResponse;
  };
  return { next, seen };
}

function parent(): ProxyRequest {
  return { method: 'GET', path: '/v1/a/c/manifest', query: new URLSearchParams(), headers: {}, body: (async function* () {})(), remoteAddress: '', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

async function* list(...pieces: SegmentPiece[]): AsyncGenerator<SegmentPiece> {
  yield* pieces;
}

const obj = (path: string, first: number, last: number, data?: string): SegmentPiece => ({ kind: 'object', path, first, last, ...(data !== undefined ? { etag: md5(data), size: data.length } : {}) });

async function collect(body: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of body) out += Buffer.from(chunk).toString();
  return out;
}

function options(next: ProxyHandler, extra: { expectedLength?: number; clock?: ManualClock; maxGetTime?: number } = {}) {
  return { next, parent: parent(), source: 'SLO', name: '/v1/a/c/manifest', clock: extra.clock ?? new ManualClock(), logger: nullLogger, maxGetTime: extra.maxGetTime ?? 86400, ...(extra.expectedLength !== undefined ? { expectedLength: extra.expectedLength } : {}) };
}

const store = { '/v1/a/c/one': 'hello world', '/v1/a/c/two': 'second segment' };

test('whole segments are read without Range, checked, and concatenated', async () => {
  const { next, seen } = fakeStore(store);
  const body = segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world'), { kind: 'data', data: Buffer.from('|') }, obj('/v1/a/c/two', 0, 13, 'second segment')), options(next, { expectedLength: 26 }));
  assert.is(await collect(body), 'hello world|second segment');
  assert.equal(seen.map((r) => [r.method, r.path, r.query.get('multipart-manifest'), r.headers['range']]), [
    ['GET', '/v1/a/c/one', 'get', undefined],
    ['GET', '/v1/a/c/two', 'get', undefined],
  ]);
  assert.is(seen[0]?.env.source, 'SLO');
});

test('parts of segments are read with Range', async () => {
  const { next, seen } = fakeStore(store);
  assert.is(await collect(segmentedBody(list(obj('/v1/a/c/one', 6, 10, 'hello world'), obj('/v1/a/c/two', 0, 5, 'second segment')), options(next))), 'worldsecond');
  assert.equal(seen.map((r) => r.headers['range']), ['bytes=6-10', 'bytes=0-5']);
});

test('a 200 to a ranged GET is cut to the wanted bytes', async () => {
  const { next } = fakeStore(store);
  const whole: ProxyHandler = async (req) => next({ ...req, headers: {} });
  assert.is(await collect(segmentedBody(list(obj('/v1/a/c/one', 2, 4)), options(whole))), 'llo');
});

test('a segment with another etag or size fails before its bytes', async () => {
  const { next } = fakeStore(store);
  await rejects(collect(segmentedBody(list({ kind: 'object', path: '/v1/a/c/one', first: 0, last: 10, etag: md5('other'), size: 11 }), options(next))), /Object segment no longer valid/);
  await rejects(collect(segmentedBody(list({ kind: 'object', path: '/v1/a/c/one', first: 0, last: 11, etag: md5('hello world'), size: 12 }), options(next))), SegmentError);
});

test('bytes that do not match the etag fail the read at the end of the segment', async () => {
  const { next } = fakeStore(store, { lie: '/v1/a/c/one' });
  await rejects(collect(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world')), options(next))), /Bad MD5 checksum/);
});

test('missing segments are SegmentErrors; server errors are SegmentUnavailable', async () => {
  const { next } = fakeStore(store);
  await rejects(collect(segmentedBody(list(obj('/v1/a/c/gone', 0, 1, 'xy')), options(next))), (e) => e instanceof SegmentError && /got 404/.test((e as Error).message));
  const { next: broken } = fakeStore(store, { status: 503 });
  await rejects(collect(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world')), options(broken))), SegmentUnavailableError);
});

test('the promised total is enforced both ways', async () => {
  const { next } = fakeStore(store);
  await rejects(collect(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world')), options(next, { expectedLength: 20 }))), /Expected another 9 bytes/);
  await rejects(collect(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world')), options(next, { expectedLength: 5 }))), /Too many bytes/);
});

test('max_get_time cuts a read that takes too long', async () => {
  const { next } = fakeStore(store);
  const clock = new ManualClock();
  const slow: ProxyHandler = async (req) => {
    clock.advance(2000);
    return next(req);
  };
  await rejects(collect(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world'), obj('/v1/a/c/two', 0, 13, 'second segment')), options(slow, { clock, maxGetTime: 1 }))), /max LO GET time of 1s exceeded/);
});

test('validateFirstSegment: the first chunk is read before answering; failures become statuses', async () => {
  const { next } = fakeStore(store);
  const good = await validateFirstSegment(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world')), options(next)));
  assert.is(await collect(good), 'hello world');
  const missing = await rejects(validateFirstSegment(segmentedBody(list(obj('/v1/a/c/gone', 0, 1, 'xy')), options(next))), HttpError);
  assert.is((missing as HttpError).status, 409);
  const listing = await rejects(validateFirstSegment((async function* () { throw new ListingIterError('no listing'); })()), HttpError);
  assert.is((listing as HttpError).status, 409);
  const { next: broken } = fakeStore(store, { status: 500 });
  const unavailable = await rejects(validateFirstSegment(segmentedBody(list(obj('/v1/a/c/one', 0, 10, 'hello world')), options(broken))), HttpError);
  assert.is((unavailable as HttpError).status, 503);
  assert.is(await collect(await validateFirstSegment(segmentedBody(list(), options(next)))), '');
});

test('rateLimited: the first ones pass at once, then one per interval', async () => {
  const clock = new ManualClock();
  const got: number[] = [];
  const done = (async () => {
    for await (const n of rateLimited((async function* () { yield* [1, 2, 3, 4, 5]; })(), { after: 2, perSecond: 2, clock })) got.push(n);
  })();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(got, [1, 2, 3]);
  clock.advance(499);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(got, [1, 2, 3]);
  clock.advance(1);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(got, [1, 2, 3, 4]);
  clock.advance(500);
  await done;
  assert.equal(got, [1, 2, 3, 4, 5]);
});

test('rateLimited: only items it applies to count', async () => {
  const clock = new ManualClock();
  const got: number[] = [];
  for await (const n of rateLimited((async function* () { yield* [1, 2, 3, 4]; })(), { after: 0, perSecond: 1, clock, applies: (n) => n === 1 })) got.push(n);
  assert.equal(got, [1, 2, 3, 4]);
});

test('framedParts splits concatenated range bytes into multipart parts', async () => {
  const data = (async function* () {
    yield Buffer.from('ab');
    yield Buffer.from('cdef');
  })();
  const out = await collect(framedParts(data, [[0, 1], [4, 8]], { partHeaders: ['<1>', '<2>'], trailer: '<end>' }));
  assert.is(out, '<1>a\r\n<2>bcde\r\n<end>');
  await rejects(collect(framedParts((async function* () { yield Buffer.from('a'); })(), [[0, 3]], { partHeaders: ['h'], trailer: 't' })), /short/);
});

test.run();
