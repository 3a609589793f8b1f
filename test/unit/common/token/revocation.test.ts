import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isoMicro, newRevokeEvent, parseRevokeEvent, RevocationList, revokeEventKey, revokeEventKeyTime, revokes, type TokenFacts } from '../../../../common/token/revocation.ts';

const T0 = Date.parse('2026-12-05T06:50:26.000Z');
const token: TokenFacts = {
  userId: 'u1',
  userDomainId: 'default',
  projectId: 'p1',
  assignmentDomainId: 'd1',
  roleIds: ['r-member', 'r-reader'],
  auditId: 'aud',
  auditChainId: 'chain',
  applicationCredentialId: 'ac1',
  issuedAt: T0 - 10_000,
  expiresAt: T0 + 3_600_000,
};

test('an event revokes a token that has every fact it names, issued at or before it', () => {
  const at = T0;
  const matching = [{ user_id: 'u1' }, { user_id: 'u1', project_id: 'p1' }, { project_id: 'p1' }, { domain_id: 'default' }, { domain_id: 'd1' }, { role_id: 'r-reader' }, { audit_id: 'aud' }, { audit_chain_id: 'chain' }, { application_credential_id: 'ac1' }, { expires_at: isoMicro(token.expiresAt) }];
  for (const facts of matching) assert.ok(revokes(newRevokeEvent(facts, at), token), JSON.stringify(facts));
  const other = [{ user_id: 'u2' }, { user_id: 'u1', project_id: 'p2' }, { domain_id: 'd9' }, { role_id: 'r-admin' }, { audit_id: 'chain' }, { application_credential_id: 'ac2' }, { expires_at: isoMicro(token.expiresAt + 1000) }];
  for (const facts of other) assert.not.ok(revokes(newRevokeEvent(facts, at), token), JSON.stringify(facts));
});

test('issued_before: later tokens survive; one issued in the same second as the event does not (Keystone\'s rule)', () => {
  const event = newRevokeEvent({ user_id: 'u1' }, T0 + 400);
  assert.ok(revokes(event, { ...token, issuedAt: T0 }), 'same second');
  assert.not.ok(revokes(event, { ...token, issuedAt: T0 + 1000 }));
  const list = new RevocationList();
  list.add(revokeEventKey(event), event);
  assert.ok(list.revoked({ ...token, issuedAt: T0 }));
  assert.not.ok(list.revoked({ ...token, issuedAt: T0 + 1000 }));
});

test('keys sort by revocation time; pruning drops events older than any live token', () => {
  const early = newRevokeEvent({ user_id: 'u1' }, T0 - 7_200_000);
  const late = newRevokeEvent({ user_id: 'u1' }, T0);
  const [k1, k2] = [revokeEventKey(early), revokeEventKey(late)];
  assert.ok(k1 < k2);
  assert.is(revokeEventKeyTime(k2), T0);
  const list = new RevocationList();
  list.add(k1, early);
  list.add(k2, late);
  list.prune(T0 - 3_600_000);
  assert.is(list.size, 1);
  assert.ok(list.has(k2));
});

test('Keystone\'s time format; records that are not events are refused', () => {
  assert.is(isoMicro(T0 + 123), '2026-12-05T06:50:26.123000Z');
  assert.equal(parseRevokeEvent(newRevokeEvent({ audit_id: 'a' }, T0)), { audit_id: 'a', issued_before: '2026-12-05T06:50:26.000000Z', revoked_at: '2026-12-05T06:50:26.000000Z' });
  for (const junk of [null, 'x', {}, { issued_before: 'not a date', revoked_at: 'x' }, { issued_before: isoMicro(T0), revoked_at: isoMicro(T0), user_id: 7 }]) assert.is(parseRevokeEvent(junk), undefined);
});

test.run();
