import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { tempauth } from '../../../../proxy/middleware/tempauth.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const config = {
  reseller_prefix: 'AUTH',
  token_life: 3600,
  'user_*': { user_test_tester: 'testing .admin', user_test_tester3: 'testing3', user_admin_admin: 'admin .admin .reseller_admin', user_ext_u: 'k $HOST/v1/AUTH_elsewhere' },
};

function request(method: string, path: string, headers: Record<string, string> = {}): ProxyRequest {
  return {
    method,
    path,
    query: new URLSearchParams(),
    headers: { host: 'swift:8080', ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) },
    body: (async function* () {})(),
    remoteAddress: '127.0.0.1',
    signal: new AbortController().signal,
    env: { transId: 'tx1', logger: nullLogger },
  };
}

/** Runs the middleware and returns what the next handler saw of the env (or the response). */
async function run(clock: ManualClock, req: ProxyRequest): Promise<{ status: number; headers: Record<string, unknown>; env: ProxyRequest['env'] }> {
  const handler = tempauth(config, 'secret', clock, {})(async (r) => ({ status: 299, headers: {}, body: null, env: r.env }) as never);
  try {
    const res = await handler(req);
    return { status: res.status, headers: (res.headers ?? {}) as Record<string, unknown>, env: req.env };
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, headers: err.headers, env: req.env };
    throw err;
  }
}

async function token(clock: ManualClock, user = 'test:tester', key = 'testing'): Promise<string> {
  const res = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': key }));
  return String(res.headers['X-Auth-Token']);
}

test('a token is valid until token_life passes, then 401', async () => {
  const clock = new ManualClock();
  const t = await token(clock);
  const fresh = await run(clock, request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': t }));
  assert.is(fresh.env.identity?.user, 'test:tester');
  assert.is(fresh.env.authorize?.({ method: 'HEAD', account: 'AUTH_test' }), undefined);
  clock.advance(3601_000);
  const expired = await run(clock, request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': t }));
  assert.is(expired.env.identity, undefined);
  assert.is(expired.env.authorize?.({ method: 'HEAD', account: 'AUTH_test' })?.status, 401);
});

test('a token signed under another secret is refused', async () => {
  const clock = new ManualClock();
  const t = await token(clock);
  const other = tempauth(config, 'another secret', clock, {})(async (r) => ({ status: 200, headers: {}, body: null, env: r.env }) as never);
  const req = request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': t });
  await other(req);
  assert.is(req.env.authorize?.({ method: 'HEAD', account: 'AUTH_test' })?.status, 401);
});

test("Swift's rules: owners, reseller admins, account management, foreign accounts, ACLs", async () => {
  const clock = new ManualClock();
  const as = async (user: string, key: string) => (await run(clock, request('GET', '/v1/AUTH_test', { 'X-Auth-Token': await token(clock, user, key) }))).env.authorize as NonNullable<ProxyRequest['env']['authorize']>;
  const owner = await as('test:tester', 'testing');
  const plain = await as('test:tester3', 'testing3');
  const reseller = await as('admin:admin', 'admin');
  assert.is(owner({ method: 'PUT', account: 'AUTH_test', container: 'c' }), undefined);
  assert.is(owner({ method: 'PUT', account: 'AUTH_test' })?.status, 403, 'only reseller admins PUT accounts');
  assert.is(owner({ method: 'GET', account: 'AUTH_other' })?.status, 403);
  assert.is(reseller({ method: 'PUT', account: 'AUTH_other' }), undefined);
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c' })?.status, 403);
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c', acl: 'test:tester3' }), undefined);
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c', acl: 'test' }), undefined, 'a whole-account grant');
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:*' }), undefined);
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c', acl: '.r:*' })?.status, 403, 'listing needs .rlistings');
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:.example.com', referer: 'http://www.example.com/x' }), undefined);
  assert.is(plain({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:*,.r:-bad.com', referer: 'http://bad.com/' })?.status, 403);
  assert.is(plain({ method: 'GET', account: 'NOTAUTH_x' })?.status, 403);
});

test('bad credentials are 401; a configured storage URL is used; only GET issues tokens', async () => {
  const clock = new ManualClock();
  assert.is((await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'nope' }))).status, 401);
  assert.is((await run(clock, request('GET', '/auth/v1.0'))).status, 401);
  assert.is((await run(clock, request('POST', '/auth/v1.0'))).status, 405);
  const ext = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'ext:u', 'X-Auth-Key': 'k' }));
  assert.is(ext.headers['X-Storage-Url'], 'http://swift:8080/v1/AUTH_elsewhere');
  const ok = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' }));
  assert.is(ok.headers['X-Storage-Url'], 'http://swift:8080/v1/AUTH_test');
  assert.is(ok.headers['X-Auth-Token-Expires'], '3600');
});

test.run();
