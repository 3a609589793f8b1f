import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../../common/config.ts';
import { HttpError } from '../../../../common/http/http-error.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { tempauthSchema } from '../../../../proxy/config.ts';
import { tempauth } from '../../../../proxy/middleware/tempauth.ts';
import type { AuthorizeRequest, ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const config = {
  ...defaultConfig({ tempauth: tempauthSchema }).tempauth,
  reseller_prefix: 'AUTH, SERVICE',
  '*_require_group': { SERVICE_require_group: 'service' },
  token_life: 3600,
  'user_*': {
    user_test_tester: 'testing .admin',
    user_test_tester3: 'testing3',
    user_test5_tester5: 'testing5 service',
    user_admin_admin: 'admin .admin .reseller_admin',
    user_admin_auditor: 'admin_ro .reseller_reader',
    user_ext_u: 'k $HOST/v1/AUTH_elsewhere',
  },
  // "under_score" : "a_b"
  'user64_*': { user64_dW5kZXJfc2NvcmU_YV9i: 'testing4 .admin' },
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

/** Account sysmeta the middleware reads for account ACLs, and how often it asked. */
const sysmeta = new Map<string, Record<string, string>>();
let sysmetaReads = 0;

function middleware(clock: ManualClock, secret = 'secret') {
  return tempauth(config, secret, {
    clock,
    accountSysmeta: async (account) => {
      sysmetaReads++;
      return sysmeta.get(account) ?? {};
    },
  }, {});
}

/** Runs the middleware and returns what the next handler saw (or the response). */
async function run(clock: ManualClock, req: ProxyRequest): Promise<{ status: number; headers: Record<string, unknown>; req: ProxyRequest }> {
  const handler = middleware(clock)(async (r) => ({ status: 299, headers: {}, body: null, env: r.env }) as never);
  try {
    const res = await handler(req);
    return { status: res.status, headers: (res.headers ?? {}) as Record<string, unknown>, req };
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, headers: err.headers, req };
    throw err;
  }
}

async function token(clock: ManualClock, user = 'test:tester', key = 'testing'): Promise<string> {
  const res = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': key }));
  return String(res.headers['X-Auth-Token']);
}

type Check = (request: AuthorizeRequest) => Promise<number | 'owner' | 'allowed'>;

/** The authorizer a request to `path` with these headers gets, as a status or `owner`/`allowed`. */
async function authorizer(clock: ManualClock, path: string, headers: Record<string, string>): Promise<Check> {
  const res = await run(clock, request('GET', path, headers));
  const authorize = res.req.env.authorize;
  assert.ok(authorize, 'an authorizer is installed');
  return async (r) => {
    const decision = await authorize(r);
    return decision.denied ? decision.denied.status : decision.owner ? 'owner' : 'allowed';
  };
}

async function as(clock: ManualClock, user: string, key: string, path = '/v1/AUTH_test'): Promise<Check> {
  return authorizer(clock, path, { 'X-Auth-Token': await token(clock, user, key) });
}

test('a token is valid until token_life passes, then 401', async () => {
  const clock = new ManualClock();
  const t = await token(clock);
  const fresh = await authorizer(clock, '/v1/AUTH_test', { 'X-Auth-Token': t });
  assert.is(await fresh({ method: 'HEAD', account: 'AUTH_test' }), 'owner');
  clock.advance(3601_000);
  const expired = await authorizer(clock, '/v1/AUTH_test', { 'X-Auth-Token': t });
  assert.is(await expired({ method: 'HEAD', account: 'AUTH_test' }), 401);
});

test('a token signed under another secret is refused', async () => {
  const clock = new ManualClock();
  const t = await token(clock);
  const other = middleware(clock, 'another secret')(async (r) => ({ status: 200, headers: {}, body: null, env: r.env }) as never);
  const req = request('HEAD', '/v1/AUTH_test', { 'X-Auth-Token': t });
  await other(req);
  assert.is((await req.env.authorize?.({ method: 'HEAD', account: 'AUTH_test' }))?.denied?.status, 401);
});

test("Swift's rules: owners, reseller admins and readers, account management, foreign accounts, container ACLs", async () => {
  const clock = new ManualClock();
  const owner = await as(clock, 'test:tester', 'testing');
  const plain = await as(clock, 'test:tester3', 'testing3');
  const reseller = await as(clock, 'admin:admin', 'admin');
  const reader = await as(clock, 'admin:auditor', 'admin_ro');
  assert.is(await owner({ method: 'PUT', account: 'AUTH_test', container: 'c' }), 'owner');
  assert.is(await owner({ method: 'PUT', account: 'AUTH_test' }), 403, 'only reseller admins PUT accounts');
  assert.is(await owner({ method: 'GET', account: 'AUTH_other' }), 403);
  assert.is(await reseller({ method: 'PUT', account: 'AUTH_other' }), 'owner');
  assert.is(await reseller({ method: 'GET', account: 'AUTH_.system' }), 403, 'not dot-accounts');
  assert.is(await reader({ method: 'GET', account: 'AUTH_other', container: 'c' }), 'allowed');
  assert.is(await reader({ method: 'PUT', account: 'AUTH_other', container: 'c' }), 403, 'a reseller reader only reads');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c' }), 403);
  assert.is(await plain({ method: 'OPTIONS', account: 'AUTH_test', container: 'c' }), 'allowed');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c', acl: 'test:tester3' }), 'allowed');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c', acl: 'test' }), 'allowed', 'a whole-account grant');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:*' }), 'allowed');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c', acl: '.r:*' }), 403, 'listing needs .rlistings');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:.example.com', referer: 'http://www.example.com/x' }), 'allowed');
  assert.is(await plain({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:*,.r:-bad.com', referer: 'http://bad.com/' }), 403);
  assert.is(await plain({ method: 'GET', account: 'NOTAUTH_x' }), 403);
});

test('no token: ACLs may grant (401 otherwise); an account outside every reseller prefix is refused, OPTIONS too', async () => {
  const clock = new ManualClock();
  const anonymous = await authorizer(clock, '/v1/AUTH_test/c/o', {});
  assert.is(await anonymous({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:*' }), 'allowed');
  assert.is(await anonymous({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o' }), 401);
  assert.is(await anonymous({ method: 'OPTIONS', account: 'AUTH_test', container: 'c' }), 'allowed');
  const foreign = await authorizer(clock, '/v1/OTHER_x/c', {});
  assert.is(await foreign({ method: 'OPTIONS', account: 'OTHER_x', container: 'c' }), 401);
  // A token that is not this auth's is no credential: as anonymous (Swift leaves it to others).
  const alien = await authorizer(clock, '/v1/AUTH_test/c/o', { 'X-Auth-Token': 'gAAAA-keystone' });
  assert.is(await alien({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o', acl: '.r:*' }), 'allowed');
});

test('an admin is owner under every reseller prefix, but SERVICE_ needs the service group: only with an X-Service-Token', async () => {
  const clock = new ManualClock();
  const user = await token(clock, 'test:tester', 'testing');
  const service = await token(clock, 'test5:tester5', 'testing5');
  const alone = await authorizer(clock, '/v1/SERVICE_test', { 'X-Auth-Token': user });
  assert.is(await alone({ method: 'GET', account: 'SERVICE_test' }), 403);
  assert.is(await alone({ method: 'OPTIONS', account: 'SERVICE_test' }), 'allowed');
  const both = await authorizer(clock, '/v1/SERVICE_test', { 'X-Auth-Token': user, 'X-Service-Token': service });
  assert.is(await both({ method: 'GET', account: 'SERVICE_test', container: 'c' }), 'owner');
  assert.is(await both({ method: 'PUT', account: 'SERVICE_test' }), 403, 'no account PUT, even so');
  const serviceOnly = await authorizer(clock, '/v1/SERVICE_test', { 'X-Auth-Token': service, 'X-Service-Token': service });
  assert.is(await serviceOnly({ method: 'GET', account: 'SERVICE_test' }), 403, "the service user is no owner of someone else's account");
  const badService = await authorizer(clock, '/v1/SERVICE_test', { 'X-Auth-Token': user, 'X-Service-Token': 'AUTH_tkforged.sig' });
  assert.is(await badService({ method: 'GET', account: 'SERVICE_test' }), 403, 'a bad service token adds nothing');
  assert.is(await both({ method: 'GET', account: 'AUTH_test' }), 'owner', 'the user keeps its own account');
});

test('account ACLs: admin is owner, read-write reads the account and writes in it, read-only reads; looked up only when needed', async () => {
  const clock = new ManualClock();
  sysmeta.set('AUTH_test', { 'core-access-control': '{"admin":["test2:tester2"],"read-write":["test:tester3"],"read-only":["other"]}' });
  try {
    const plain = await as(clock, 'test:tester3', 'testing3');
    assert.is(await plain({ method: 'GET', account: 'AUTH_test' }), 'allowed');
    assert.is(await plain({ method: 'POST', account: 'AUTH_test' }), 403, 'read-write does not write the account itself');
    assert.is(await plain({ method: 'PUT', account: 'AUTH_test', container: 'c' }), 'allowed');
    assert.is(await plain({ method: 'DELETE', account: 'AUTH_test', container: 'c', object: 'o' }), 'allowed');
    sysmeta.set('AUTH_test', { 'core-access-control': '{"read-only":["test:tester3"]}' });
    assert.is(await plain({ method: 'HEAD', account: 'AUTH_test', container: 'c' }), 'allowed');
    assert.is(await plain({ method: 'PUT', account: 'AUTH_test', container: 'c' }), 403);
    sysmeta.set('AUTH_test', { 'core-access-control': '{"admin":["test"]}' });
    assert.is(await plain({ method: 'POST', account: 'AUTH_test' }), 'owner', 'a group grant');
    sysmeta.set('AUTH_test', { 'core-access-control': 'not json' });
    assert.is(await plain({ method: 'GET', account: 'AUTH_test' }), 403, 'a broken stored ACL grants nothing');
    const owner = await as(clock, 'test:tester', 'testing');
    const before = sysmetaReads;
    assert.is(await owner({ method: 'GET', account: 'AUTH_test', container: 'c', object: 'o' }), 'owner');
    assert.is(sysmetaReads, before, "an owner's request reads no account info");
  } finally {
    sysmeta.clear();
  }
});

test('X-Account-Access-Control: validated (400 with Swift\'s message) and moved into the account sysmeta', async () => {
  const clock = new ManualClock();
  const t = await token(clock);
  const post = (value: string) => run(clock, request('POST', '/v1/AUTH_test', { 'X-Auth-Token': t, 'X-Account-Access-Control': value }));
  const ok = await post('{"admin":["bob"],"read-only":[]}');
  assert.is(ok.status, 299);
  assert.is(ok.req.headers['x-account-sysmeta-core-access-control'], '{"admin":["bob"],"read-only":[]}');
  assert.is(ok.req.headers['x-account-access-control'], undefined);
  const cases: [string, string][] = [
    ['yuck', "Syntax error in input ('yuck')"],
    ['["admin"]', `Syntax error in input ('["admin"]')`],
    ['{"admin":["a"],"owner":["b"]}', 'Key "owner" not recognized'],
    ['{"read-write":"bob"}', 'Value for key "read-write" must be a list'],
    ['{"read-only":["bob",1]}', 'Elements of "read-only" list must be strings'],
  ];
  for (const [value, problem] of cases) {
    const res = await run(clock, request('POST', '/v1/AUTH_test', { 'X-Auth-Token': t, 'X-Account-Access-Control': value }));
    assert.is(res.status, 400, value);
    assert.is(res.req.headers['x-account-sysmeta-core-access-control'], undefined);
    const err = await middleware(clock)(async () => ({ status: 200 }))(request('POST', '/v1/AUTH_test', { 'X-Auth-Token': t, 'X-Account-Access-Control': value })).catch((e: unknown) => e);
    assert.instance(err, HttpError);
    assert.is((err as HttpError).body, `X-Account-Access-Control invalid: ${problem}\n\nInput: ${value}\n`);
  }
});

test('bad credentials are 401; a configured storage URL is used; only GET issues tokens; user64_ names', async () => {
  const clock = new ManualClock();
  assert.is((await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'nope' }))).status, 401);
  assert.is((await run(clock, request('GET', '/auth/v1.0'))).status, 401);
  assert.is((await run(clock, request('POST', '/auth/v1.0'))).status, 405);
  const ext = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'ext:u', 'X-Auth-Key': 'k' }));
  assert.is(ext.headers['X-Storage-Url'], 'http://swift:8080/v1/AUTH_elsewhere');
  const ok = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' }));
  assert.is(ok.headers['X-Storage-Url'], 'http://swift:8080/v1/AUTH_test');
  assert.is(ok.headers['X-Auth-Token-Expires'], '3600');
  const b64 = await run(clock, request('GET', '/auth/v1.0', { 'X-Auth-User': 'under_score:a_b', 'X-Auth-Key': 'testing4' }));
  assert.is(b64.headers['X-Storage-Url'], 'http://swift:8080/v1/AUTH_under_score');
  const owner = await as(clock, 'under_score:a_b', 'testing4', '/v1/AUTH_under_score');
  assert.is(await owner({ method: 'GET', account: 'AUTH_under_score' }), 'owner');
});

test.run();
