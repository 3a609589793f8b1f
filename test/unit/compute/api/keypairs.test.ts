import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** Keypairs as `openstack keypair create [--public-key]/list/show/delete` see them. */
let c: TestCompute;
let admin: string;
let demo: string;
test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
});
test.after(() => c.close());

// A real ed25519 key; its fingerprint from `ssh-keygen -l -E md5`: b1:7c:6e:92:7c:ec:e6:ee:41:bc:9c:fd:df:09:62:cb.
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBEr2Shn3mtM0ICMmbbvxmAVLTO4SafGJ0Nt+8FqZBam user@host';

test('generate (before 2.92): a PEM private key once, an OpenSSH public key whose fingerprint is the MD5 of its blob', async () => {
  const made = await c.request('POST', '/v2.1/os-keypairs', { token: demo, version: '2.2', body: { keypair: { name: 'gen' } } });
  assert.is(made.status, 201);
  const k = made.json.keypair;
  assert.equal(Object.keys(k).sort(), ['fingerprint', 'name', 'private_key', 'public_key', 'type', 'user_id']);
  assert.match(k.private_key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.match(k.public_key, /^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+ Generated-by-Nova$/);
  assert.is(k.type, 'ssh');
  // The private key opens and its public half is the one stored.
  const pub = createPublicKey(k.private_key).export({ format: 'jwk' }) as { n: string };
  assert.ok(Buffer.from(k.public_key.split(' ')[1], 'base64').includes(Buffer.from(pub.n, 'base64url')));
  const shown = await c.request('GET', '/v2.1/os-keypairs/gen', { token: demo });
  assert.not.ok('private_key' in shown.json.keypair);
  assert.is(shown.json.keypair.fingerprint, k.fingerprint);
  const at292 = await c.request('POST', '/v2.1/os-keypairs', { token: demo, version: '2.92', body: { keypair: { name: 'gen2' } } });
  assert.is(at292.status, 400);
  assert.match(at292.json.badRequest.message, /'public_key' is a required property/);
});

test('import: fingerprint as Nova computes it; 200 at 2.1, 201 from 2.2; junk is "Keypair data is invalid"; duplicate 409', async () => {
  const made = await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'mine', public_key: ED25519 } } });
  assert.is(made.status, 200);
  assert.equal(made.json.keypair, { name: 'mine', public_key: ED25519, fingerprint: 'b1:7c:6e:92:7c:ec:e6:ee:41:bc:9c:fd:df:09:62:cb', user_id: made.json.keypair.user_id });
  const dup = await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'mine', public_key: ED25519 } } });
  assert.equal(dup.json, { conflictingRequest: { code: 409, message: "Key pair 'mine' already exists." } });
  const junk = await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'junk', public_key: 'ssh-rsa bm90IGEga2V5' } } });
  assert.equal(junk.json, { badRequest: { code: 400, message: 'Keypair data is invalid: failed to generate fingerprint' } });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  assert.is((await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'pem', public_key: rsa.publicKey.export({ type: 'spki', format: 'pem' }) } } })).status, 400);
});

test("list and show are the caller's own; another user's name is 404; admins reach other users with user_id (2.10)", async () => {
  const list = await c.request('GET', '/v2.1/os-keypairs', { token: demo, version: '2.2' });
  assert.equal(list.json.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), ['gen', 'mine']);
  assert.equal(Object.keys(list.json.keypairs[0].keypair).sort(), ['fingerprint', 'name', 'public_key', 'type']);
  const userId = list.json.keypairs.length && (await c.request('GET', '/v2.1/os-keypairs/mine', { token: demo })).json.keypair.user_id;
  const adminView = await c.request('GET', '/v2.1/os-keypairs/mine', { token: admin });
  assert.match(adminView.json.itemNotFound.message, /^Keypair mine not found for user [0-9a-f]{32}$/);
  const other = await c.request('GET', `/v2.1/os-keypairs/mine?user_id=${userId}`, { token: admin, version: '2.10' });
  assert.is(other.json.keypair.name, 'mine');
  const denied = await c.request('GET', '/v2.1/os-keypairs?user_id=someone', { token: demo, version: '2.10' });
  assert.is(denied.status, 403);
  const shown = await c.request('GET', '/v2.1/os-keypairs/mine', { token: demo });
  assert.equal(Object.keys(shown.json.keypair).sort(), ['created_at', 'deleted', 'deleted_at', 'fingerprint', 'id', 'name', 'public_key', 'updated_at', 'user_id']);
  const paged = await c.request('GET', '/v2.1/os-keypairs?limit=1', { token: demo, version: '2.35' });
  assert.is(paged.json.keypairs.length, 1);
  assert.match(paged.json.keypairs_links[0].href, /marker=gen/);
});

test('delete: 202 at 2.1, 204 from 2.2, then 404', async () => {
  assert.is((await c.request('DELETE', '/v2.1/os-keypairs/gen', { token: demo })).status, 202);
  assert.is((await c.request('DELETE', '/v2.1/os-keypairs/mine', { token: demo, version: '2.2' })).status, 204);
  assert.is((await c.request('DELETE', '/v2.1/os-keypairs/mine', { token: demo })).status, 404);
});

test('the key_pairs quota: over it is 403 "Quota exceeded, too many key pairs."', async () => {
  const me = await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } });
  const project = me.json.token.project.id;
  assert.is((await c.request('PUT', `/v2.1/os-quota-sets/${project}`, { token: admin, body: { quota_set: { key_pairs: 1 } } })).status, 200);
  assert.is((await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'one', public_key: ED25519 } } })).status, 200);
  const over = await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'two', public_key: ED25519 } } });
  assert.equal(over.json, { forbidden: { code: 403, message: 'Quota exceeded, too many key pairs.' } });
});

test.run();
