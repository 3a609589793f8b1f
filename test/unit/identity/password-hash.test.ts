import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashPassword, verifyPassword } from '../../../identity/password-hash.ts';

test('a hash verifies its password and no other; salted, so the same password hashes differently', async () => {
  const a = await hashPassword('correct horse', 10);
  assert.match(a, /^scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.ok(await verifyPassword('correct horse', a));
  assert.not.ok(await verifyPassword('correct horsE', a));
  assert.not.ok(await verifyPassword('', a));
  assert.is.not(await hashPassword('correct horse', 10), a);
});

test('the cost is in the hash: one made at another cost still verifies', async () => {
  const old = await hashPassword('pw', 11);
  assert.ok(await verifyPassword('pw', old));
});

test('a malformed stored hash never verifies', async () => {
  for (const stored of ['', 'plain', 'scrypt$ln=10,r=8,p=1$$', '$2b$12$bcrypthashfromkeystone']) assert.not.ok(await verifyPassword('pw', stored));
});

test.run();
