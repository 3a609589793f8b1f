import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** Application credentials, EC2 credentials and `/v3/credentials`. */
let id: TestIdentity;
let admin: string;
let demo: string;
let demoUser: string;
let demoProject: string;
test.before(async () => {
  id = await startIdentity();
  admin = await id.token();
  demo = await id.token({ user: 'demo' });
  demoUser = (await id.request('GET', '/v3/users?name=demo', { token: admin })).json.users[0].id;
  demoProject = (await id.request('GET', '/v3/projects?name=demo', { token: admin })).json.projects[0].id;
});
test.after(() => id.close());

const appCreds = (user: string) => `/v3/users/${user}/application_credentials`;

test('application credential: create (secret shown once), list, show, authenticate, 409 on a name, delete revokes its tokens', async () => {
  const made = await id.request('POST', appCreds(demoUser), { token: demo, body: { application_credential: { name: 'ac1', description: 'x', roles: [{ name: 'member' }] } } });
  assert.is(made.status, 201);
  const ac = made.json.application_credential;
  assert.match(ac.secret, /^[A-Za-z0-9_-]{86}$/);
  assert.is(ac.project_id, demoProject);
  assert.equal(ac.roles.map((r: { name: string }) => r.name), ['member']);
  assert.is(ac.unrestricted, null);
  assert.is(ac.expires_at, null);
  assert.not.match(JSON.stringify(await id.records.get('application-credentials', ac.id)), new RegExp(ac.secret), 'stored as a hash');
  assert.equal((await id.request('POST', appCreds(demoUser), { token: demo, body: { application_credential: { name: 'ac1' } } })).json.error.message, 'Conflict occurred attempting to store application_credential - Duplicate entry found with name ac1.');
  const listed = (await id.request('GET', appCreds(demoUser), { token: demo })).json.application_credentials;
  assert.equal(listed.map((a: { id: string; secret?: string }) => [a.id, a.secret]), [[ac.id, undefined]]);
  assert.is((await id.request('GET', `${appCreds(demoUser)}?name=ac1`, { token: demo })).json.application_credentials.length, 1);
  assert.is((await id.request('GET', `${appCreds(demoUser)}/ac1`, { token: demo })).status, 404, 'by id only');
  const auth = await id.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } } } } });
  assert.is(auth.status, 201);
  assert.equal(auth.json.token.methods, ['application_credential']);
  assert.equal(auth.json.token.application_credential, { id: ac.id, name: 'ac1', restricted: true });
  assert.equal(auth.json.token.roles.map((r: { name: string }) => r.name), ['member'], 'only the delegated role');
  assert.is(auth.json.token.project.id, demoProject);
  const byName = await id.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { name: 'ac1', user: { name: 'demo', domain: { name: 'Default' } }, secret: ac.secret } } } } });
  assert.is(byName.status, 201);
  assert.is((await id.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: 'bad' } } } } })).status, 401);
  const token = auth.headers['x-subject-token'] as string;
  assert.is((await id.request('DELETE', `${appCreds(demoUser)}/${ac.id}`, { token: demo })).status, 204);
  assert.is((await id.request('GET', '/v3/auth/projects', { token })).status, 401, "the credential's token is revoked");
  assert.is((await id.request('GET', '/v3/auth/projects', { token: demo })).status, 200, 'the user\'s own token is not');
});

test('application credentials: only the owner creates, only roles the token has, a project-scoped token needed', async () => {
  const adminUser = (await id.request('GET', '/v3/users?name=admin', { token: admin })).json.users[0].id;
  assert.is((await id.request('POST', appCreds(adminUser), { token: demo, body: { application_credential: { name: 'steal' } } })).status, 403);
  assert.is((await id.request('POST', appCreds(demoUser), { token: demo, body: { application_credential: { name: 'grab', roles: [{ name: 'admin' }] } } })).status, 404);
  const unscoped = await id.token({ user: 'demo', scope: null });
  assert.is((await id.request('POST', appCreds(demoUser), { token: unscoped, body: { application_credential: { name: 'u' } } })).status, 400);
  const all = await id.request('POST', appCreds(demoUser), { token: demo, body: { application_credential: { name: 'all-roles' } } });
  assert.equal(all.json.application_credential.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
});

test('EC2 credentials: create for a project, list, show by access key, delete; the id is the SHA-256 of the access key', async () => {
  const made = await id.request('POST', `/v3/users/${demoUser}/credentials/OS-EC2`, { token: demo, body: { tenant_id: demoProject } });
  assert.is(made.status, 201);
  const c = made.json.credential;
  assert.match(c.access, /^[0-9a-f]{32}$/);
  assert.match(c.secret, /^[0-9a-f]{32}$/);
  assert.equal({ ...c, access: 'a', secret: 's', links: {} }, { user_id: demoUser, tenant_id: demoProject, access: 'a', secret: 's', trust_id: null, links: {} });
  assert.equal((await id.request('GET', `/v3/users/${demoUser}/credentials/OS-EC2`, { token: demo })).json.credentials.map((x: { access: string }) => x.access), [c.access]);
  assert.is((await id.request('GET', `/v3/users/${demoUser}/credentials/OS-EC2/${c.access}`, { token: demo })).json.credential.secret, c.secret);
  const generic = (await id.request('GET', '/v3/credentials?type=ec2', { token: admin })).json.credentials;
  const match = generic.find((x: { id: string }) => x.id === createHash('sha256').update(c.access).digest('hex'));
  assert.equal(JSON.parse(match.blob), { access: c.access, secret: c.secret, trust_id: null });
  assert.is((await id.request('POST', `/v3/users/${demoUser}/credentials/OS-EC2`, { token: demo, body: { tenant_id: 'nope' } })).status, 404);
  assert.is((await id.request('DELETE', `/v3/users/${demoUser}/credentials/OS-EC2/${c.access}`, { token: demo })).status, 204);
  assert.is((await id.request('GET', `/v3/users/${demoUser}/credentials/OS-EC2/${c.access}`, { token: demo })).status, 404);
});

test('/v3/credentials: ec2 needs a project and its id comes from the access key; users see only their own', async () => {
  const ec2 = await id.request('POST', '/v3/credentials', { token: admin, body: { credential: { type: 'ec2', user_id: demoUser, project_id: demoProject, blob: '{"access": "A1", "secret": "S1"}' } } });
  assert.is(ec2.status, 201);
  assert.is(ec2.json.credential.id, createHash('sha256').update('A1').digest('hex'));
  assert.is((await id.request('POST', '/v3/credentials', { token: admin, body: { credential: { type: 'ec2', user_id: demoUser, project_id: demoProject, blob: '{"access": "A1", "secret": "S2"}' } } })).status, 409);
  assert.is((await id.request('POST', '/v3/credentials', { token: admin, body: { credential: { type: 'ec2', user_id: demoUser, blob: '{"access": "A2"}' } } })).status, 400);
  const cert = await id.request('POST', '/v3/credentials', { token: admin, body: { credential: { type: 'cert', user_id: demoUser, blob: 'xx' } } });
  assert.is(cert.json.credential.project_id, null);
  const patched = await id.request('PATCH', `/v3/credentials/${ec2.json.credential.id}`, { token: admin, body: { credential: { blob: '{"access": "A1", "secret": "S9"}' } } });
  assert.is(patched.json.credential.blob, '{"access": "A1", "secret": "S9"}');
  const other = await id.request('POST', '/v3/users', { token: admin, body: { user: { name: 'other', password: 'pw' } } });
  await id.request('POST', '/v3/credentials', { token: admin, body: { credential: { type: 'cert', user_id: other.json.user.id, blob: 'theirs' } } });
  const seen = (await id.request('GET', '/v3/credentials', { token: demo })).json.credentials;
  assert.ok(seen.length >= 2 && seen.every((c: { user_id: string }) => c.user_id === demoUser));
  assert.is((await id.request('DELETE', `/v3/credentials/${cert.json.credential.id}`, { token: demo })).status, 204);
});

test.run();
