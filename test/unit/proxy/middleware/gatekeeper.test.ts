import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import { createLogger } from '../../../../common/logger.ts';
import { gatekeeper } from '../../../../proxy/middleware/gatekeeper.ts';
import type { ProxyRequest } from '../../../../proxy/request.ts';

const logger = createLogger({ level: 'error' });

function request(headers: Record<string, string>, source?: string): ProxyRequest {
  return {
    method: 'PUT',
    path: '/v1/AUTH_test/c/o',
    query: new URLSearchParams(),
    headers,
    body: (async function* () {})(),
    remoteAddress: '127.0.0.1',
    signal: new AbortController().signal,
    env: { transId: 'tx', logger, ...(source !== undefined ? { source } : {}) },
  };
}

/** What the handler after the gatekeeper was given, and the client's view of its answer. */
async function through(shunt: boolean, req: ProxyRequest): Promise<{ seen: Record<string, string | undefined>; shown: Record<string, unknown> }> {
  let seen: Record<string, string | undefined> = {};
  const handler = gatekeeper({ shunt_inbound_x_timestamp: shunt })(async (r) => {
    seen = { ...r.headers };
    return { status: 201, headers: { 'X-Backend-Timestamp': '1.00000', 'X-Object-Sysmeta-Slo-Etag': 'e', Etag: 'x' } };
  });
  const res = await handler(req);
  return { seen, shown: { ...res.headers } };
}

test("a client's X-Timestamp is set aside (Swift's shunt_inbound_x_timestamp, on by default), so its writes get the proxy's time; off, it reaches the controllers", async () => {
  const on = await through(true, request({ 'x-timestamp': '99999999999.9999999999' }));
  assert.is(on.seen['x-timestamp'], undefined);
  assert.is(on.seen['x-backend-inbound-x-timestamp'], '99999999999.9999999999');
  const off = await through(false, request({ 'x-timestamp': '1700000000.00000' }));
  assert.is(off.seen['x-timestamp'], '1700000000.00000');
});

test('backend and system-metadata headers are kept out in both directions for clients; subrequests keep theirs', async () => {
  const client = await through(true, request({ 'x-backend-storage-policy-index': '1', 'x-object-sysmeta-a': 'forged', 'x-object-meta-b': 'ok' }));
  assert.is(client.seen['x-backend-storage-policy-index'], undefined);
  assert.is(client.seen['x-object-sysmeta-a'], undefined);
  assert.is(client.seen['x-object-meta-b'], 'ok');
  assert.equal(client.shown, { Etag: 'x' });
  const sub = await through(true, request({ 'x-object-sysmeta-a': 'mine', 'x-timestamp': '1700000000.00000' }, 'SLO'));
  assert.is(sub.seen['x-object-sysmeta-a'], 'mine');
  assert.is(sub.seen['x-timestamp'], '1700000000.00000');
  assert.is(sub.shown['X-Backend-Timestamp'], '1.00000');
});

test('a client may not send backend or sysmeta headers, reserved names\' included', async () => {
  let seen: Record<string, string | undefined> = {};
  const handler = gatekeeper({ shunt_inbound_x_timestamp: true })(async (req) => {
    seen = { ...req.headers };
    return { status: 204 };
  });
  await handler(request({ 'x-backend-allow-reserved-names': 'true', 'x-object-sysmeta-symlink-target': 'c/o', 'x-object-meta-ok': '1' }));
  assert.equal(seen, { 'x-object-meta-ok': '1' });
  await handler(request({ 'x-backend-allow-reserved-names': 'true' }, 'OV'));
  assert.equal(seen, { 'x-backend-allow-reserved-names': 'true' }, 'a subrequest keeps them');
});

test('internal names in any case are kept from the client both ways; names that only look like them pass', async () => {
  const internalNames = ['X-Backend-Timestamp', 'x-backend-', 'X-ACCOUNT-SYSMETA-Quota', 'x-container-sysmeta-a', 'X-Object-Transient-Sysmeta-Crypto'];
  const lookalikes = ['x-backend', 'x-backendx', 'X-Object-Meta-Backend-', 'x-accountsysmeta-a', 'x-object-transient-sysmetax', 'x-sysmeta-a', 'xx-backend-a', 'X-Trans-Id', 'Etag'];
  let seen: Record<string, string | undefined> = {};
  const handler = gatekeeper({ shunt_inbound_x_timestamp: true })(async (req) => {
    seen = { ...req.headers };
    return { status: 200, headers: Object.fromEntries([...internalNames, ...lookalikes].map((n) => [n, 'v'])) };
  });
  const res = await handler(request(Object.fromEntries([...internalNames, ...lookalikes].map((n) => [n.toLowerCase(), 'v']))));
  assert.equal(Object.keys(seen), lookalikes.map((n) => n.toLowerCase()));
  assert.equal(Object.keys(res.headers ?? {}), lookalikes);
});

test('an error thrown further in loses its internal headers too (a symlink\'s 307 showed the link\'s sysmeta)', async () => {
  const handler = gatekeeper({ shunt_inbound_x_timestamp: true })(async () => {
    throw new HttpError(307, 'moved', { Location: '/v1/a/c/t', 'X-Object-Sysmeta-Symlink-Target': 'c/t', 'X-Backend-Timestamp': '1' });
  });
  const response = await handler(request({}));
  assert.is(response.status, 307);
  assert.is(response.body, 'moved');
  assert.equal(Object.keys(response.headers ?? {}).map((h) => h.toLowerCase()).sort(), ['content-type', 'location']);
});

test.run();
