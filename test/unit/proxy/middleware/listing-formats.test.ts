import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConstraintError } from '../../../../common/errors.ts';
import type { ServerResponse } from '../../../../common/http/server.ts';
import { createLogger } from '../../../../common/logger.ts';
import { listingFormats } from '../../../../proxy/middleware/listing-formats.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';

const logger = createLogger({ level: 'error' });

function request(path: string, query = '', headers: Record<string, string> = {}): ProxyRequest {
  return {
    method: 'GET',
    path,
    query: new URLSearchParams(query),
    headers,
    body: (async function* () {})(),
    remoteAddress: '127.0.0.1',
    signal: new AbortController().signal,
    env: { transId: 'tx', logger },
  };
}

const ROWS = [
  { name: '\u0000versions\u0000c', count: 1, bytes: 2, last_modified: '2024-01-01T00:00:00.000000' },
  { name: 'c', count: 3, bytes: 4, last_modified: '2024-01-01T00:00:00.000000' },
];
const OBJECTS = [{ bytes: 5, hash: 'h', name: 'o&p', content_type: 'text/plain', last_modified: '2024-01-01T00:00:00.000000' }];

/** A pipeline below that answers `rows` as JSON and records what it was asked. */
function below(rows: unknown[]) {
  const asked: ProxyRequest[] = [];
  const handler = listingFormats(['v1'])(async (req): Promise<ServerResponse> => {
    asked.push(req);
    const body = JSON.stringify(rows);
    return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), 'x-account-container-count': '2' }, body };
  });
  return { asked, handler };
}

test('listings are asked for as JSON and rendered in the format the client wants, reserved names left out', async () => {
  const { asked, handler } = below(ROWS);
  const plain = await handler(request('/v1/AUTH_test'));
  assert.is(asked[0]?.query.get('format'), 'json');
  assert.is(plain.status, 200);
  assert.is(plain.body, 'c\n');
  assert.is(plain.headers?.['content-type'], 'text/plain; charset=utf-8');
  assert.is(plain.headers?.['content-length'], '2');
  assert.is(plain.headers?.['vary'], 'Accept');
  assert.is(plain.headers?.['x-account-container-count'], '2');
  const json = await handler(request('/v1/AUTH_test', 'format=json'));
  assert.is(json.body, '[{"name": "c", "count": 3, "bytes": 4, "last_modified": "2024-01-01T00:00:00.000000"}]');
  assert.is(json.headers?.['vary'], undefined, 'a format parameter decides; Accept does not');
  const xml = await handler(request('/v1/AUTH_test', '', { accept: 'application/xml' }));
  assert.is(xml.headers?.['content-type'], 'application/xml; charset=utf-8');
  assert.ok(String(xml.body).includes('<container><name>c</name><count>3</count>'));
  assert.not.ok(String(xml.body).includes('versions'));
  const internal = await handler(request('/v1/AUTH_test', 'format=json', { 'x-backend-allow-reserved-names': 'true' }));
  assert.is(JSON.parse(String(internal.body)).length, 2, 'the proxy\'s own listings see the reserved namespace');
});

test('container listings render as Swift\'s XML; an empty plain listing is a 204', async () => {
  const xml = await below(OBJECTS).handler(request('/v1/AUTH_test/c', 'format=xml'));
  assert.is(xml.body, '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c"><object><name>o&amp;p</name><hash>h</hash><bytes>5</bytes><content_type>text/plain</content_type><last_modified>2024-01-01T00:00:00.000000</last_modified></object></container>');
  const empty = await below([]).handler(request('/v1/AUTH_test/c'));
  assert.is(empty.status, 204);
  assert.is(empty.body, '');
  const emptyJson = await below([]).handler(request('/v1/AUTH_test/c', 'format=json'));
  assert.is(emptyJson.status, 200);
  assert.is(emptyJson.body, '[]');
});

test('an unacceptable Accept is refused before anything is asked; objects, HEADs and other paths pass', async () => {
  const { asked, handler } = below(OBJECTS);
  try {
    await handler(request('/v1/AUTH_test/c', '', { accept: 'image/png' }));
    assert.unreachable('406 expected');
  } catch (err) {
    assert.instance(err, ConstraintError);
    assert.is((err as ConstraintError).kind, 'not_acceptable');
  }
  assert.is(asked.length, 0);
  for (const req of [request('/v1/AUTH_test/c/o', 'format=xml'), request('/info', 'format=xml'), request('/v2/AUTH_test', 'format=xml'), { ...request('/v1/AUTH_test/c', 'format=xml'), method: 'HEAD' }]) {
    await handler(req);
    assert.is(asked.at(-1)?.query.get('format'), 'xml', `${req.method} ${req.path}`);
  }
});

test('an answer that is not a JSON listing passes as it is', async () => {
  const handler = listingFormats(['v1'])(async () => ({ status: 200, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: '<html>index</html>' }));
  const page = await handler(request('/v1/AUTH_test/c'));
  assert.is(page.body, '<html>index</html>');
  assert.is(page.headers?.['content-type'], 'text/html; charset=UTF-8');
});

test.run();
