import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';

let c: TestCluster;
test.before(async () => {
  // As the all-in-one cluster: account PUT and DELETE reach auth (which refuses them) instead of a 405.
  c = await startCluster({ proxy: { allow_account_management: true } });
});
test.after(async () => {
  await c.close();
});

/** Every request a client makes on an account, its container and an object in it, creates first, deletes last. */
const SCENARIO: readonly [string, string][] = [
  ...['', '/c', '/c/o'].flatMap((p) => ['PUT', 'POST', 'HEAD', 'GET', 'OPTIONS'].map((m) => [m, p] as [string, string])),
  ...['/c/o', '/c', ''].map((p) => ['DELETE', p] as [string, string]),
];

async function run(headers: () => Promise<Record<string, string>>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [method, path] of SCENARIO) {
    const res = await c.request(method, `/v1/SERVICE_test${path}`, await headers(), method === 'PUT' && path === '/c/o' ? 'data' : undefined);
    out[`${method} ${path || '/'}`] = res.status;
  }
  return out;
}

test("a SERVICE_ account takes the account admin's token plus the service user's X-Service-Token", async () => {
  const statuses = await run(async () => ({ 'X-Auth-Token': await c.token('test:tester'), 'X-Service-Token': await c.token('test5:tester5') }));
  for (const [request, status] of Object.entries(statuses)) {
    // Tempauth lets no one but reseller admins PUT or DELETE an account.
    const expected = request === 'PUT /' || request === 'DELETE /' ? 403 : undefined;
    if (expected) assert.is(status, expected, request);
    else assert.ok(status >= 200 && status < 300, `${request}: ${status}`);
  }
});

test('the user alone, the service user alone, or the service token as both, are refused (OPTIONS aside)', async () => {
  const cases: (() => Promise<Record<string, string>>)[] = [
    async () => ({ 'X-Auth-Token': await c.token('test:tester') }),
    async () => ({ 'X-Auth-Token': await c.token('test5:tester5') }),
    async () => ({ 'X-Auth-Token': await c.token('test5:tester5'), 'X-Service-Token': await c.token('test5:tester5') }),
    async () => ({ 'X-Auth-Token': await c.token('test:tester'), 'X-Service-Token': 'AUTH_tkforged.sig' }),
  ];
  for (const headers of cases) {
    for (const [request, status] of Object.entries(await run(headers))) {
      if (request.startsWith('OPTIONS')) assert.is(status, 200, request);
      else assert.is(status, 403, request);
    }
  }
});

test('the service token adds nothing to an AUTH_ account it is not needed for', async () => {
  const headers = { 'X-Auth-Token': await c.token('test:tester'), 'X-Service-Token': await c.token('test5:tester5') };
  assert.is((await c.request('HEAD', '/v1/AUTH_test', headers)).status, 204);
  assert.is((await c.request('HEAD', '/v1/AUTH_test2', headers)).status, 403);
});

test.run();
