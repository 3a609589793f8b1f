import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { ADMIN_PASSWORD, IDENTITY_ACCOUNT_USERS, startIdentity, type TestIdentity } from '../helpers/identity.ts';

/**
 * The identity service on a real (in-process) cluster, driven over HTTP as openstackclient
 * drives Keystone: version discovery, a password token with its catalog, then the admin flows
 * (`GET /v3/<kind>/<name>` 404, `?name=` lookup, create, grant, list with names).
 */
let cluster: TestCluster;
let id: TestIdentity;
test.before(async () => {
  cluster = await startCluster({ users: IDENTITY_ACCOUNT_USERS });
  id = await startIdentity({ cluster });
});
test.after(async () => {
  await id.close();
  await cluster.close();
});

test('version discovery: / is 300 with v3.14, /v3 is its version', async () => {
  const root = await id.request('GET', '/');
  assert.is(root.status, 300);
  assert.is(root.json.versions.values[0].id, 'v3.14');
  assert.is(root.headers['location'], `${id.url}/v3/`);
  const v3 = await id.request('GET', '/v3');
  assert.is(v3.status, 200);
  assert.is(v3.json.version.links[0].href, `${id.url}/v3/`);
  assert.is(v3.headers['vary'], 'X-Auth-Token');
  assert.match(v3.headers['x-openstack-request-id'] ?? '', /^req-[0-9a-f-]{36}$/);
});

test('token issue: admin by password, project-scoped, roles with implied ones, catalog with the project in the object-store URL', async () => {
  const res = await id.request('POST', '/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } },
  });
  assert.is(res.status, 201);
  const token = res.json.token;
  assert.match(res.headers['x-subject-token'] ?? '', /^gAAAAA[A-Za-z0-9_-]+$/);
  assert.equal(token.methods, ['password']);
  assert.is(token.user.name, 'admin');
  assert.equal(token.user.domain, { id: 'default', name: 'Default' });
  assert.is(token.project.name, 'admin');
  assert.equal([...token.roles.map((r: { name: string }) => r.name)].sort(), ['admin', 'member', 'reader']);
  assert.is(token.is_domain, false);
  assert.match(token.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
  const swift = token.catalog.find((s: { type: string }) => s.type === 'object-store');
  const publicUrl = swift.endpoints.find((e: { interface: string }) => e.interface === 'public').url;
  assert.is(publicUrl, `http://127.0.0.1:8080/v1/AUTH_${token.project.id}`);
  assert.is(token.catalog.find((s: { type: string }) => s.type === 'identity').endpoints.length, 3);
});

test('openstackclient\'s project create / show / role add / role assignment list --names', async () => {
  const admin = await id.token();
  assert.is((await id.request('GET', '/v3/projects/p-cli', { token: admin })).status, 404);
  const created = await id.request('POST', '/v3/projects', { token: admin, body: { project: { domain_id: 'default', name: 'p-cli', description: 'CLI demo', enabled: true, options: {}, tags: [] } } });
  assert.is(created.status, 201);
  assert.is(created.json.project.parent_id, 'default');
  const found = await id.request('GET', '/v3/projects?domain_id=default&name=p-cli', { token: admin });
  assert.equal(found.json.projects.map((p: { id: string }) => p.id), [created.json.project.id]);
  const user = await id.request('POST', '/v3/users', { token: admin, body: { user: { name: 'u-cli', domain_id: 'default', password: 'pw-cli', default_project_id: created.json.project.id, enabled: true } } });
  assert.is(user.status, 201);
  assert.is(user.json.user.password, undefined, 'no password, hash or anything like it comes back');
  assert.is(user.json.user.password_hash, undefined);
  const member = (await id.request('GET', '/v3/roles?name=member', { token: admin })).json.roles[0];
  const grant = await id.request('PUT', `/v3/projects/${created.json.project.id}/users/${user.json.user.id}/roles/${member.id}`, { token: admin });
  assert.is(grant.status, 204);
  const listed = await id.request('GET', `/v3/role_assignments?scope.project.id=${created.json.project.id}&include_names=True`, { token: admin });
  assert.is(listed.status, 200);
  assert.equal(listed.json.role_assignments, [
    {
      links: { assignment: `${id.url}/v3/projects/${created.json.project.id}/users/${user.json.user.id}/roles/${member.id}` },
      role: { id: member.id, name: 'member' },
      scope: { project: { id: created.json.project.id, name: 'p-cli', domain: { id: 'default', name: 'Default' } } },
      user: { id: user.json.user.id, name: 'u-cli', domain: { id: 'default', name: 'Default' } },
    },
  ]);
  // The new user's first token lands in their default project, where they now have a role.
  const own = await id.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'u-cli', domain: { id: 'default' }, password: 'pw-cli' } } } } } });
  assert.is(own.status, 201);
  assert.is(own.json.token.project.id, created.json.project.id);
  assert.equal([...own.json.token.roles.map((r: { name: string }) => r.name)].sort(), ['member', 'reader']);
});

test('state lives in the cluster: a second identity process on the same account sees it', async () => {
  const admin = await id.token();
  const made = await id.request('POST', '/v3/domains', { token: admin, body: { domain: { name: 'shared-dom' } } });
  assert.is(made.status, 201);
  const other = await startIdentity({ cluster });
  try {
    // The second process has its own key repository, so it gets its own token.
    const token = await other.token();
    const seen = await other.request('GET', '/v3/domains?name=shared-dom', { token });
    assert.equal(seen.json.domains.map((d: { id: string }) => d.id), [made.json.domain.id]);
  } finally {
    await other.close();
  }
});

test('a token revoked on one identity process is refused by another after its next poll', async () => {
  const other = await startIdentity({ cluster, keyRepository: id.keyRepository });
  try {
    const demo = await id.token({ user: 'demo' });
    const admin = await other.token();
    assert.is((await other.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).status, 200, 'one key repository: either validates the other\'s tokens');
    assert.is((await id.request('DELETE', '/v3/auth/tokens', { token: demo, headers: { 'X-Subject-Token': demo } })).status, 204);
    await other.service.deps.revocations.poll();
    assert.is((await other.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).status, 404);
    assert.is((await other.request('GET', '/v3/auth/projects', { token: demo })).status, 401);
  } finally {
    await other.close();
  }
});

test.run();
