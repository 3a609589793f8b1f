import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFernetKey, fernetEncrypt, generateFernetKey } from '../../../../common/token/fernet.ts';
import { newRevokeEvent, RevocationList, revokeEventKey } from '../../../../common/token/revocation.ts';
import { encodeTokenPayload, newAuditId, type TokenPayload } from '../../../../common/token/token-payload.ts';
import { TokenRefusedError, TokenValidator } from '../../../../common/token/token-validator.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const clock = new ManualClock(Date.parse('2026-12-05T07:00:00.000Z'));
const primary = decodeFernetKey(generateFernetKey());
const secondary = decodeFernetKey(generateFernetKey());
const payload: TokenPayload = {
  userId: 'u1',
  userDomainId: 'default',
  methods: ['password'],
  scope: { kind: 'project', projectId: 'p1', domainId: 'default' },
  expiresAt: clock.now() + 3_600_000,
  auditIds: [newAuditId()],
  roles: [{ id: 'r1', name: 'member' }],
};
const issue = (p: TokenPayload, key = primary): string => fernetEncrypt(key, encodeTokenPayload(p), clock.now() / 1000);
const refusal = (reason: string) => (err: unknown): boolean => err instanceof TokenRefusedError && err.reason === reason;

test('a good token: what it says, and when it was issued', () => {
  const validator = new TokenValidator({ keys: [primary, secondary] }, new RevocationList(), clock);
  const v = validator.validate(issue(payload, secondary));
  assert.is(v.userId, 'u1');
  assert.equal(v.roles, [{ id: 'r1', name: 'member' }]);
  assert.is(v.issuedAt, clock.now());
});

test('refused: another key\'s token, junk, expired (unless allowed), revoked (always)', () => {
  const revocations = new RevocationList();
  const validator = new TokenValidator({ keys: [primary] }, revocations, clock);
  assert.throws(() => validator.validate(issue(payload, secondary)), refusal('invalid'));
  assert.throws(() => validator.validate('gAAAAAjunk'), refusal('invalid'));
  assert.throws(() => validator.validate(fernetEncrypt(primary, Buffer.from('not msgpack at all'), 0)), refusal('invalid'));
  const expired = issue({ ...payload, expiresAt: clock.now() });
  assert.throws(() => validator.validate(expired), refusal('expired'));
  assert.is(validator.validate(expired, { allowExpired: true }).userId, 'u1');
  const token = issue(payload);
  clock.advance(1000);
  const event = newRevokeEvent({ audit_id: payload.auditIds[0] as string }, clock.now());
  revocations.add(revokeEventKey(event), event);
  assert.throws(() => validator.validate(token), refusal('revoked'));
  assert.throws(() => validator.validate(token, { allowExpired: true }), refusal('revoked'));
});

test.run();
