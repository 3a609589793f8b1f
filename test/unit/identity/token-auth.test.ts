import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ADMIN_PASSWORD, DEMO_PASSWORD, startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** `POST /v3/auth/tokens` and friends, as Keystone answers them (captured from Keystone 22). */
let id: TestIdentity;
test.before(async () => {
  id = await startIdentity();
});
test.after(() => id.close());

const password = (user: string, secret: string, scope?: unknown, domain: unknown = { name: 'Default' }) => ({
  auth: { identity: { methods: ['password'], password: { user: { name: user, domain, password: secret } } }, ...(scope !== undefined ? { scope } : {}) },
});
const issue = (body: unknown, query = '') => id.request('POST', `/v3/auth/tokens${query}`, { body });
const UNAUTHORIZED = { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } };

test('every refusal of who the caller is is the same 401, with WWW-Authenticate and no hint', async () => {
  const admin = await id.token();
  const u = await id.request('POST', '/v3/users', { token: admin, body: { user: { name: 'off', password: 'pw', enabled: false } } });
  assert.is(u.status, 201);
  const demoProject = (await id.request('GET', '/v3/projects?name=demo', { token: admin })).json.projects[0];
  await id.request('PATCH', `/v3/projects/${demoProject.id}`, { token: admin, body: { project: { enabled: false } } });
  try {
    const refusals = [
      password('admin', 'wrong'),
      password('nobody', 'wrong'),
      password('off', 'pw'),
      password('admin', ADMIN_PASSWORD, { project: { name: 'nope', domain: { name: 'Default' } } }),
      password('demo', DEMO_PASSWORD, { project: { name: 'demo', domain: { name: 'Default' } } }),
      password('demo', DEMO_PASSWORD, { project: { name: 'admin', domain: { name: 'Default' } } }),
      password('demo', DEMO_PASSWORD, { system: { all: true } }),
      password('admin', ADMIN_PASSWORD, undefined, { name: 'NoSuchDomain' }),
      { auth: { identity: { methods: ['token'], token: { id: 'gAAAAABnot-a-token' } } } },
      { auth: { identity: { methods: ['totp'], totp: {} } } },
    ];
    for (const body of refusals) {
      const res = await issue(body);
      assert.is(res.status, 401, JSON.stringify(body));
      assert.equal(res.json, UNAUTHORIZED);
      assert.is(res.headers['www-authenticate'], `Keystone uri="${id.url}/v3"`);
      assert.is(res.headers['x-subject-token'], undefined);
    }
  } finally {
    await id.request('PATCH', `/v3/projects/${demoProject.id}`, { token: admin, body: { project: { enabled: true } } });
  }
});

test('malformed requests are 400 in Keystone\'s shape', async () => {
  const bad = await id.request('POST', '/v3/auth/tokens', { body: '{not json' });
  assert.is(bad.status, 400);
  assert.is(bad.json.error.title, 'Bad Request');
  assert.match(bad.json.error.message, /^Expecting to find valid JSON in request body/);
  assert.is((await issue({ auth: {} })).json.error.message, "'identity' is a required property");
  assert.is((await issue({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'x' } } } } })).status, 400, 'a name needs its domain');
});

test('unscoped, domain-scoped and system-scoped tokens; nocatalog', async () => {
  const admin = await id.token();
  await id.request('PUT', `/v3/domains/default/users/${(await id.request('GET', '/v3/users?name=admin', { token: admin })).json.users[0].id}/roles/${(await id.request('GET', '/v3/roles?name=admin', { token: admin })).json.roles[0].id}`, { token: admin });
  const unscoped = await issue(password('admin', ADMIN_PASSWORD));
  assert.is(unscoped.status, 201);
  assert.equal(Object.keys(unscoped.json.token).sort(), ['audit_ids', 'expires_at', 'issued_at', 'methods', 'user']);
  const domain = await issue(password('admin', ADMIN_PASSWORD, { domain: { name: 'Default' } }));
  assert.is(domain.status, 201);
  assert.equal(domain.json.token.domain, { id: 'default', name: 'Default' });
  assert.ok(Array.isArray(domain.json.token.catalog));
  const system = await issue(password('admin', ADMIN_PASSWORD, { system: { all: true } }), '?nocatalog');
  assert.is(system.status, 201);
  assert.equal(system.json.token.system, { all: true });
  assert.is(system.json.token.catalog, undefined);
  assert.equal([...system.json.token.roles.map((r: { name: string }) => r.name)].sort(), ['admin', 'member', 'reader']);
});

test('token method: rescoping keeps the expiry, chains the audit ids and adds the method', async () => {
  const first = await issue(password('admin', ADMIN_PASSWORD));
  const rescoped = await issue({ auth: { identity: { methods: ['token'], token: { id: first.headers['x-subject-token'] } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } });
  assert.is(rescoped.status, 201);
  const t = rescoped.json.token;
  assert.equal(t.methods, ['password', 'token']);
  assert.is(t.expires_at, first.json.token.expires_at);
  assert.is(t.audit_ids.length, 2);
  assert.is(t.audit_ids[1], first.json.token.audit_ids[0]);
  assert.is(t.project.name, 'admin');
});

test('validate (GET), check (HEAD) and revoke (DELETE) with X-Subject-Token; a revoked token stops working here at once', async () => {
  const admin = await id.token();
  const demo = await id.token({ user: 'demo' });
  const got = await id.request('GET', '/v3/auth/tokens?nocatalog', { token: admin, headers: { 'X-Subject-Token': demo } });
  assert.is(got.status, 200);
  assert.is(got.headers['x-subject-token'], demo);
  assert.is(got.json.token.user.name, 'demo');
  assert.is(got.json.token.catalog, undefined);
  assert.is((await id.request('HEAD', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).status, 200);
  assert.is((await id.request('GET', '/v3/auth/tokens', { token: demo, headers: { 'X-Subject-Token': demo } })).status, 200, 'a user validates their own token');
  const garbage = await id.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': 'garbage' } });
  assert.equal(garbage.json, { error: { code: 404, message: 'Could not recognize Fernet token', title: 'Not Found' } });
  assert.is((await id.request('DELETE', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).status, 204);
  const revoked = await id.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } });
  assert.equal(revoked.json, { error: { code: 404, message: 'Failed to validate token', title: 'Not Found' } });
  const used = await id.request('GET', '/v3/auth/projects', { token: demo });
  assert.is(used.status, 401);
  assert.is((await id.request('GET', '/v3/users', { token: 'garbage' })).status, 401);
  assert.is((await id.request('GET', '/v3/users')).status, 401);
});

test('a new password revokes the old tokens; a token made right after it (same second) works', async () => {
  const admin = await id.token();
  const made = await id.request('POST', '/v3/users', { token: admin, body: { user: { name: 'changer', password: 'one' } } });
  const userId = made.json.user.id;
  const first = (await issue(password('changer', 'one'))).headers['x-subject-token'] as string;
  assert.is((await id.request('POST', `/v3/users/${userId}/password`, { token: first, body: { user: { original_password: 'wrong', password: 'two' } } })).status, 401);
  assert.is((await id.request('POST', `/v3/users/${userId}/password`, { token: first, body: { user: { original_password: 'one', password: 'two' } } })).status, 204);
  assert.is((await id.request('GET', `/v3/users/${userId}`, { token: first })).status, 401, 'the old token is revoked');
  assert.is((await issue(password('changer', 'one'))).status, 401, 'the old password is gone');
  const second = await issue(password('changer', 'two'));
  assert.is(second.status, 201);
  assert.is((await id.request('GET', `/v3/users/${userId}`, { token: second.headers['x-subject-token'] })).status, 200);
});

test('disabling or deleting a user revokes their tokens; disabling a project revokes its tokens', async () => {
  const admin = await id.token();
  const demoUser = (await id.request('GET', '/v3/users?name=demo', { token: admin })).json.users[0];
  const demoProject = (await id.request('GET', '/v3/projects?name=demo', { token: admin })).json.projects[0];
  const before = await id.token({ user: 'demo' });
  await id.request('PATCH', `/v3/projects/${demoProject.id}`, { token: admin, body: { project: { enabled: false } } });
  assert.is((await id.request('GET', `/v3/users/${demoUser.id}`, { token: before })).status, 401);
  await id.request('PATCH', `/v3/projects/${demoProject.id}`, { token: admin, body: { project: { enabled: true } } });
  const again = await id.token({ user: 'demo' });
  await id.request('PATCH', `/v3/users/${demoUser.id}`, { token: admin, body: { user: { enabled: false } } });
  assert.is((await id.request('GET', `/v3/users/${demoUser.id}`, { token: again })).status, 401);
  await id.request('PATCH', `/v3/users/${demoUser.id}`, { token: admin, body: { user: { enabled: true } } });
  assert.is((await id.request('GET', `/v3/users/${demoUser.id}`, { token: await id.token({ user: 'demo' }) })).status, 200);
});

test('what a token reaches: /v3/auth/catalog, /projects, /domains, /system', async () => {
  const demo = await id.token({ user: 'demo' });
  const catalog = await id.request('GET', '/v3/auth/catalog', { token: demo });
  assert.equal(catalog.json.catalog.map((s: { type: string }) => s.type).sort(), ['identity', 'object-store']);
  assert.is(catalog.json.links.self, `${id.url}/v3/auth/catalog`);
  const projects = await id.request('GET', '/v3/auth/projects', { token: demo });
  assert.equal(projects.json.projects.map((p: { name: string }) => p.name), ['demo']);
  assert.equal(projects.json.links, { next: null, previous: null, self: `${id.url}/v3/auth/projects` });
  assert.equal((await id.request('GET', '/v3/auth/domains', { token: demo })).json.domains, []);
  assert.equal((await id.request('GET', '/v3/auth/system', { token: demo })).json.system, []);
  assert.equal((await id.request('GET', '/v3/auth/system', { token: await id.token() })).json.system, [{ all: true }]);
});

test.run();
