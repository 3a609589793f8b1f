import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { checkManifestHeader, dlo } from '../../../../proxy/middleware/dlo.ts';
import { readWhole } from '../../../../proxy/middleware/subresponse.ts';
import type { ProxyHandler, ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

// The DLO middleware over a fake pipeline: a container of segments listed in pages of
// `LIMIT` rows (so paging is exercised with a handful of segments) and a manifest object.

const md5 = (data: string): string => createHash('md5').update(data).digest('hex');
const LIMIT = 3;
const segments: Record<string, string> = { 'p/00': 'aa', 'p/01': 'bbb', 'p/02': '', 'p/03': 'cccc', 'p/04': 'd', 'p/05': 'eeeee', 'p/06': 'ff', q: 'not mine' };
const whole = 'aabbbccccdeeeeeff';

function fakePipeline(): { next: ProxyHandler; seen: string[] } {
  const seen: string[] = [];
  const next: ProxyHandler = async (req): Promise<ServerResponse> => {
    seen.push(`${req.method} ${req.path}${req.query.size ? `?${req.query.toString()}` : ''}`);
    if (req.path === '/v1/a/segs') {
      const prefix = req.query.get('prefix') ?? '';
      const marker = req.query.get('marker') ?? '';
      const rows = Object.keys(segments).sort().filter((n) => n.startsWith(prefix) && n > marker).slice(0, LIMIT);
      return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(rows.map((name) => ({ name, hash: md5(segments[name] as string), bytes: (segments[name] as string).length }))) };
    }
    if (req.path === '/v1/a/c/big') {
      if (req.headers['range'] !== undefined) throw new HttpError(416, undefined, { 'Content-Range': 'bytes */0' });
      return { status: 200, headers: { 'x-object-manifest': 'segs/p', etag: md5(''), 'content-length': '0', 'content-type': 'text/plain', 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT' }, body: req.method === 'HEAD' ? null : '' };
    }
    const name = decodeURIComponent(req.path.replace('/v1/a/segs/', ''));
    const data = segments[name];
    if (data === undefined) throw new HttpError(404);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers['range'] ?? '');
    const part = m ? data.slice(Number(m[1]), Number(m[2]) + 1) : data;
    return { status: m ? 206 : 200, headers: { etag: md5(data), 'content-length': String(part.length), ...(m ? { 'content-range': `bytes ${m[1]}-${m[2]}/${data.length}` } : {}) }, body: part } satisfies ServerResponse;
  };
  return { next, seen };
}

function request(method: string, path: string, headers: Record<string, string> = {}, query = ''): ProxyRequest {
  return { method, path, query: new URLSearchParams(query), headers, body: (async function* () {})(), remoteAddress: '', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

function handler(next: ProxyHandler): ProxyHandler {
  return dlo({ max_get_time: 86400, rate_limit_after_segment: 100, rate_limit_segments_per_sec: 1 }, { clock: new ManualClock(), listingLimit: LIMIT })(next);
}

const etag = `"${md5(['p/00', 'p/01', 'p/02', 'p/03', 'p/04', 'p/05', 'p/06'].map((n) => md5(segments[n] as string)).join(''))}"`;

test('every listing page is read: the length and etag cover all segments', async () => {
  const { next, seen } = fakePipeline();
  const res = await handler(next)(request('HEAD', '/v1/a/c/big'));
  assert.is(res.status, 200);
  assert.is(res.headers?.['content-length'], String(whole.length));
  assert.is(res.headers?.['etag'], etag);
  assert.equal(seen, ['HEAD /v1/a/c/big', 'GET /v1/a/segs?format=json&prefix=p', 'GET /v1/a/segs?format=json&prefix=p&marker=p%2F02', 'GET /v1/a/segs?format=json&prefix=p&marker=p%2F05']);
});

test('a GET pages through the listing again while it streams; empty segments are not fetched', async () => {
  const { next, seen } = fakePipeline();
  const res = await handler(next)(request('GET', '/v1/a/c/big'));
  assert.is(res.status, 200);
  assert.is((await readWhole(res.body, 1000)).toString(), whole);
  assert.not.ok(seen.includes('GET /v1/a/segs/p/02?multipart-manifest=get'));
  assert.ok(seen.includes('GET /v1/a/segs/p/06?multipart-manifest=get'));
});

test('a range on a later page only reads the pages and segments it needs', async () => {
  const { next, seen } = fakePipeline();
  const res = await handler(next)(request('GET', '/v1/a/c/big', { range: 'bytes=10-12' }));
  assert.is(res.status, 206);
  assert.is(res.headers?.['content-range'], `bytes 10-12/${whole.length}`);
  assert.is((await readWhole(res.body, 1000)).toString(), 'eee');
  const segmentGets = seen.filter((s) => s.includes('multipart-manifest=get'));
  assert.equal(segmentGets, ['GET /v1/a/segs/p/05?multipart-manifest=get']);
});

test('a range the manifest object itself cannot satisfy (it is empty) still reaches the DLO', async () => {
  const { next } = fakePipeline();
  const res = await handler(next)(request('GET', '/v1/a/c/big', { range: 'bytes=0-1' }));
  assert.is(res.status, 206);
  assert.is((await readWhole(res.body, 1000)).toString(), 'aa');
});

test('?multipart-manifest=get and other objects pass through untouched', async () => {
  const { next, seen } = fakePipeline();
  const res = await handler(next)(request('GET', '/v1/a/c/big', {}, 'multipart-manifest=get'));
  assert.is(res.headers?.['x-object-manifest'], 'segs/p');
  assert.is(seen.length, 1);
  const plain = await handler(next)(request('GET', '/v1/a/segs/q'));
  assert.is(plain.body, 'not mine');
});

test('X-Object-Manifest must be container/prefix', () => {
  checkManifestHeader('c/p');
  checkManifestHeader('c/p/deeper/');
  for (const bad of ['c', 'c/', '/p', 'c//p', 'c/p?x', 'c/p&x', '']) {
    assert.throws(() => checkManifestHeader(bad), (e: unknown) => e instanceof HttpError && e.status === 400 && e.body === 'X-Object-Manifest must be in the format container/prefix', bad);
  }
});

test.run();
