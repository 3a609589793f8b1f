import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFernetKey, fernetDecrypt } from '../../../../common/token/fernet.ts';
import { decodeTokenPayload, encodeTokenPayload, newAuditId, TokenPayloadError, type TokenPayload } from '../../../../common/token/token-payload.ts';

// A project-scoped token issued by Keystone 22 (Debian's 2:22.0.2) and the primary key of its
// throwaway key repository: our reader must take Keystone's payload as it is.
const KEYSTONE_KEY = 'jB22jsiXABvs9i0liEkR5j8GGxA81cGhwhKQdijTgxY=';
const KEYSTONE_TOKEN =
  'gAAAAABrE7r50a2bsxCaf4XlQe7-8hWXsRCj0hbSQOrGHqXXJWu4vSD17OcbPgNRsmrg0NwKyVn6iVvXDY5Yv3F2WBz9Q1tZ1Zwh6f3NVCjZZ_mdbSyWkKw2YGxprmj9qnX19OxbP0D3gRALz4aRG5a_eUZpnehH8XgZ9Hdaa_TZo2xEIAmALvk';

test('a token Keystone issued decodes to what Keystone said about it', () => {
  const opened = fernetDecrypt([decodeFernetKey(KEYSTONE_KEY)], KEYSTONE_TOKEN);
  const payload = decodeTokenPayload(opened.plaintext);
  assert.is(payload.userId, '4aa7815503564d088c3f5b48559c95f0');
  assert.equal(payload.scope, { kind: 'project', projectId: '5dca1c59fdaa4cfb9d584e3bbe69bbbe', domainId: '' });
  assert.equal(payload.methods, ['password']);
  assert.equal(payload.auditIds, ['smqOsbUaT32EG6h8p0Jq7g']);
  assert.is(new Date(payload.expiresAt).toISOString(), '2026-12-05T08:19:21.000Z');
  assert.is(new Date(opened.timestamp * 1000).toISOString(), '2026-12-05T07:19:21.000Z');
  assert.equal(payload.roles, [], 'Keystone puts no roles in its tokens');
});

const base = {
  userId: '4aa7815503564d088c3f5b48559c95f0',
  userDomainId: 'default',
  methods: ['token', 'password'],
  expiresAt: 1_796_458_761_000,
  auditIds: [newAuditId(), newAuditId()],
  roles: [
    { id: '85b3e090b669487c93902b3f00080853', name: 'reader' },
    { id: 'not-a-uuid-role', name: 'member' },
  ],
} satisfies Omit<TokenPayload, 'scope'>;

test('a token made here is one Keystone reads: its methods come back in Keystone\'s order', () => {
  const p: TokenPayload = { ...base, methods: ['password', 'token'], scope: { kind: 'unscoped' } };
  assert.equal(decodeTokenPayload(encodeTokenPayload(p)).methods, ['token', 'password']);
});

test('every scope round-trips, ids that are not UUIDs included', () => {
  const payloads: TokenPayload[] = [
    { ...base, roles: [], scope: { kind: 'unscoped' } },
    { ...base, scope: { kind: 'project', projectId: '5dca1c59fdaa4cfb9d584e3bbe69bbbe', domainId: 'default' } },
    { ...base, scope: { kind: 'project', projectId: 'named-project', domainId: 'b8abbbcdc7194e7c94668fbb97d8df3b' } },
    { ...base, scope: { kind: 'domain', domainId: 'default' } },
    { ...base, scope: { kind: 'domain', domainId: 'b8abbbcdc7194e7c94668fbb97d8df3b' } },
    { ...base, scope: { kind: 'system' } },
    { ...base, methods: ['application_credential'], scope: { kind: 'project', projectId: '5dca1c59fdaa4cfb9d584e3bbe69bbbe', domainId: 'default' }, applicationCredentialId: '1997ea9dcbd54febafe1fdc435049b29' },
  ];
  for (const p of payloads) assert.equal(decodeTokenPayload(encodeTokenPayload(p)), p);
});

test('Keystone\'s version numbers and UUIDs packed as 16 bytes (a project token stays small)', () => {
  const bytes = encodeTokenPayload({ ...base, roles: [], scope: { kind: 'project', projectId: '5dca1c59fdaa4cfb9d584e3bbe69bbbe', domainId: 'default' } });
  assert.is(bytes[0], 0x97, 'a 7-element array');
  assert.is(bytes[1], 2, 'version 2: project scope');
  assert.ok(bytes.length < 150, `${bytes.length} bytes`);
});

test('garbage is a TokenPayloadError', () => {
  for (const junk of [Buffer.from([0xc1]), Buffer.from('plain text'), encodeTokenPayload({ ...base, scope: { kind: 'unscoped' } }).subarray(0, 10)]) {
    assert.throws(() => decodeTokenPayload(junk), (err: unknown) => err instanceof TokenPayloadError);
  }
});

test.run();
