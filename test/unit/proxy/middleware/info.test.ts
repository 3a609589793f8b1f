import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { type Capabilities, info, type InfoOptions } from '../../../../proxy/middleware/info.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const capabilities: Capabilities = {
  swift: { version: '2.30.1', valid_api_versions: ['v1', 'v1.0'], max_file_size: 5 },
  tempauth: { account_acls: true },
};
const options: InfoOptions = { exposeInfo: true, adminKey: 'sekret', disallowedSections: ['swift.valid_api_versions', 'swift.auto_create_account_prefix'] };

function request(method: string, query = '', headers: Record<string, string> = {}): ProxyRequest {
  return { method, path: '/info', query: new URLSearchParams(query), headers, body: (async function* () {})(), remoteAddress: '127.0.0.1', signal: new AbortController().signal, env: { transId: 'tx', logger: nullLogger } };
}

async function call(clock: ManualClock, req: ProxyRequest, opts = options): Promise<{ status: number; headers: Record<string, unknown>; json?: Record<string, unknown> }> {
  try {
    const res = await info(capabilities, opts, clock)(async () => ({ status: 599 }))(req);
    const body = typeof res.body === 'string' && res.body !== '' ? (JSON.parse(res.body) as Record<string, unknown>) : undefined;
    return { status: res.status, headers: (res.headers ?? {}) as Record<string, unknown>, ...(body ? { json: body } : {}) };
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, headers: err.headers };
    throw err;
  }
}

const sign = (method: string, expires: number, key = 'sekret'): string => createHmac('sha1', key).update(`${method}\n${expires}\n/info`).digest('hex');

test('the public answer leaves out disallowed sections and has no admin section', async () => {
  const res = await call(new ManualClock(), request('GET'));
  assert.is(res.status, 200);
  assert.equal(res.json, { swift: { version: '2.30.1', max_file_size: 5 }, tempauth: { account_acls: true } });
  assert.equal(capabilities['swift']?.['valid_api_versions'], ['v1', 'v1.0'], 'the registry itself is untouched');
});

test('a valid signature adds the admin section; HEAD takes a GET or HEAD signature', async () => {
  const clock = new ManualClock();
  const expires = Math.floor(clock.now() / 1000) + 60;
  const res = await call(clock, request('GET', `swiftinfo_sig=${sign('GET', expires)}&swiftinfo_expires=${expires}`));
  assert.is(res.status, 200);
  assert.equal(res.json?.['admin'], { disallowed_sections: ['swift.valid_api_versions', 'swift.auto_create_account_prefix'] });
  assert.is((await call(clock, request('HEAD', `swiftinfo_sig=${sign('GET', expires)}&swiftinfo_expires=${expires}`))).status, 200);
  assert.is((await call(clock, request('HEAD', `swiftinfo_sig=${sign('HEAD', expires)}&swiftinfo_expires=${expires}`))).status, 200);
  assert.is((await call(clock, request('GET', `swiftinfo_sig=${sign('HEAD', expires)}&swiftinfo_expires=${expires}`))).status, 401, 'a HEAD signature does not sign a GET');
});

test('a bad, expired or half signature is 401 (realm unknown); any signature without an admin_key 403', async () => {
  const clock = new ManualClock();
  const expires = Math.floor(clock.now() / 1000) + 60;
  const bad = await call(clock, request('GET', `swiftinfo_sig=${sign('GET', expires, 'other')}&swiftinfo_expires=${expires}`));
  assert.is(bad.status, 401);
  assert.is(bad.headers['Www-Authenticate'], 'Swift realm="unknown"');
  assert.is((await call(clock, request('GET', `swiftinfo_expires=${expires}`))).status, 401);
  assert.is((await call(clock, request('GET', `swiftinfo_sig=${sign('GET', expires)}&swiftinfo_expires=soon`))).status, 401);
  const valid = `swiftinfo_sig=${sign('GET', expires)}&swiftinfo_expires=${expires}`;
  clock.advance(61_000);
  assert.is((await call(clock, request('GET', valid))).status, 401, 'expired');
  assert.is((await call(clock, request('GET', valid), { ...options, adminKey: '' })).status, 403);
});

test('OPTIONS, other methods, expose_info = false, CORS', async () => {
  const clock = new ManualClock();
  const options200 = await call(clock, request('OPTIONS'));
  assert.is(options200.status, 200);
  assert.is(options200.headers['Allow'], 'HEAD, GET, OPTIONS');
  assert.is((await call(clock, request('POST'))).status, 405);
  assert.is((await call(clock, request('GET'), { ...options, exposeInfo: false })).status, 403);
  const cors = await call(clock, request('GET', '', { origin: 'http://app.example' }));
  assert.is(cors.headers['Access-Control-Allow-Origin'], 'http://app.example');
  assert.is(cors.headers['Access-Control-Expose-Headers'], 'x-trans-id');
});

test.run();
