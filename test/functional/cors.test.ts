import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';

let c: TestCluster;
test.before(async () => {
  c = await startCluster({ proxy: { cors_allow_origin: ['http://everywhere.example'], cors_expose_headers: ['X-Operator-Header'] } });
  assert.is((await c.request('PUT', '/v1/AUTH_test/web', { 'X-Container-Meta-Access-Control-Allow-Origin': 'http://a.example http://b.example', 'X-Container-Meta-Access-Control-Max-Age': '300', 'X-Container-Meta-Access-Control-Expose-Headers': 'X-Foo  x-bar' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/web/o', { 'X-Object-Meta-Color': 'red' }, 'hello')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/public', { 'X-Container-Meta-Access-Control-Allow-Origin': '*' })).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/public/o', {}, 'hi')).status, 201);
  assert.is((await c.request('PUT', '/v1/AUTH_test/closed')).status, 201);
});
test.after(async () => {
  await c.close();
});

/** A request as a browser sends it: no token for a preflight. */
const options = (path: string, headers: Record<string, string> = {}) => httpRequest(c.port, 'OPTIONS', path, headers);

test('OPTIONS answers 200 with Allow on an account, container and object (COPY for objects), without a token', async () => {
  const account = await options('/v1/AUTH_test');
  assert.is(account.status, 200);
  assert.is(account.headers['allow'], 'GET, HEAD, POST, OPTIONS');
  assert.is((await options('/v1/AUTH_test/web')).headers['allow'], 'GET, HEAD, PUT, POST, DELETE, OPTIONS');
  const object = await options('/v1/AUTH_test/web/o');
  assert.is(object.status, 200);
  assert.is(object.headers['allow'], 'GET, HEAD, PUT, POST, DELETE, OPTIONS, COPY');
  assert.is((await options('/v1/AUTH_test/nocontainer/o')).status, 200);
  assert.is((await options('/v1/OTHER_test/web')).status, 401, 'an account no auth serves');
  assert.is((await c.request('PATCH', '/v1/AUTH_test/web/o')).headers['allow'], 'GET, HEAD, PUT, POST, DELETE, OPTIONS');
});

test('a preflight from an allowed origin: 200 with the Access-Control-Allow-* headers', async () => {
  const res = await options('/v1/AUTH_test/web/o', { Origin: 'http://a.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'x-auth-token, X-Object-Meta-Color' });
  assert.is(res.status, 200);
  assert.is(res.headers['access-control-allow-origin'], 'http://a.example');
  assert.is(res.headers['access-control-allow-methods'], 'GET, HEAD, PUT, POST, DELETE, OPTIONS, COPY');
  assert.is(res.headers['access-control-allow-headers'], 'x-auth-token, X-Object-Meta-Color');
  assert.is(res.headers['access-control-max-age'], '300');
  assert.is(res.headers['vary'], 'Origin, Access-Control-Request-Headers');
  const star = await options('/v1/AUTH_test/public', { Origin: 'http://any.example', 'Access-Control-Request-Method': 'GET' });
  assert.is(star.status, 200);
  assert.is(star.headers['access-control-allow-origin'], '*');
  assert.is(star.headers['vary'], undefined);
  const operator = await options('/v1/AUTH_test/closed/o', { Origin: 'http://everywhere.example', 'Access-Control-Request-Method': 'GET' });
  assert.is(operator.status, 200, 'cors_allow_origin holds for every container');
});

test('a preflight is 401 for another origin, a method not allowed, no method, or a container without rules', async () => {
  for (const [path, headers] of [
    ['/v1/AUTH_test/web/o', { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' }],
    ['/v1/AUTH_test/web/o', { Origin: 'http://a.example', 'Access-Control-Request-Method': 'COPY' }],
    ['/v1/AUTH_test/web/o', { Origin: 'http://a.example' }],
    ['/v1/AUTH_test/closed', { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET' }],
    ['/v1/AUTH_test/nocontainer/o', { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET' }],
  ] as const) {
    const res = await options(path, headers);
    assert.is(res.status, 401, `${path} ${JSON.stringify(headers)}`);
    assert.is(res.headers['access-control-allow-origin'], undefined);
    assert.is(res.headers['allow'], 'GET, HEAD, PUT, POST, DELETE, OPTIONS', 'COPY only on a successful object answer');
  }
  const account = await options('/v1/AUTH_test', { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET' });
  assert.is(account.status, 200, 'accounts have no CORS rules: a plain OPTIONS answer');
  assert.is(account.headers['access-control-allow-origin'], undefined);
});

test('actual requests from an allowed origin get Allow-Origin and Expose-Headers, errors and anonymous refusals too', async () => {
  const get = await c.request('GET', '/v1/AUTH_test/web/o', { Origin: 'http://b.example' });
  assert.is(get.status, 200);
  assert.is(get.headers['access-control-allow-origin'], 'http://b.example');
  assert.is(get.headers['vary'], 'Origin');
  const exposed = (get.headers['access-control-expose-headers'] ?? '').split(', ');
  for (const h of ['etag', 'x-timestamp', 'x-trans-id', 'x-openstack-request-id', 'content-type', 'last-modified', 'x-object-meta-color', 'x-foo', 'x-bar', 'x-operator-header']) assert.ok(exposed.includes(h), h);
  const listing = await c.request('GET', '/v1/AUTH_test/web', { Origin: 'http://a.example' });
  assert.ok((listing.headers['access-control-expose-headers'] ?? '').split(', ').includes('x-container-meta-access-control-max-age'));
  const missing = await c.request('GET', '/v1/AUTH_test/web/nothing', { Origin: 'http://a.example' });
  assert.is(missing.status, 404);
  assert.is(missing.headers['access-control-allow-origin'], 'http://a.example');
  const anonymous = await c.request('GET', '/v1/AUTH_test/web/o', { Origin: 'http://a.example', 'X-Auth-Token': '' });
  assert.is(anonymous.status, 401);
  assert.is(anonymous.headers['access-control-allow-origin'], 'http://a.example', 'the page may see its 401');
  const put = await c.request('PUT', '/v1/AUTH_test/public/new', { Origin: 'http://any.example' }, 'x');
  assert.is(put.status, 201);
  assert.is(put.headers['access-control-allow-origin'], '*');
});

test('strict mode: no CORS headers for an origin the container does not allow, nor on accounts', async () => {
  const other = await c.request('GET', '/v1/AUTH_test/web/o', { Origin: 'http://evil.example' });
  assert.is(other.status, 200);
  assert.is(other.headers['access-control-allow-origin'], undefined);
  assert.is(other.headers['access-control-expose-headers'], undefined);
  const account = await c.request('GET', '/v1/AUTH_test', { Origin: 'http://a.example' });
  assert.is(account.headers['access-control-allow-origin'], undefined);
  const plain = await c.request('GET', '/v1/AUTH_test/web/o');
  assert.is(plain.headers['access-control-allow-origin'], undefined);
  assert.is(plain.headers['vary'], undefined);
});

test('/info tells the mode; without strict mode every origin gets CORS headers', async () => {
  assert.is(JSON.parse((await httpRequest(c.port, 'GET', '/info')).body.toString()).swift.strict_cors_mode, true);
  const lax = await startCluster({ nodes: 1, replicas: 1, proxy: { strict_cors_mode: false } });
  try {
    assert.is(JSON.parse((await httpRequest(lax.port, 'GET', '/info')).body.toString()).swift.strict_cors_mode, false);
    assert.is((await lax.request('PUT', '/v1/AUTH_test/web', { 'X-Container-Meta-Access-Control-Allow-Origin': 'http://secret.example' })).status, 201);
    assert.is((await lax.request('PUT', '/v1/AUTH_test/web/o', {}, 'x')).status, 201);
    const res = await lax.request('GET', '/v1/AUTH_test/web/o', { Origin: 'http://m.example' });
    assert.is(res.status, 200);
    assert.is(res.headers['access-control-allow-origin'], 'http://m.example');
    const preflight = await httpRequest(lax.port, 'OPTIONS', '/v1/AUTH_test/web/o', { Origin: 'http://m.example', 'Access-Control-Request-Method': 'GET' });
    assert.is(preflight.status, 401, 'preflights still follow the container');
  } finally {
    await lax.close();
  }
});

test.run();
