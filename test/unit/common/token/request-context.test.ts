import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { authenticate, contextFromToken, hasRole, validateUserToken } from '../../../../common/token/request-context.ts';
import type { TokenPayload } from '../../../../common/token/token-payload.ts';
import { ALLOW_EXPIRED_WINDOW_MS, TokenRefusedError, TokenValidator } from '../../../../common/token/token-validator.ts';
import { RevocationList } from '../../../../common/token/revocation.ts';
import { decodeFernetKey, fernetEncrypt, generateFernetKey } from '../../../../common/token/fernet.ts';
import { encodeTokenPayload } from '../../../../common/token/token-payload.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const project = (roles: string[]): TokenPayload => ({
  userId: 'u1',
  userDomainId: 'default',
  methods: ['password'],
  scope: { kind: 'project', projectId: 'p1', domainId: 'default' },
  expiresAt: 2_000_000_000_000,
  auditIds: ['YWJjZGVmZ2hpamtsbW5vcA'],
  roles: roles.map((name, i) => ({ id: `r${i}`, name })),
});

test('a project token: user, project and domains, role names; admin only with the admin role', () => {
  const member = contextFromToken(project(['member', 'reader']), 'tok');
  assert.is(member.userId, 'u1');
  assert.is(member.projectId, 'p1');
  assert.is(member.projectDomainId, 'default');
  assert.equal(member.roles, ['member', 'reader']);
  assert.is(member.isAdmin, false);
  assert.is(member.systemScope, false);
  assert.is(member.authToken, 'tok');
  assert.is(contextFromToken(project(['admin', 'member']), 'tok').isAdmin, true);
});

test('role names compare without case, as oslo.policy\'s role check does', () => {
  const ctx = contextFromToken(project(['Admin']), 't');
  assert.is(ctx.isAdmin, true);
  assert.ok(hasRole(ctx, 'ADMIN'));
});

test('domain and system tokens have no project', () => {
  const domain = contextFromToken({ ...project(['admin']), scope: { kind: 'domain', domainId: 'd1' } }, 't');
  assert.is(domain.projectId, undefined);
  assert.is(domain.domainId, 'd1');
  const system = contextFromToken({ ...project(['reader']), scope: { kind: 'system' } }, 't');
  assert.is(system.systemScope, true);
  assert.is(system.projectId, undefined);
});

test('authenticate: no token is undefined; a valid one its context; a bad or revoked one refused', () => {
  const clock = new ManualClock(1_900_000_000_000);
  const keyText = generateFernetKey();
  const keys = { keys: [decodeFernetKey(keyText)] };
  const list = new RevocationList();
  const validator = new TokenValidator(keys, list, clock);
  const token = fernetEncrypt(keys.keys[0] as Buffer, encodeTokenPayload(project(['member'])), 1_899_999_000);
  assert.is(authenticate(validator, {}), undefined);
  assert.is(authenticate(validator, { 'x-auth-token': '' }), undefined);
  assert.is(authenticate(validator, { 'x-auth-token': token })?.projectId, 'p1');
  try {
    authenticate(validator, { 'x-auth-token': 'gAAAAAnot-a-token' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TokenRefusedError);
  }
  list.add('k', { user_id: 'u1', issued_before: new Date(1_899_999_500_000).toISOString(), revoked_at: new Date(1_899_999_500_000).toISOString() });
  try {
    authenticate(validator, { 'x-auth-token': token });
    assert.unreachable();
  } catch (err) {
    assert.is((err as TokenRefusedError).reason, 'revoked');
  }
});

test('an expired user token is accepted beside a valid service token with the service role (keystonemiddleware), within Keystone\'s allow-expired window; revoked never', () => {
  const clock = new ManualClock(1_900_000_000_000);
  const keys = { keys: [decodeFernetKey(generateFernetKey())] };
  const list = new RevocationList();
  const validator = new TokenValidator(keys, list, clock);
  const key = keys.keys[0] as Buffer;
  const user = fernetEncrypt(key, encodeTokenPayload({ ...project(['member']), expiresAt: 1_899_999_900_000 }), 1_899_996_000);
  const nova = fernetEncrypt(key, encodeTokenPayload({ ...project(['admin', 'service']), userId: 'nova' }), 1_899_999_000);
  const memberOnly = fernetEncrypt(key, encodeTokenPayload({ ...project(['admin']), userId: 'other' }), 1_899_999_000);
  const refused = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      if (err instanceof TokenRefusedError) return err.reason;
      throw err;
    }
    return 'accepted';
  };
  assert.is(refused(() => authenticate(validator, { 'x-auth-token': user })), 'expired');
  assert.is(authenticate(validator, { 'x-auth-token': user, 'x-service-token': nova })?.userId, 'u1');
  assert.is(refused(() => authenticate(validator, { 'x-auth-token': user, 'x-service-token': memberOnly })), 'expired', 'a service token needs the service role');
  assert.is(refused(() => authenticate(validator, { 'x-auth-token': user, 'x-service-token': 'gAAAAAnot-a-token' })), 'expired');
  clock.advance(ALLOW_EXPIRED_WINDOW_MS);
  assert.is(refused(() => validateUserToken(validator, user, nova)), 'expired', 'past the window');
  clock.advance(-ALLOW_EXPIRED_WINDOW_MS);
  list.add('k', { user_id: 'u1', issued_before: new Date(1_899_999_500_000).toISOString(), revoked_at: new Date(1_899_999_500_000).toISOString() });
  assert.is(refused(() => validateUserToken(validator, user, nova)), 'revoked');
});

test.run();
