import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { defaultLargeObjectConfig } from '../../../../proxy/middleware/large-object-config.ts';
import { slo } from '../../../../proxy/middleware/slo.ts';
import { readWhole } from '../../../../proxy/middleware/subresponse.ts';
import type { ProxyHandler, ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';
import { rejects } from '../../../helpers/rejects.ts';

// The SLO middleware over a fake pipeline that keeps objects in a map: what it sends down,
// and what it refuses before sending anything.

const md5 = (data: string): string => createHash('md5').update(data).digest('hex');

interface Stored {
  readonly body: string;
  readonly headers: Record<string, string>;
}

function fakePipeline(objects: Map<string, Stored>): { next: ProxyHandler; seen: ProxyRequest[] } {
  const seen: ProxyRequest[] = [];
  const next: ProxyHandler = async (req): Promise<ServerResponse> => {
    seen.push(req);
    if (req.method === 'PUT') {
      const body = (await readWhole(req.body, 1 << 20)).toString();
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
      objects.set(req.path, { body, headers: { ...headers, etag: md5(body), 'content-length': String(body.length), 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT' } });
      return { status: 201, headers: { ETag: md5(body), 'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT' } };
    }
    const found = objects.get(req.path);
    if (!found) throw new HttpError(404);
    return { status: 200, headers: found.headers, body: req.method === 'HEAD' ? null : found.body } satisfies ServerResponse;
  };
  return { next, seen };
}

function request(method: string, path: string, headers: Record<string, string> = {}, query = '', body = ''): ProxyRequest {
  return { method, path, query: new URLSearchParams(query), headers, body: (async function* () { yield Buffer.from(body); })(), remoteAddress: '', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

function middleware(next: ProxyHandler, overrides: Partial<ReturnType<typeof defaultLargeObjectConfig>['slo']> = {}): ProxyHandler {
  return slo({ ...defaultLargeObjectConfig().slo, ...overrides }, { clock: new ManualClock(), clientTimeout: 60 })(next);
}

function segmentStore(): Map<string, Stored> {
  return new Map([
    ['/v1/a/c/s1', { body: 'one', headers: { etag: md5('one'), 'content-length': '3', 'content-type': 'text/plain', 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT' } }],
    ['/v1/a/c/s2', { body: 'two!', headers: { etag: md5('two!'), 'content-length': '4', 'content-type': 'text/plain', 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT' } }],
  ]);
}

test('the manifest PUT stores the stored form with the sysmeta and overrides', async () => {
  const objects = segmentStore();
  const { next, seen } = fakePipeline(objects);
  const res = await middleware(next)(request('PUT', '/v1/a/c/m', { 'content-length': '40', 'x-object-meta-a': 'b' }, 'multipart-manifest=put', JSON.stringify([{ path: '/c/s1' }, { path: 'c/s2', range: '1-2' }])));
  assert.is(res.status, 201);
  const etag = md5(`${md5('one')}${md5('two!')}:1-2;`);
  assert.is(res.headers?.['etag'], `"${etag}"`);
  const put = seen.find((r) => r.method === 'PUT');
  assert.ok(put);
  assert.is(put.query.toString(), '', 'the query is not sent down');
  assert.is(put.env.source, 'SLO');
  const stored = objects.get('/v1/a/c/m');
  assert.ok(stored);
  const json = `[{"name": "/c/s1", "bytes": 3, "hash": "${md5('one')}", "content_type": "text/plain", "last_modified": "2023-11-14T22:13:20.000000"}, {"name": "/c/s2", "bytes": 4, "hash": "${md5('two!')}", "content_type": "text/plain", "last_modified": "2023-11-14T22:13:20.000000", "range": "1-2"}]`;
  assert.is(stored.body, json);
  assert.is(stored.headers['etag'], md5(json));
  assert.is(stored.headers['x-static-large-object'], 'True');
  assert.is(stored.headers['x-object-sysmeta-slo-etag'], etag);
  assert.is(stored.headers['x-object-sysmeta-slo-size'], '5');
  assert.is(stored.headers['x-object-sysmeta-container-update-override-etag'], `${md5(json)}; slo_etag=${etag}`);
  assert.is(stored.headers['content-type'], 'application/octet-stream;swift_bytes=5');
  assert.is(stored.headers['x-object-meta-a'], 'b');
  const get = await middleware(next)(request('GET', '/v1/a/c/m'));
  assert.is((await readWhole(get.body, 100)).toString(), 'onewo');
  assert.is(get.headers?.['content-type'], 'application/octet-stream');
});

test('refusals come before anything is sent down', async () => {
  const { next, seen } = fakePipeline(segmentStore());
  const put = (headers: Record<string, string>, body = '[]', query = 'multipart-manifest=put'): Promise<ServerResponse> => middleware(next, { max_manifest_size: 100 })(request('PUT', '/v1/a/c/m', headers, query, body));
  const status = async (p: Promise<ServerResponse>): Promise<number> => (await rejects(p, HttpError) as HttpError).status;
  assert.is(await status(put({ 'content-length': '2', 'x-copy-from': 'c/x' })), 405);
  assert.is(await status(put({})), 411);
  assert.is(await status(put({ 'content-length': '101' })), 413);
  assert.is(await status(put({ 'transfer-encoding': 'chunked' }, ' '.repeat(101))), 413);
  assert.is(await status(put({ 'content-length': '2' }, '{}')), 400);
  const tooMany = await rejects(middleware(next, { max_manifest_segments: 1 })(request('PUT', '/v1/a/c/m', { 'content-length': '50' }, 'multipart-manifest=put', JSON.stringify([{ path: '/c/s1' }, { path: '/c/s2' }]))), HttpError);
  assert.is((tooMany as HttpError).status, 413);
  assert.is(await status(put({ 'x-static-large-object': 'true' }, '[]', '')), 400);
  assert.is(seen.length, 0);
});

test('a nested manifest deeper than ten levels is a 409', async () => {
  const objects = segmentStore();
  const { next } = fakePipeline(objects);
  let previous = '/c/s1';
  for (let level = 1; level <= 11; level++) {
    const res = await middleware(next)(request('PUT', `/v1/a/c/l${level}`, { 'content-length': '20' }, 'multipart-manifest=put', JSON.stringify([{ path: previous }])));
    assert.is(res.status, 201, `level ${level}`);
    previous = `/c/l${level}`;
  }
  assert.is((await readWhole((await middleware(next)(request('GET', '/v1/a/c/l9'))).body, 100)).toString(), 'one');
  const deep = await rejects(middleware(next)(request('GET', '/v1/a/c/l11')), HttpError);
  assert.is((deep as HttpError).status, 409);
});

test.run();
