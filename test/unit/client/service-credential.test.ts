import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../common/clock.ts';
import { UndiciBackendClient } from '../../../common/http/backend-client.ts';
import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { AuthFailedError } from '../../../client/errors.ts';
import { ServiceCredential } from '../../../client/service-credential.ts';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { rejects } from '../../helpers/rejects.ts';

const NOVA = { user: 'nova', password: 'nova-secret' };

let identity: TestIdentity;
const http = new UndiciBackendClient();
test.before(async () => {
  identity = await startIdentity({ serviceUsers: [NOVA] });
});
test.after(async () => {
  await identity.close();
  await http.close();
});

function credential(clock = new ManualClock(systemClock.now()), password = NOVA.password): ServiceCredential {
  return new ServiceCredential({ identityUrl: `${identity.url}/v3`, user: 'nova', password, project: 'service', domain: 'Default' }, { http, clock });
}

test('bootstrap makes the service user: its token is scoped to project service with the admin and service roles', async () => {
  const token = await credential().token();
  const admin = await identity.token();
  const shown = await identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } });
  assert.is(shown.status, 200);
  assert.is(shown.json.token.user.name, 'nova');
  assert.is(shown.json.token.project.name, 'service');
  assert.equal(shown.json.token.roles.map((r: { name: string }) => r.name).sort(), ['admin', 'member', 'reader', 'service']);
});

test('one token is shared until it nears expires_at; then a new one is fetched', async () => {
  const clock = new ManualClock(systemClock.now());
  const c = credential(clock);
  const [a, b] = await Promise.all([c.token(), c.token()]);
  assert.is(a, b);
  clock.advance(3_600_000 - 120_000);
  assert.is(await c.token(), a);
  clock.advance(61_000);
  assert.is.not(await c.token(), a);
});

test('invalidate (a 401 from a service) makes the next call authenticate again', async () => {
  const c = credential();
  const first = await c.token();
  await c.invalidate('some-other-token');
  assert.is(await c.token(), first);
  await c.invalidate(first);
  assert.is.not(await c.token(), first);
});

test('a wrong password is AuthFailedError with identity\'s 401, and is not cached', async () => {
  const c = credential(undefined, 'wrong');
  const err = (await rejects(c.token(), AuthFailedError)) as AuthFailedError;
  assert.is(err.status, 401);
  await rejects(c.token(), AuthFailedError);
});

test('a cluster bootstrapped before service users gets them on its next start; a changed password is kept', async () => {
  const records = new MemoryRecordStore();
  const first = await startIdentity({ records });
  await first.close();
  const second = await startIdentity({ records, serviceUsers: [NOVA] });
  try {
    const token = await second.token({ user: 'nova', password: NOVA.password, scope: { project: { name: 'service', domain: { name: 'Default' } } } });
    const admin = await second.token();
    const nova = (await second.request('GET', '/v3/users?name=nova', { token: admin })).json.users[0];
    assert.is((await second.request('PATCH', `/v3/users/${nova.id}`, { token: admin, body: { user: { password: 'changed' } } })).status, 200);
    assert.ok(token.length > 0);
  } finally {
    await second.close();
  }
  const third = await startIdentity({ records, serviceUsers: [NOVA] });
  try {
    await rejects(third.token({ user: 'nova', password: NOVA.password, scope: { project: { name: 'service', domain: { name: 'Default' } } } }));
    assert.ok((await third.token({ user: 'nova', password: 'changed', scope: { project: { name: 'service', domain: { name: 'Default' } } } })).length > 0);
  } finally {
    await third.close();
  }
});

test.run();
