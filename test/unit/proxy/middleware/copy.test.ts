import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_CONSTRAINTS } from '../../../../common/constraints.ts';
import { HttpError } from '../../../../common/http/http-error.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { createLogger } from '../../../../common/logger.ts';
import type { ProxyContext } from '../../../../proxy/context.ts';
import { copy } from '../../../../proxy/middleware/copy.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { rejects } from '../../../helpers/rejects.ts';

const logger = createLogger({ level: 'error' });
const ctx = { logger, constraints: DEFAULT_CONSTRAINTS } as unknown as ProxyContext;

function request(method: string, path: string, headers: Record<string, string>, query = ''): ProxyRequest {
  return {
    method,
    path,
    query: new URLSearchParams(query),
    headers,
    body: (async function* () {})(),
    remoteAddress: '127.0.0.1',
    signal: new AbortController().signal,
    env: { transId: 'tx', logger },
  };
}

/** A pipeline below copy: answers the source GET with `source`, records the PUT. */
function below(source: ServerResponse, putStatus = 201) {
  const seen: { get?: ProxyRequest; put?: ProxyRequest; putBody?: string } = {};
  const next = async (req: ProxyRequest): Promise<ServerResponse> => {
    if (req.method === 'GET') {
      seen.get = req;
      return source;
    }
    seen.put = req;
    if (putStatus >= 300) return { status: putStatus };
    let body = '';
    for await (const chunk of req.body) body += Buffer.from(chunk).toString();
    seen.putBody = body;
    return { status: putStatus, headers: { ETag: 'new-etag' } };
  };
  return { seen, handler: copy(ctx)(next) };
}

const SOURCE_HEADERS = {
  'content-length': '5',
  'content-type': 'text/x-src',
  etag: 'abc',
  'last-modified': 'Tue, 14 Nov 2023 22:13:21 GMT',
  'x-timestamp': '1700000000.00000',
  'x-backend-timestamp': '1700000000.00000',
  'x-object-meta-color': 'blue',
  'x-object-sysmeta-thing': 'sys',
  'x-object-transient-sysmeta-t': 'tr',
  'x-object-sysmeta-container-update-override-etag': 'other',
  'content-encoding': 'gzip',
  'accept-ranges': 'bytes',
};

test('COPY becomes a GET of the source (X-Newest) and a PUT of the destination with its metadata', async () => {
  const { seen, handler } = below({ status: 200, headers: SOURCE_HEADERS, body: 'hello' });
  const res = await handler(request('COPY', '/v1/AUTH_a/c/o', { destination: '/d/%C3%BC', 'x-object-meta-new': 'n' }));
  assert.is(res.status, 201);
  assert.is(seen.get?.path, '/v1/AUTH_a/c/o');
  assert.is(seen.get?.headers['x-newest'], 'true');
  assert.is(seen.get?.env.source, 'COPY');
  assert.is(seen.put?.path, '/v1/AUTH_a/d/%C3%BC');
  assert.is(seen.putBody, 'hello');
  const h = seen.put?.headers ?? {};
  assert.is(h['content-length'], '5');
  assert.is(h['etag'], 'abc');
  assert.is(h['content-type'], 'text/x-src');
  assert.is(h['x-object-meta-color'], 'blue');
  assert.is(h['x-object-meta-new'], 'n');
  assert.is(h['x-object-sysmeta-thing'], 'sys');
  assert.is(h['x-object-transient-sysmeta-t'], 'tr');
  assert.is(h['content-encoding'], 'gzip');
  for (const dropped of ['destination', 'x-timestamp', 'x-backend-timestamp', 'accept-ranges', 'last-modified']) assert.is(h[dropped], undefined, dropped);
  assert.equal(res.headers, {
    ETag: 'new-etag',
    'X-Copied-From-Account': 'AUTH_a',
    'X-Copied-From': 'c/o',
    'X-Copied-From-Last-Modified': 'Tue, 14 Nov 2023 22:13:21 GMT',
    'x-object-meta-color': 'blue',
    'x-object-sysmeta-thing': 'sys',
    'x-object-transient-sysmeta-t': 'tr',
    'x-object-sysmeta-container-update-override-etag': 'other',
    'x-object-meta-new': 'n',
  });
});

test('X-Fresh-Metadata keeps only the source system metadata', async () => {
  const { seen, handler } = below({ status: 200, headers: SOURCE_HEADERS, body: 'hello' });
  await handler(request('PUT', '/v1/AUTH_a/d/o', { 'x-copy-from': 'c/o', 'x-fresh-metadata': 'true', 'x-object-meta-only': '1' }));
  const h = seen.put?.headers ?? {};
  assert.is(h['x-object-meta-color'], undefined);
  assert.is(h['content-encoding'], undefined);
  assert.is(h['x-object-meta-only'], '1');
  assert.is(h['x-object-sysmeta-thing'], 'sys');
  assert.is(h['x-copy-from'], undefined);
});

test('a range (206) or a large object: no ETag copied, container-update overrides dropped', async () => {
  for (const [status, extra] of [[206, {}], [200, { 'x-static-large-object': 'True' }], [200, { 'x-object-manifest': 'c/seg' }]] as const) {
    const { seen, handler } = below({ status, headers: { ...SOURCE_HEADERS, ...extra }, body: 'hello' });
    await handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' }));
    const h = seen.put?.headers ?? {};
    assert.is(h['etag'], undefined);
    assert.is(h['x-object-sysmeta-container-update-override-etag'], undefined);
    assert.is(h['x-static-large-object'], undefined);
    assert.is(h['x-object-manifest'], undefined);
  }
});

test('?multipart-manifest=get: SLO source read raw and written back as a manifest; DLO keeps its header', async () => {
  const slo = below({ status: 200, headers: { ...SOURCE_HEADERS, 'x-static-large-object': 'True' }, body: '[]' });
  await slo.handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' }, 'multipart-manifest=get'));
  assert.is(slo.seen.get?.query.toString(), 'multipart-manifest=get&format=raw');
  assert.is(slo.seen.put?.query.toString(), 'multipart-manifest=put');
  const dlo = below({ status: 200, headers: { ...SOURCE_HEADERS, 'content-length': '0', 'x-object-manifest': 'c/seg' }, body: '' });
  await dlo.handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' }, 'multipart-manifest=get'));
  assert.is(dlo.seen.put?.query.toString(), '');
  assert.is(dlo.seen.put?.headers['x-object-manifest'], 'c/seg');
  assert.is(dlo.seen.put?.headers['etag'], 'abc');
});

test('a source without Content-Length is sent chunked; one over max_file_size is 413', async () => {
  const { seen, handler } = below({ status: 200, headers: { 'content-type': 'a/b' }, body: 'stream' });
  await handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' }));
  assert.is(seen.put?.headers['transfer-encoding'], 'chunked');
  assert.is(seen.put?.headers['content-length'], undefined);
  const huge = below({ status: 200, headers: { 'content-length': String(DEFAULT_CONSTRAINTS.max_file_size + 1) }, body: '' });
  const err = await rejects(huge.handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' })), HttpError);
  assert.is((err as HttpError).status, 413);
  assert.is(huge.seen.put, undefined);
});

test('a source error is the answer; a refused PUT releases the source body', async () => {
  const missing = below({ status: 404, body: 'gone' });
  assert.is((await missing.handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' }))).status, 404);
  assert.is(missing.seen.put, undefined);
  let closed = false;
  const body = (async function* () {
    try {
      yield Buffer.from('a');
      yield Buffer.from('b');
    } finally {
      closed = true;
    }
  })();
  const refused = below({ status: 200, headers: { 'content-length': '2' }, body }, 403);
  const res = await refused.handler(request('COPY', '/v1/AUTH_a/c/o', { destination: 'd/o' }));
  assert.is(res.status, 403);
  assert.is(res.headers?.['X-Copied-From'], undefined);
  assert.ok(closed);
});

test('other requests pass through; OPTIONS gains COPY', async () => {
  let passed = 0;
  const handler = copy(ctx)(async (req) => {
    passed++;
    return req.method === 'OPTIONS' ? { status: 200, headers: { Allow: 'GET, PUT' } } : { status: 204 };
  });
  await handler(request('PUT', '/v1/AUTH_a/c/o', {}));
  await handler(request('COPY', '/v1/AUTH_a/c', { destination: 'd/o' }));
  const options = await handler(request('OPTIONS', '/v1/AUTH_a/c/o', {}));
  assert.is(options.headers?.['Allow'], 'GET, PUT, COPY');
  assert.is(passed, 3);
});

test.run();
