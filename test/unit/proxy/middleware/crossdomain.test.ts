import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../../../common/config.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { crossdomain, crossdomainSchema } from '../../../../proxy/middleware/crossdomain.ts';
import type { Capabilities } from '../../../../proxy/middleware/info.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';

function request(method: string, path: string): ProxyRequest {
  return { method, path, query: new URLSearchParams(), headers: {}, body: (async function* () {})(), remoteAddress: '127.0.0.1', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

test('GET /crossdomain.xml answers the policy document; the default allows every domain', async () => {
  const capabilities: Capabilities = {};
  const handler = crossdomain(defaultConfig({ c: crossdomainSchema }).c, capabilities)(async () => ({ status: 404 }));
  const res = await handler(request('GET', '/crossdomain.xml'));
  assert.is(res.status, 200);
  assert.equal(res.headers, { 'Content-Type': 'application/xml' });
  assert.is(
    res.body,
    '<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n<cross-domain-policy>\n<allow-access-from domain="*" secure="false" />\n</cross-domain-policy>',
  );
  assert.equal(capabilities['crossdomain'], {});
});

test('a configured policy of several lines is used as given; other requests pass', async () => {
  const policy = '<allow-access-from domain="*.example.com" />\n<allow-access-from domain="www.example.com" secure="false" />';
  const handler = crossdomain({ cross_domain_policy: policy }, {})(async () => ({ status: 204 }));
  assert.match(String((await handler(request('GET', '/crossdomain.xml'))).body), `<cross-domain-policy>\n${policy}\n</cross-domain-policy>`);
  assert.is((await handler(request('HEAD', '/crossdomain.xml'))).status, 204);
  assert.is((await handler(request('GET', '/v1/AUTH_test/crossdomain.xml'))).status, 204);
});

test.run();
