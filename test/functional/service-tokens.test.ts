import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../common/clock.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { createLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { TokenRefusedError } from '../../common/token/token-validator.ts';
import { ServiceTokens } from '../../client/service-tokens.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { UnexpectedStatusError } from '../../client/errors.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { IDENTITY_ACCOUNT_USERS, startIdentity, type TestIdentity } from '../helpers/identity.ts';

/**
 * A service other than identity (here as the image service's account `.image`) accepts
 * Keystone tokens on its own: the shared key repository, and revocation events read from
 * identity's account through the read ACL identity grants the services' accounts.
 */
let cluster: TestCluster;
let id: TestIdentity;
const http = new UndiciBackendClient();
const logger = createLogger({ level: 'error', sink: () => {} });
test.before(async () => {
  cluster = await startCluster({ users: { ...IDENTITY_ACCOUNT_USERS, 'user_.image_glance': 'image-key .admin', 'user_.other_svc': 'other-key .admin' } });
  id = await startIdentity({ cluster });
});
test.after(async () => {
  await id.close();
  await cluster.close();
  await http.close();
});

function serviceTokens(user: string, key: string): ServiceTokens {
  const client = new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user, key }, { http, clock: systemClock });
  return new ServiceTokens({ keys: new FernetKeyRepository(id.keyRepository, systemClock), client, clock: systemClock, logger }, { pollIntervalMs: 60_000, maxTokenLifeMs: 3_600_000 });
}

test('a token revoked at identity is refused by the image service after its next poll', async () => {
  const image = serviceTokens('.image:glance', 'image-key');
  await image.poll();
  const demo = await id.token({ user: 'demo' });
  const ctx = image.context({ 'x-auth-token': demo });
  assert.is(ctx?.isAdmin, false);
  assert.ok(ctx?.projectId);
  assert.ok(ctx?.roles.includes('member'));
  assert.is(image.context({ 'x-auth-token': await id.token() })?.isAdmin, true);
  assert.is((await id.request('DELETE', '/v3/auth/tokens', { token: demo, headers: { 'X-Subject-Token': demo } })).status, 204);
  assert.is(image.context({ 'x-auth-token': demo })?.userId, ctx?.userId, 'not seen before the poll');
  await image.poll();
  try {
    image.context({ 'x-auth-token': demo });
    assert.unreachable('a revoked token was accepted');
  } catch (err) {
    assert.instance(err, TokenRefusedError);
    assert.is((err as TokenRefusedError).reason, 'revoked');
  }
});

test('an account identity did not name cannot read the events', async () => {
  const other = serviceTokens('.other:svc', 'other-key');
  try {
    await other.poll();
    assert.unreachable('read without the ACL');
  } catch (err) {
    assert.instance(err, UnexpectedStatusError);
    assert.match((err as Error).message, /403/);
  }
});

test('the read ACL lets the image account read the events and write nothing there', async () => {
  const image = await cluster.token('.image:glance', 'image-key');
  assert.is((await cluster.request('GET', '/v1/AUTH_.identity/revoke-events', { 'X-Auth-Token': image })).status, 200);
  assert.is((await cluster.request('PUT', '/v1/AUTH_.identity/revoke-events/forged', { 'X-Auth-Token': image, 'Content-Type': 'application/json' }, '{"issued_before":"2099-01-01T00:00:00Z","revoked_at":"x"}')).status, 403);
  assert.is((await cluster.request('GET', '/v1/AUTH_.identity/users', { 'X-Auth-Token': image })).status, 403);
});

test.run();
