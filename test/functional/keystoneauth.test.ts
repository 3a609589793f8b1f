import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../common/config.ts';
import { fernetSetup } from '../../common/token/key-repository.ts';
import { keystoneauthSchema } from '../../proxy/middleware/keystoneauth-settings.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { IDENTITY_ACCOUNT_USERS, startIdentity, type TestIdentity } from '../helpers/identity.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

// A proxy and an identity service sharing one key repository, as `swiftlet aio` sets them up:
// the proxy validates the identity service's tokens on its own and reads its revocation events.
let c: TestCluster;
let id: TestIdentity;
let keysDir: { path: string; remove(): Promise<void> };
let admin: string;
let demo: { token: string; projectId: string; userId: string };
let other: { token: string; projectId: string; userId: string };
let reader: { token: string; projectId: string };

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  // The proxy polls revocation events every second here; the identity service writes them at once.
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A new user with `role` on a new project of `domain` (default: Default), and their project-scoped token. */
async function newMember(name: string, role: string, domain = 'default'): Promise<{ token: string; projectId: string; userId: string }> {
  const project = await id.request('POST', '/v3/projects', { token: admin, body: { project: { domain_id: domain, name: `${name}-project` } } });
  assert.is(project.status, 201);
  const user = await id.request('POST', '/v3/users', { token: admin, body: { user: { name, domain_id: domain, password: `${name}-pw`, default_project_id: project.json.project.id } } });
  assert.is(user.status, 201);
  const roleId = (await id.request('GET', `/v3/roles?name=${role}`, { token: admin })).json.roles[0].id;
  assert.is((await id.request('PUT', `/v3/projects/${project.json.project.id}/users/${user.json.user.id}/roles/${roleId}`, { token: admin })).status, 204);
  const token = await id.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { id: user.json.user.id, password: `${name}-pw` } } } } } });
  assert.is(token.status, 201);
  return { token: token.headers['x-subject-token'] as string, projectId: project.json.project.id, userId: user.json.user.id };
}

test.before(async () => {
  keysDir = await makeTempDir('keystoneauth-keys-');
  const keyRepository = join(keysDir.path, 'fernet-keys');
  fernetSetup(keyRepository);
  c = await startCluster({
    users: IDENTITY_ACCOUNT_USERS,
    proxy: { allow_account_management: true },
    middleware: {
      keystoneauth: {
        ...defaultConfig({ k: keystoneauthSchema }).k,
        reseller_prefix: 'AUTH, SERVICE',
        operator_roles: 'admin, member',
        '*_service_roles': { SERVICE_service_roles: 'service' },
        key_repository: keyRepository,
        revocation_poll_interval: 1,
      },
    },
  });
  id = await startIdentity({ cluster: c, keyRepository });
  admin = await id.token();
  const user = await id.request('GET', '/v3/users?name=demo', { token: admin });
  const project = await id.request('GET', '/v3/projects?name=demo', { token: admin });
  demo = { token: await id.token({ user: 'demo' }), projectId: project.json.projects[0].id, userId: user.json.users[0].id };
  other = await newMember('alice', 'member');
  reader = await newMember('rita', 'reader');
});
test.after(async () => {
  await id.close();
  await c.close();
  await keysDir.remove();
});

const as = (token: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'X-Auth-Token': token, ...extra });

test("a project member's token owns AUTH_<project_id>: the account is made on its first write, and keeps the project's domain", async () => {
  const account = `/v1/AUTH_${demo.projectId}`;
  assert.is((await c.request('PUT', `${account}/photos`, as(demo.token))).status, 201);
  assert.is((await c.request('PUT', `${account}/photos/cat.jpg`, as(demo.token), 'meow')).status, 201);
  const got = await c.request('GET', `${account}/photos/cat.jpg`, as(demo.token));
  assert.is(got.status, 200);
  assert.is(got.body.toString(), 'meow');
  const listing = await c.request('GET', `${account}?format=json`, as(demo.token));
  assert.equal(JSON.parse(listing.body.toString()).map((r: { name: string }) => r.name), ['photos']);
  const head = await c.request('HEAD', account, as(demo.token));
  assert.is(head.status, 204);
  assert.is(head.headers['x-account-project-domain-id'], 'default');
  // swift_owner: the owner sets and sees the container's ACL.
  assert.is((await c.request('POST', `${account}/photos`, as(demo.token, { 'X-Container-Read': `${other.projectId}:${other.userId}` }))).status, 204);
  assert.is((await c.request('HEAD', `${account}/photos`, as(demo.token))).headers['x-container-read'], `${other.projectId}:${other.userId}`);
});

test('a token of another project is 403 on the account; no token or a bad one is 401', async () => {
  const account = `/v1/AUTH_${demo.projectId}`;
  assert.is((await c.request('PUT', `${account}/theirs`, as(other.token))).status, 403);
  assert.is((await c.request('GET', account, as(other.token))).status, 403);
  assert.is((await c.request('GET', account, as(''))).status, 401);
  const forged = `${demo.token.slice(0, -4)}AAAA`;
  assert.is((await c.request('GET', account, as(forged))).status, 401);
});

test('a role that is not an operator role does not own the account; nobody deletes their own account', async () => {
  assert.is((await c.request('PUT', `/v1/AUTH_${reader.projectId}/c`, as(reader.token))).status, 403);
  assert.is((await c.request('DELETE', `/v1/AUTH_${demo.projectId}`, as(demo.token))).status, 403);
});

test('container ACLs name project:user by id, by * and, in the default domain, by name', async () => {
  const account = `/v1/AUTH_${demo.projectId}`;
  assert.is((await c.request('PUT', `${account}/shared`, as(demo.token, { 'X-Container-Read': `${other.projectId}:${other.userId}` }))).status, 201);
  assert.is((await c.request('PUT', `${account}/shared/o`, as(demo.token), 'x')).status, 201);
  assert.is((await c.request('GET', `${account}/shared/o`, as(other.token))).status, 200, 'by ids');
  assert.is((await c.request('PUT', `${account}/shared/o`, as(other.token), 'y')).status, 403, 'read is not write');
  assert.is((await c.request('GET', `${account}/shared/o`, as(reader.token))).status, 403);
  assert.is((await c.request('POST', `${account}/shared`, as(demo.token, { 'X-Container-Read': 'alice-project:alice', 'X-Container-Write': '*:rita' }))).status, 204);
  assert.is((await c.request('GET', `${account}/shared/o`, as(other.token))).status, 200, 'by names');
  assert.is((await c.request('PUT', `${account}/shared/p`, as(reader.token), 'z')).status, 201, '* and a name');
  assert.is((await c.request('GET', `${account}/shared/o`, as(reader.token))).status, 403, 'write is not read');
});

test('names count only in the default domain', async () => {
  const domain = await id.request('POST', '/v3/domains', { token: admin, body: { domain: { name: 'elsewhere' } } });
  assert.is(domain.status, 201);
  const outsider = await newMember('bob', 'member', domain.json.domain.id);
  const account = `/v1/AUTH_${demo.projectId}`;
  assert.is((await c.request('PUT', `${account}/named`, as(demo.token, { 'X-Container-Read': 'bob-project:bob' }))).status, 201);
  assert.is((await c.request('GET', `${account}/named`, as(outsider.token))).status, 403);
  assert.is((await c.request('POST', `${account}/named`, as(demo.token, { 'X-Container-Read': `${outsider.projectId}:${outsider.userId}` }))).status, 204);
  assert.is((await c.request('GET', `${account}/named`, as(outsider.token))).status, 204, 'ids count anywhere');
});

test('the reseller admin role owns every project account', async () => {
  const roles = await id.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'ResellerAdmin' } } });
  assert.is(roles.status, 201);
  const boss = await newMember('carol', 'ResellerAdmin');
  assert.is((await c.request('GET', `/v1/AUTH_${demo.projectId}?format=json`, as(boss.token))).status, 200);
  assert.is((await c.request('PUT', `/v1/AUTH_${other.projectId}/by-reseller`, as(boss.token))).status, 201);
});

test('a SERVICE_ account needs a service token with the service role beside the user token', async () => {
  const service = await id.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'service' } } });
  assert.is(service.status, 201);
  const glance = await newMember('glance', 'service');
  const path = `/v1/SERVICE_${demo.projectId}/images`;
  assert.is((await c.request('PUT', path, as(demo.token))).status, 403);
  assert.is((await c.request('PUT', path, as(demo.token, { 'X-Service-Token': glance.token }))).status, 201);
  assert.is((await c.request('PUT', path, as(demo.token, { 'X-Service-Token': demo.token }))).status, 403, 'the user token is no service token');
  assert.is((await c.request('PUT', path, as(demo.token, { 'X-Service-Token': 'gAAAAAbogus' }))).status, 401, 'a bad service token unconfirms the identity');
});

test('tempauth users keep their accounts beside Keystone users', async () => {
  assert.is((await c.request('PUT', '/v1/AUTH_test/beside')).status, 201);
  assert.is((await c.request('GET', `/v1/AUTH_${demo.projectId}`)).status, 403, "tempauth's admin of AUTH_test is no owner of a project account");
});

test('a revoked token is refused within seconds, without asking the identity service', async () => {
  const dave = await newMember('dave', 'member');
  const path = `/v1/AUTH_${dave.projectId}/c`;
  assert.is((await c.request('PUT', path, as(dave.token))).status, 201);
  assert.is((await id.request('DELETE', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': dave.token } })).status, 204);
  await until('the revocation', async () => (await c.request('HEAD', path, as(dave.token))).status === 401);
});

test('a removed role assignment takes the account away within seconds', async () => {
  const erin = await newMember('erin', 'member');
  const path = `/v1/AUTH_${erin.projectId}/c`;
  assert.is((await c.request('PUT', path, as(erin.token))).status, 201);
  const member = (await id.request('GET', '/v3/roles?name=member', { token: admin })).json.roles[0].id;
  assert.is((await id.request('DELETE', `/v3/projects/${erin.projectId}/users/${erin.userId}/roles/${member}`, { token: admin })).status, 204);
  await until('the revocation', async () => (await c.request('HEAD', path, as(erin.token))).status === 401);
});

test.run();
