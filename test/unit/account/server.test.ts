import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accountServerSchema } from '../../../account/config.ts';
import { AccountServer } from '../../../account/server.ts';
import { defaultConfig } from '../../../common/config.ts';
import { HashPath } from '../../../common/hash-path.ts';
import { listen } from '../../../common/http/server.ts';
import { createLogger } from '../../../common/logger.ts';
import { storageSchema } from '../../../common/storage-config.ts';
import { httpRequest, type TestResponse } from '../../helpers/http.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const hashPath = new HashPath('', 'test-suffix');
const defaults = defaultConfig({ storage: storageSchema, 'account-server': accountServerSchema });
const T = (s: number): string => (1_700_000_000 + s).toFixed(5);
const ZERO = '0000000000.00000';

interface Node {
  readonly clock: ManualClock;
  req(method: string, path: string, headers?: Record<string, string>): Promise<TestResponse>;
}

async function withServer(fn: (node: Node) => Promise<void>): Promise<void> {
  const dir = await makeTempDir('swiftlet-account-server-');
  await mkdir(join(dir.path, 'sda1'));
  const logger = createLogger({ sink: () => {} });
  const clock = new ManualClock(1_700_000_000_000);
  const server = new AccountServer(
    { storage: { ...defaults.storage, devices: dir.path }, accountServer: defaults['account-server'] },
    { clock, logger, hashPath, policies: new Map([[0, 'Policy-0'], [1, 'gold']]) },
  );
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
  try {
    await fn({ clock, req: (method, path, headers = {}) => httpRequest(http.port, method, path, headers) });
  } finally {
    await http.close();
    await server.close();
    await dir.remove();
  }
}

function report(n: Node, container: string, put: string, del: string, objects: number, bytes: number, extra: Record<string, string> = {}): Promise<TestResponse> {
  return n.req('PUT', `/sda1/3/AUTH_a/${container}`, { 'X-Put-Timestamp': put, 'X-Delete-Timestamp': del, 'X-Object-Count': String(objects), 'X-Bytes-Used': String(bytes), ...extra });
}

test('PUT creates an account (201), again accepts it (202); HEAD shows its totals', async () => {
  await withServer(async (n) => {
    assert.is((await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1), 'X-Account-Meta-Color': 'blue' })).status, 201);
    n.clock.advance(5000);
    const again = await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(2) });
    assert.is(again.status, 202);
    const head = await n.req('HEAD', '/sda1/3/AUTH_a');
    assert.is(head.status, 204);
    assert.is(head.headers['x-account-container-count'], '0');
    assert.is(head.headers['x-account-object-count'], '0');
    assert.is(head.headers['x-account-bytes-used'], '0');
    assert.is(head.headers['x-timestamp'], '1700000000.00000');
    assert.is(head.headers['x-put-timestamp'], T(2));
    assert.is(head.headers['x-account-meta-color'], 'blue');
    assert.is(head.headers['content-type'], 'text/plain; charset=utf-8');
  });
});

test('HEAD, GET and POST of a missing account are 404', async () => {
  await withServer(async (n) => {
    assert.is((await n.req('HEAD', '/sda1/3/AUTH_none')).status, 404);
    assert.is((await n.req('GET', '/sda1/3/AUTH_none')).status, 404);
    assert.is((await n.req('POST', '/sda1/3/AUTH_none', { 'X-Timestamp': T(1) })).status, 404);
  });
});

test('container reports: 201 for a live container, 204 for a deleted one; totals and per-policy headers', async () => {
  await withServer(async (n) => {
    await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1) });
    assert.is((await report(n, 'c1', T(2), ZERO, 3, 30)).status, 201);
    assert.is((await report(n, 'c2', T(2), ZERO, 2, 20, { 'X-Backend-Storage-Policy-Index': '1' })).status, 201);
    assert.is((await report(n, 'c3', T(2), ZERO, 1, 1, { 'X-Backend-Storage-Policy-Index': '9' })).status, 201);
    assert.is((await report(n, 'c3', T(2), T(3), 0, 0, { 'X-Backend-Storage-Policy-Index': '9' })).status, 204);
    const head = await n.req('HEAD', '/sda1/3/AUTH_a');
    assert.is(head.headers['x-account-container-count'], '2');
    assert.is(head.headers['x-account-object-count'], '5');
    assert.is(head.headers['x-account-bytes-used'], '50');
    assert.is(head.headers['x-account-storage-policy-policy-0-container-count'], '1');
    assert.is(head.headers['x-account-storage-policy-policy-0-object-count'], '3');
    assert.is(head.headers['x-account-storage-policy-policy-0-bytes-used'], '30');
    assert.is(head.headers['x-account-storage-policy-gold-container-count'], '1');
    assert.is(head.headers['x-account-storage-policy-gold-bytes-used'], '20');
    assert.ok(!Object.keys(head.headers).some((h) => h.includes('policy-9')), 'an unknown policy gets no headers');
  });
});

test('a report for a missing account is 404; for a system account it creates the account', async () => {
  await withServer(async (n) => {
    assert.is((await report(n, 'c', T(1), ZERO, 0, 0)).status, 404);
    const sys = await n.req('PUT', '/sda1/3/.expiring_objects/c', { 'X-Put-Timestamp': T(1), 'X-Delete-Timestamp': ZERO, 'X-Object-Count': '0', 'X-Bytes-Used': '0' });
    assert.is(sys.status, 201);
    assert.is((await n.req('HEAD', '/sda1/3/.expiring_objects')).headers['x-account-container-count'], '1');
  });
});

test('GET lists containers in every format exactly as Swift does', async () => {
  await withServer(async (n) => {
    await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1) });
    await report(n, 'a-1', T(2), ZERO, 3, 30);
    await report(n, encodeURIComponent('a-caf\u00e9'), T(3), ZERO, 1, 7);
    await report(n, 'b', T(4), ZERO, 0, 0);
    const json = await n.req('GET', '/sda1/3/AUTH_a?format=json');
    assert.is(json.headers['content-type'], 'application/json; charset=utf-8');
    assert.is(json.headers['x-account-container-count'], '3');
    assert.is(
      json.body.toString(),
      '[{"name": "a-1", "count": 3, "bytes": 30, "last_modified": "2023-11-14T22:13:22.000000"}, {"name": "a-caf\\u00e9", "count": 1, "bytes": 7, "last_modified": "2023-11-14T22:13:23.000000"}, {"name": "b", "count": 0, "bytes": 0, "last_modified": "2023-11-14T22:13:24.000000"}]',
    );
    const xml = await n.req('GET', '/sda1/3/AUTH_a?delimiter=-', { Accept: 'application/xml' });
    assert.is(xml.body.toString(), '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_a">\n<subdir name="a-" />\n<container><name>b</name><count>0</count><bytes>0</bytes><last_modified>2023-11-14T22:13:24.000000</last_modified></container>\n</account>');
    const plain = await n.req('GET', '/sda1/3/AUTH_a');
    assert.is(plain.headers['content-type'], 'text/plain; charset=utf-8');
    assert.is(plain.body.toString(), 'a-1\na-caf\u00e9\nb\n');
  });
});

test('GET listing parameters, and an empty listing: 204 plain, [] JSON, XML document', async () => {
  await withServer(async (n) => {
    await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1) });
    assert.is((await n.req('GET', '/sda1/3/AUTH_a')).status, 204);
    assert.is((await n.req('GET', '/sda1/3/AUTH_a?format=json')).body.toString(), '[]');
    assert.is((await n.req('GET', '/sda1/3/AUTH_a?format=xml')).body.toString(), '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_a">\n</account>');
    for (const [i, c] of ['a', 'b', 'c', 'd'].entries()) await report(n, c, T(2 + i), ZERO, 0, 0);
    const list = async (q: string): Promise<string> => (await n.req('GET', `/sda1/3/AUTH_a?${q}`)).body.toString();
    assert.is(await list('limit=2'), 'a\nb\n');
    assert.is(await list('marker=a&end_marker=d'), 'b\nc\n');
    assert.is(await list('reverse=true&limit=3'), 'd\nc\nb\n');
    assert.is(await list('prefix=c'), 'c\n');
    const over = await n.req('GET', '/sda1/3/AUTH_a?limit=10001');
    assert.is(over.status, 412);
    assert.is(over.body.toString(), 'Maximum limit is 10000');
    assert.is((await n.req('GET', '/sda1/3/AUTH_a?delimiter=--')).status, 200, 'any delimiter, as Swift 2.30');
  });
});

test('POST changes metadata (an empty value removes); limits are checked on the whole account', async () => {
  await withServer(async (n) => {
    await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1), 'X-Account-Meta-A': '1', 'X-Account-Meta-B': '2' });
    assert.is((await n.req('POST', '/sda1/3/AUTH_a', { 'X-Timestamp': T(2), 'X-Account-Meta-A': '', 'X-Account-Meta-Temp-Url-Key': 'k', 'X-Account-Sysmeta-S': 's' })).status, 204);
    const head = await n.req('HEAD', '/sda1/3/AUTH_a');
    assert.is(head.headers['x-account-meta-a'], undefined);
    assert.is(head.headers['x-account-meta-b'], '2');
    assert.is(head.headers['x-account-meta-temp-url-key'], 'k');
    assert.is(head.headers['x-account-sysmeta-s'], 's');
    assert.is(head.headers['x-put-timestamp'], T(1), 'an account POST leaves the put timestamp');
    const big: Record<string, string> = {};
    for (let i = 0; i < 17; i++) big[`X-Account-Meta-K${i}`] = 'v'.repeat(250);
    const refused = await n.req('POST', '/sda1/3/AUTH_a', { 'X-Timestamp': T(3), ...big });
    assert.is(refused.status, 400);
    assert.is(refused.body.toString(), 'Total metadata too large; max 4096');
    assert.is((await n.req('HEAD', '/sda1/3/AUTH_a')).headers['x-account-meta-k0'], undefined);
  });
});

test('DELETE marks the account deleted: 204, then 404 with X-Account-Status, and PUT is 403 "Recently deleted"', async () => {
  await withServer(async (n) => {
    assert.is((await n.req('DELETE', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1) })).status, 404);
    await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1) });
    await report(n, 'c', T(2), ZERO, 1, 1);
    const del = await n.req('DELETE', '/sda1/3/AUTH_a', { 'X-Timestamp': T(3) });
    assert.is(del.status, 204);
    assert.is(del.headers['x-account-status'], 'Deleted');
    const head = await n.req('HEAD', '/sda1/3/AUTH_a');
    assert.is(head.status, 404);
    assert.is(head.headers['x-account-status'], 'Deleted');
    assert.is((await report(n, 'c2', T(4), ZERO, 0, 0)).status, 404, 'no more container reports');
    assert.is((await report(n, 'c2', T(4), ZERO, 0, 0, { 'X-Account-Override-Deleted': 'yes' })).status, 201, 'unless overridden');
    const put = await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(5) });
    assert.is(put.status, 403);
    assert.is(put.body.toString(), 'Recently deleted');
    assert.is((await n.req('DELETE', '/sda1/3/AUTH_a', { 'X-Timestamp': T(6) })).status, 404);
  });
});

test('bad requests are refused and store nothing', async () => {
  await withServer(async (n) => {
    const cases: [string, string, Record<string, string>, number, string?][] = [
      ['PUT', '/sda1/3/AUTH_a', {}, 400, 'Missing X-Timestamp header'],
      ['PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': '-1' }, 400, 'Invalid X-Timestamp header'],
      ['PUT', `/sda1/3/${'a'.repeat(257)}`, { 'X-Timestamp': T(1) }, 400],
      ['PUT', '/sda1/3/AUTH_%FF', { 'X-Timestamp': T(1) }, 412, 'Invalid UTF8 or contains NULL'],
      ['PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1), 'X-Account-Meta-X': 'v'.repeat(257) }, 400],
      ['PUT', '/sda1/3/AUTH_a/c/o', { 'X-Timestamp': T(1) }, 400, 'Invalid path: /sda1/3/AUTH_a/c/o'],
      ['PUT', '/sda1/3', { 'X-Timestamp': T(1) }, 400],
      ['PUT', '/sdz9/3/AUTH_a', { 'X-Timestamp': T(1) }, 507],
      ['COPY', '/sda1/3/AUTH_a', {}, 405],
    ];
    for (const [method, path, headers, status, body] of cases) {
      const res = await n.req(method, path, headers);
      assert.is(res.status, status, `${method} ${path}`);
      if (body !== undefined) assert.is(res.body.toString(), body);
    }
    assert.is((await n.req('HEAD', '/sda1/3/AUTH_a')).status, 404);
    await n.req('PUT', '/sda1/3/AUTH_a', { 'X-Timestamp': T(1) });
    const missing = await n.req('PUT', '/sda1/3/AUTH_a/c', { 'X-Put-Timestamp': T(2), 'X-Delete-Timestamp': ZERO, 'X-Object-Count': '1' });
    assert.is(missing.status, 400);
    assert.is(missing.body.toString(), 'Missing X-Bytes-Used header');
    assert.is((await report(n, 'c', 'later', ZERO, 0, 0)).status, 400);
    assert.is((await n.req('HEAD', '/sda1/3/AUTH_a')).headers['x-account-container-count'], '0');
  });
});

test.run();
