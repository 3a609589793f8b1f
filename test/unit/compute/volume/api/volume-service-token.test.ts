import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../../../common/clock.ts';
import { startVolumeApi, type TestVolumeApi } from '../../../../helpers/volume-api.ts';

let api: TestVolumeApi;
test.before(async () => {
  api = await startVolumeApi();
});
test.after(async () => {
  await api.close();
});

/** A user's token that expired a minute ago: inside Keystone's allow-expired window. */
const expiredUserToken = (): string => api.token('u1', 'p1', false, { expiresAt: Math.floor(systemClock.now() / 1000) * 1000 - 60_000 });
const list = (headers: Record<string, string>, token: string) => api.request('GET', '/v3/p1/volumes', token, undefined, headers);

test('a user token that expired is refused alone (keystonemiddleware 401)', async () => {
  const res = await list({}, expiredUserToken());
  assert.is(res.status, 401);
  assert.is(res.json.error.code, 401);
});

test("an expired user token is accepted beside a service's X-Service-Token (Nova's queued work on a user's behalf)", async () => {
  const service = api.token('nova', 'service-project', true, { roleNames: ['admin', 'service'] });
  const res = await list({ 'X-Service-Token': service }, expiredUserToken());
  assert.is(res.status, 200);
  assert.equal(res.json.volumes, []);
});

test('a service token without the service role, or not a token at all, allows nothing more', async () => {
  const notService = api.token('someone', 'p2', true);
  assert.is((await list({ 'X-Service-Token': notService }, expiredUserToken())).status, 401);
  assert.is((await list({ 'X-Service-Token': 'gAAAAAforged' }, expiredUserToken())).status, 401);
});

test.run();
