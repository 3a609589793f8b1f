import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { authenticate, keystonePasswordBody, keystoneTokensUrl, objectStoreUrl } from '../../../bench/auth.ts';
import { BenchError } from '../../../bench/bench-error.ts';
import { type HttpServer, listen, type ServerRequest } from '../../../common/http/server.ts';
import { nullLogger } from '../../../common/logger.ts';

async function serve(handler: (req: ServerRequest, body: string) => { status: number; headers?: Record<string, string>; body?: string }): Promise<HttpServer> {
  return listen(
    async (req) => {
      let body = '';
      for await (const chunk of req.body) body += (chunk as Buffer).toString();
      return handler(req, body);
    },
    { host: '127.0.0.1', port: 0, logger: nullLogger },
  );
}

async function authError(p: Promise<unknown>): Promise<BenchError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.instance(err, BenchError);
  assert.is((err as BenchError).code, 'BENCH_AUTH_FAILED');
  return err as BenchError;
}

const CATALOG = {
  token: {
    catalog: [
      { type: 'identity', endpoints: [{ interface: 'public', url: 'http://ks/v3' }] },
      {
        type: 'object-store',
        endpoints: [
          { interface: 'internal', region: 'RegionOne', url: 'http://internal/v1/AUTH_p' },
          { interface: 'public', region: 'RegionTwo', url: 'http://two/v1/AUTH_p' },
          { interface: 'public', region: 'RegionOne', url: 'http://one/v1/AUTH_p' },
        ],
      },
    ],
  },
};

test('v1: GET with X-Auth-User/X-Auth-Key gives the storage URL and token', async () => {
  const seen: Record<string, string | undefined> = {};
  const server = await serve((req) => {
    seen['method'] = req.method;
    seen['path'] = req.path;
    seen['user'] = req.headers['x-auth-user'];
    seen['key'] = req.headers['x-auth-key'];
    if (req.headers['x-auth-key'] !== 'testing') return { status: 401 };
    return { status: 200, headers: { 'X-Storage-Url': 'http://s/v1/AUTH_test', 'X-Auth-Token': 'AUTH_tk1' } };
  });
  try {
    const ep = await authenticate({ version: 1, authUrl: `http://127.0.0.1:${server.port}/auth/v1.0`, user: 'test:tester', key: 'testing' });
    assert.equal(ep, { storageUrl: 'http://s/v1/AUTH_test', token: 'AUTH_tk1' });
    assert.equal(seen, { method: 'GET', path: '/auth/v1.0', user: 'test:tester', key: 'testing' });
    const err = await authError(authenticate({ version: 1, authUrl: `http://127.0.0.1:${server.port}/auth/v1.0`, user: 'test:tester', key: 'wrong' }));
    assert.match(err.message, /status 401 \(wrong user or key\?\)/);
  } finally {
    await server.close();
  }
});

test('v1: a 200 without the headers says what is missing', async () => {
  const server = await serve(() => ({ status: 200, body: 'hello' }));
  try {
    const err = await authError(authenticate({ version: 1, authUrl: `http://127.0.0.1:${server.port}/`, user: 'u', key: 'k' }));
    assert.match(err.message, /no X-Storage-Url or X-Auth-Token/);
  } finally {
    await server.close();
  }
});

test('unreachable auth URL', async () => {
  const server = await serve(() => ({ status: 200 }));
  const port = server.port;
  await server.close();
  const err = await authError(authenticate({ version: 1, authUrl: `http://127.0.0.1:${port}/auth/v1.0`, user: 'u', key: 'k' }));
  assert.match(err.message, /no answer \(ECONNREFUSED\)/);
});

test('Keystone v3: URL forms and the password body scoped to a project', () => {
  assert.is(keystoneTokensUrl('http://ks:5000/v3'), 'http://ks:5000/v3/auth/tokens');
  assert.is(keystoneTokensUrl('http://ks:5000/v3/'), 'http://ks:5000/v3/auth/tokens');
  assert.is(keystoneTokensUrl('http://ks:5000'), 'http://ks:5000/v3/auth/tokens');
  assert.is(keystoneTokensUrl('http://ks/identity/v3/auth/tokens'), 'http://ks/identity/v3/auth/tokens');
  assert.equal(JSON.parse(keystonePasswordBody({ version: 3, authUrl: 'x', user: 'demo', password: 'pw', project: 'proj', domain: 'Default' })), {
    auth: {
      identity: { methods: ['password'], password: { user: { name: 'demo', domain: { name: 'Default' }, password: 'pw' } } },
      scope: { project: { name: 'proj', domain: { name: 'Default' } } },
    },
  });
});

test('Keystone v3: the object-store endpoint by interface and region', () => {
  assert.is(objectStoreUrl(CATALOG), 'http://two/v1/AUTH_p');
  assert.is(objectStoreUrl(CATALOG, 'public', 'RegionOne'), 'http://one/v1/AUTH_p');
  assert.is(objectStoreUrl(CATALOG, 'internal'), 'http://internal/v1/AUTH_p');
  assert.throws(() => objectStoreUrl(CATALOG, 'admin'), /no object-store endpoint for interface "admin" \(offered: internal@RegionOne, public@RegionTwo, public@RegionOne\)/);
  assert.throws(() => objectStoreUrl({ token: { catalog: [{ type: 'identity' }] } }), /no object-store service \(types: identity\)/);
  assert.throws(() => objectStoreUrl({ token: {} }), /no catalog/);
});

test('Keystone v3: POST, X-Subject-Token, catalog; errors', async () => {
  let posted: unknown;
  const server = await serve((req, body) => {
    if (req.method !== 'POST' || req.path !== '/v3/auth/tokens') return { status: 404 };
    posted = JSON.parse(body);
    const pw = (posted as { auth: { identity: { password: { user: { password: string } } } } }).auth.identity.password.user.password;
    if (pw !== 'secret') return { status: 401, body: '{"error": {"code": 401}}' };
    return { status: 201, headers: { 'X-Subject-Token': 'gAAAAtoken', 'Content-Type': 'application/json' }, body: JSON.stringify(CATALOG) };
  });
  const base = { version: 3 as const, authUrl: `http://127.0.0.1:${server.port}/v3`, user: 'demo', password: 'secret', project: 'demo', domain: 'Default' };
  try {
    assert.equal(await authenticate({ ...base, region: 'RegionOne' }), { storageUrl: 'http://one/v1/AUTH_p', token: 'gAAAAtoken' });
    assert.equal((posted as { auth: { scope: unknown } }).auth.scope, { project: { name: 'demo', domain: { name: 'Default' } } });
    const err = await authError(authenticate({ ...base, password: 'nope' }));
    assert.match(err.message, /status 401 \(wrong user, password, project or domain\?\)/);
  } finally {
    await server.close();
  }
});

test('a token given directly needs no request', async () => {
  assert.equal(await authenticate({ version: 'token', storageUrl: 'http://x/v1/AUTH_a', token: 't' }), { storageUrl: 'http://x/v1/AUTH_a', token: 't' });
});

test.run();
