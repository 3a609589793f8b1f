import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthFailedError, UnexpectedStatusError } from '../../../client/errors.ts';
import { objectPath, SwiftClient } from '../../../client/swift-client.ts';
import { fakeBackend, type FakeBehaviour } from '../../helpers/fake-backend.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { rejects } from '../../helpers/rejects.ts';
import type { BackendRequest } from '../../../common/http/backend-client.ts';

const options = { authUrl: 'http://10.1.1.1:8080/auth/v1.0', user: '.svc:me', key: 'k' };

/** A proxy that issues tokens tok1, tok2, ... valid for `life` seconds, and accepts only the newest. */
function proxy(life = 3600, route: (req: BackendRequest) => FakeBehaviour | undefined = () => undefined) {
  let issued = 0;
  const backend = fakeBackend((_node, req) => {
    if (req.path === '/auth/v1.0') {
      if (req.headers?.['x-auth-key'] !== 'k') return { status: 401 };
      issued++;
      return { status: 200, headers: { 'x-auth-token': `tok${issued}`, 'x-storage-url': 'http://10.1.1.2:8081/v1/AUTH_.svc', 'x-auth-token-expires': String(life) } };
    }
    if (req.headers?.['x-auth-token'] !== `tok${issued}`) return { status: 401 };
    return route(req) ?? { status: 204 };
  });
  return { backend, issued: () => issued };
}

test('one auth serves every request, concurrent ones included, at the storage URL it gave', async () => {
  const p = proxy();
  const client = new SwiftClient(options, { http: p.backend, clock: new ManualClock() });
  const results = await Promise.all([1, 2, 3].map(() => client.request({ method: 'HEAD', container: 'c' })));
  assert.equal(results.map((r) => r.status), [204, 204, 204]);
  assert.is(p.issued(), 1);
  const sent = p.backend.requests.filter((r) => r.method === 'HEAD');
  assert.ok(sent.every((r) => r.node === '10.1.1.2:8081' && r.path === '/v1/AUTH_.svc/c'));
});

test('a 401 fetches a new token and sends the request once more', async () => {
  let expired = true;
  const p = proxy(3600, () => {
    if (!expired) return undefined;
    expired = false;
    return { status: 401 };
  });
  const client = new SwiftClient(options, { http: p.backend, clock: new ManualClock() });
  const res = await client.request({ method: 'PUT', container: 'c', object: 'o', body: 'data' });
  assert.is(res.status, 204);
  assert.is(p.issued(), 2);
  const puts = p.backend.requests.filter((r) => r.method === 'PUT');
  assert.equal(puts.map((r) => r.body.toString()), ['data', 'data']);
});

test('a stream body is not sent twice: the 401 is the answer', async () => {
  const p = proxy(3600, () => ({ status: 401 }));
  const client = new SwiftClient(options, { http: p.backend, clock: new ManualClock() });
  const res = await client.request({ method: 'PUT', container: 'c', object: 'o', body: Readable.from([Buffer.from('x')]) });
  assert.is(res.status, 401);
  assert.is(p.backend.requests.filter((r) => r.method === 'PUT').length, 1);
});

test('a token is fetched again before it expires', async () => {
  const clock = new ManualClock();
  const p = proxy(600);
  const client = new SwiftClient(options, { http: p.backend, clock });
  await client.request({ method: 'HEAD' });
  clock.advance(560_000); // 40 s left: inside the one-minute refresh margin
  await client.request({ method: 'HEAD' });
  assert.is(p.issued(), 2);
});

test('refused credentials are an AuthFailedError, and the next request tries again', async () => {
  const p = proxy();
  const client = new SwiftClient({ ...options, key: 'wrong' }, { http: p.backend, clock: new ManualClock() });
  await rejects(client.request({ method: 'HEAD' }), AuthFailedError);
  await rejects(client.request({ method: 'HEAD' }), AuthFailedError);
  assert.is(p.backend.requests.filter((r) => r.path === '/auth/v1.0').length, 2);
});

test('listAll pages with the last name as marker; a missing container lists nothing', async () => {
  const names = Array.from({ length: 3 }, (_, i) => `o${i}`);
  const p = proxy(3600, (req) => {
    if (req.path.endsWith('/missing')) return { status: 404 };
    const q = new URLSearchParams(req.query ?? '');
    const marker = q.get('marker') ?? '';
    const rows = names.filter((n) => n > marker).slice(0, 2).map((name) => ({ name, hash: 'h', bytes: 1, content_type: 'x', last_modified: 'y' }));
    return { status: 200, body: JSON.stringify(rows) };
  });
  const client = new SwiftClient(options, { http: p.backend, clock: new ManualClock() });
  assert.equal((await client.listContainer('c', { limit: 2 }))?.map((r) => r.name), ['o0', 'o1']);
  assert.is(await client.listContainer('missing'), undefined);
  await rejects(client.putContainer('c'), UnexpectedStatusError);
});

test('with `account`, requests go to that account under the same storage URL (a reseller admin on its users)', async () => {
  const p = proxy();
  const client = new SwiftClient({ ...options, account: 'AUTH_p1' }, { http: p.backend, clock: new ManualClock() });
  assert.is((await client.request({ method: 'PUT', container: 'volumebackups', object: 'a/b' })).status, 204);
  assert.ok(p.backend.requests.some((r) => r.method === 'PUT' && r.node === '10.1.1.2:8081' && r.path === '/v1/AUTH_p1/volumebackups/a/b'));
});

test('object paths are percent-encoded, slashes in object names kept', () => {
  assert.is(objectPath('my container', 'a/b c?'), '/my%20container/a/b%20c%3F');
  assert.is(objectPath('c'), '/c');
  assert.is(objectPath(), '');
});

test.run();
