import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../../common/config.ts';
import { HttpError } from '../../../../common/http/http-error.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { domainRemap, domainRemapSchema, remapHost } from '../../../../proxy/middleware/domain-remap.ts';
import type { Capabilities } from '../../../../proxy/middleware/info.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';

const defaults = defaultConfig({ d: domainRemapSchema }).d;
const DOMAINS = ['.example.com'];

test('account and container from the host, reseller prefix fixed up as Swift does', () => {
  const cases: [string, { account: string; container?: string } | undefined][] = [
    ['AUTH_test.example.com', { account: 'AUTH_test' }],
    ['auth_test.example.com:8080', { account: 'AUTH_test' }],
    ['auth-test.example.com', { account: 'AUTH_test' }],
    ['AUTH-test.example.com', { account: 'AUTH_test' }],
    ['photos.AUTH-test.example.com', { account: 'AUTH_test', container: 'photos' }],
    // Only the first dash is the prefix's underscore.
    ['auth-a-b.example.com', { account: 'AUTH_a-b' }],
    // An unknown prefix is left alone, unless there is a default.
    ['test.example.com', undefined],
    ['example.com', undefined],
    ['AUTH_test.example.org', undefined],
  ];
  for (const [host, expected] of cases) assert.equal(remapHost(host, DOMAINS, defaults), expected, host);
  assert.equal(remapHost('test.example.com', DOMAINS, { ...defaults, default_reseller_prefix: 'AUTH' }), { account: 'AUTH_test' });
  assert.equal(remapHost('test.example.com', DOMAINS, { ...defaults, reseller_prefixes: [] }), { account: 'test' });
});

test('more than two labels before the domain is a 400', () => {
  assert.throws(() => remapHost('a.b.AUTH_test.example.com', DOMAINS, defaults), (err: unknown) => err instanceof HttpError && err.status === 400 && err.body === 'Bad domain in host header');
});

function request(path: string, host: string): ProxyRequest {
  return { method: 'GET', path, query: new URLSearchParams(), headers: { host }, body: (async function* () {})(), remoteAddress: '127.0.0.1', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

test('the path gets the account and container; redirects are mapped back to the client\'s path', async () => {
  const capabilities: Capabilities = {};
  const seen: string[] = [];
  const handler = domainRemap(defaults, capabilities)(async (req) => {
    seen.push(req.path);
    return { status: 301, headers: { Location: `http://${req.headers['host']}${req.path}/`, 'Content-Location': 'http://elsewhere/v1/x' } };
  });
  const res = await handler(request('/dir', 'photos.AUTH-test.example.com:8080'));
  assert.equal(seen, ['/v1/AUTH_test/photos/dir']);
  assert.is(res.headers?.['Location'], 'http://photos.AUTH-test.example.com:8080/dir/');
  assert.is(res.headers?.['Content-Location'], 'http://elsewhere/v1/x');
  await handler(request('/v1/o', 'photos.AUTH_test.example.com'));
  assert.is(seen[1], '/v1/AUTH_test/photos/v1/o');
  await handler(request('/v1/AUTH_test/c', '127.0.0.1:8080'));
  assert.is(seen[2], '/v1/AUTH_test/c');
  assert.equal(capabilities['domain_remap'], { default_reseller_prefix: null });
});

test('mangle_client_paths drops a leading /v1 from remapped paths', async () => {
  const seen: string[] = [];
  const handler = domainRemap({ ...defaults, mangle_client_paths: true }, {})(async (req) => {
    seen.push(req.path);
    return { status: 200 };
  });
  await handler(request('/v1/o', 'c.AUTH_test.example.com'));
  await handler(request('/v1', 'AUTH_test.example.com'));
  assert.equal(seen, ['/v1/AUTH_test/c/o', '/v1/AUTH_test/']);
});

test.run();
