import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** Domains, projects, users, groups and roles: what openstackclient's create/list/show/set/delete see. */
let id: TestIdentity;
let admin: string;
test.before(async () => {
  id = await startIdentity();
  admin = await id.token();
});
test.after(() => id.close());

const as = (token: string) => ({
  get: (path: string) => id.request('GET', path, { token }),
  post: (path: string, body: unknown) => id.request('POST', path, { token, body }),
  patch: (path: string, body: unknown) => id.request('PATCH', path, { token, body }),
  put: (path: string) => id.request('PUT', path, { token }),
  del: (path: string) => id.request('DELETE', path, { token }),
});

test('domains: create (extra fields kept), duplicate name 409, show by id, ?name=, set, delete only when disabled', async () => {
  const a = as(admin);
  const made = await a.post('/v3/domains', { domain: { name: 'dom1', description: 'd1 desc', enabled: true, options: {}, bogus: 1 } });
  assert.is(made.status, 201);
  const d = made.json.domain;
  assert.equal({ ...d, id: 'x' }, { bogus: 1, id: 'x', name: 'dom1', description: 'd1 desc', enabled: true, tags: [], options: {}, links: { self: `${id.url}/v3/domains/${d.id}` } });
  const dup = await a.post('/v3/domains', { domain: { name: 'dom1' } });
  assert.is(dup.status, 409);
  assert.equal(dup.json.error, { code: 409, message: 'Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: dom1.', title: 'Conflict' });
  assert.is((await a.get('/v3/domains/dom1')).status, 404, 'a name is not an id (openstackclient tries it first)');
  assert.equal((await a.get('/v3/domains?name=dom1')).json.domains.map((x: { id: string }) => x.id), [d.id]);
  assert.is((await a.patch(`/v3/domains/${d.id}`, { domain: { description: 'new' } })).json.domain.description, 'new');
  assert.equal((await a.del(`/v3/domains/${d.id}`)).json.error, { code: 403, message: 'Cannot delete a domain that is enabled, please disable it first.', title: 'Forbidden' });
  assert.is((await a.patch(`/v3/domains/${d.id}`, { domain: { enabled: false } })).status, 200);
  assert.is((await a.del(`/v3/domains/${d.id}`)).status, 204);
  assert.is((await a.get(`/v3/domains/${d.id}`)).status, 404);
  assert.is((await a.post('/v3/domains', { domain: { name: 'dom1' } })).status, 201, 'the name is free again');
});

test('bad bodies are 400 and store nothing', async () => {
  const a = as(admin);
  const before = (await a.get('/v3/domains')).json.domains.length;
  const cases: [unknown, string][] = [
    [{ domain: {} }, "'name' is a required property"],
    [{ nodomain: {} }, "'domain' is a required property"],
    [{ domain: { name: '', enabled: 'yes' } }, "Invalid input for field 'name': '' should be non-empty"],
    [{ domain: { name: 'ok', enabled: 'yes' } }, "Invalid input for field 'enabled': 'yes' is not of type 'boolean'"],
    [{ domain: { name: 'x'.repeat(65) } }, `Invalid input for field 'name': '${'x'.repeat(65)}' is too long`],
    [{ domain: { name: 'ok', tags: ['a/b'] } }, "Invalid input for field 'tags': ['a/b'] has an invalid tag 'a/b'"],
  ];
  for (const [body, message] of cases) {
    const res = await a.post('/v3/domains', body);
    assert.is(res.status, 400, JSON.stringify(body));
    assert.equal(res.json.error, { code: 400, message, title: 'Bad Request' });
  }
  assert.is((await a.get('/v3/domains')).json.domains.length, before);
});

test('projects: parent_id, domain rules, filters, hierarchy (no disabling or deleting a parent first)', async () => {
  const a = as(admin);
  const dom = (await a.post('/v3/domains', { domain: { name: 'pdom' } })).json.domain;
  const parent = (await a.post('/v3/projects', { project: { name: 'parent', domain_id: dom.id, tags: ['a', 'b'] } })).json.project;
  assert.is(parent.parent_id, dom.id);
  assert.equal(parent.tags, ['a', 'b']);
  const dup = await a.post('/v3/projects', { project: { name: 'parent', domain_id: dom.id } });
  assert.is(dup.status, 409);
  assert.match(dup.json.error.message, /^Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is parent, project id [0-9a-f]{32}\.$/);
  assert.is((await a.post('/v3/projects', { project: { name: 'parent' } })).status, 201, 'the same name in another domain (default)');
  assert.equal((await a.post('/v3/projects', { project: { name: 'p4', domain_id: 'nope' } })).json.error.message, 'Could not find domain: nope.');
  assert.equal((await a.post('/v3/projects', { project: { name: 'p5', parent_id: 'nope' } })).json.error.message, 'Could not find project: nope.');
  assert.equal(
    (await a.post('/v3/projects', { project: { name: 'c0', parent_id: parent.id } })).json.error.message,
    `Cannot create project, since it specifies its domain_id default, but specifies a parent in a different domain (${dom.id}).`,
  );
  const child = (await a.post('/v3/projects', { project: { name: 'child', parent_id: parent.id, domain_id: dom.id } })).json.project;
  assert.is(child.parent_id, parent.id);
  assert.equal((await a.get(`/v3/projects?parent_id=${parent.id}`)).json.projects.map((p: { id: string }) => p.id), [child.id]);
  assert.equal((await a.get(`/v3/projects?domain_id=${dom.id}&name=child`)).json.projects.map((p: { id: string }) => p.id), [child.id]);
  const shown = (await a.get(`/v3/projects/${parent.id}?subtree_as_ids&parents_as_ids`)).json.project;
  assert.equal(shown.parents, { [dom.id]: null });
  assert.equal(shown.subtree, { [child.id]: null });
  assert.equal((await a.patch(`/v3/projects/${parent.id}`, { project: { enabled: false } })).json.error, { code: 403, message: `Cannot disable project ${parent.id} since its subtree contains enabled projects.`, title: 'Forbidden' });
  assert.is((await a.del(`/v3/projects/${parent.id}`)).status, 403);
  assert.equal((await a.patch(`/v3/projects/${parent.id}`, { project: { domain_id: 'default' } })).json.error.message, 'Cannot change Domain ID');
  assert.is((await a.patch(`/v3/projects/${child.id}`, { project: { name: 'parent' } })).status, 409, 'a rename onto a taken name');
  assert.is((await a.patch(`/v3/projects/${child.id}`, { project: { name: 'kid', enabled: false } })).json.project.name, 'kid');
  assert.equal((await a.get(`/v3/projects?domain_id=${dom.id}&enabled=false`)).json.projects.map((p: { name: string }) => p.name), ['kid']);
  assert.is((await a.get(`/v3/projects?domain_id=${dom.id}&name=child`)).json.projects.length, 0, 'the old name is free');
  assert.is((await a.del(`/v3/projects/${child.id}`)).status, 204);
  assert.is((await a.del(`/v3/projects/${parent.id}`)).status, 204);
});

test("a domain's id reads as a project with is_domain, as Keystone stores domains; other missing ids stay 404", async () => {
  const a = as(admin);
  const shown = await a.get('/v3/projects/default');
  assert.is(shown.status, 200);
  const p = shown.json.project;
  assert.equal([p.id, p.name, p.domain_id, p.parent_id, p.is_domain, p.enabled], ['default', 'Default', null, null, true, true]);
  assert.match(p.links.self, /\/v3\/projects\/default$/);
  const missing = await a.get('/v3/projects/no-such');
  assert.equal(missing.json.error, { code: 404, message: 'Could not find project: no-such.', title: 'Not Found' });
  assert.not.ok((await a.get('/v3/projects')).json.projects.some((x: { id: string }) => x.id === 'default'), 'lists show projects only');
});

test('users: no password or hash ever shown, 409 per domain, extra fields, own view only for non-admins', async () => {
  const a = as(admin);
  const made = await a.post('/v3/users', { user: { name: 'u1', password: 'pw1', email: 'u@x', description: 'ud' } });
  assert.is(made.status, 201);
  const u = made.json.user;
  assert.equal({ ...u, id: 'x', links: {} }, { email: 'u@x', description: 'ud', id: 'x', name: 'u1', domain_id: 'default', enabled: true, password_expires_at: null, options: {}, links: {} });
  assert.equal((await a.post('/v3/users', { user: { name: 'u1', password: 'x' } })).json.error.message, 'Conflict occurred attempting to store user - Duplicate entry found with name u1 at domain ID default.');
  const raw = JSON.stringify(await id.records.get('users', u.id));
  assert.not.match(raw, /pw1/, 'the stored record holds a hash, not the password');
  const listed = (await a.get('/v3/users?domain_id=default&name=u1')).json.users;
  assert.equal(listed.map((x: { id: string }) => x.id), [u.id]);
  assert.is(listed[0].password_hash, undefined);
  const mine = await id.token({ user: 'u1', password: 'pw1', scope: null });
  assert.is((await as(mine).get(`/v3/users/${u.id}`)).status, 200);
  const forbidden = await as(mine).get('/v3/users');
  assert.equal(forbidden.json.error, { code: 403, message: 'You are not authorized to perform the requested action: identity:list_users.', title: 'Forbidden' });
  const adminId = (await a.get('/v3/users?name=admin')).json.users[0].id;
  assert.is((await as(mine).get(`/v3/users/${adminId}`)).status, 403);
  assert.is((await as(mine).post('/v3/projects', { project: { name: 'mine' } })).status, 403);
  assert.is((await a.patch(`/v3/users/${u.id}`, { user: { name: 'admin' } })).status, 409);
  assert.is((await a.patch(`/v3/users/${u.id}`, { user: { enabled: false, description: 'dd' } })).json.user.description, 'dd');
  assert.is((await a.del(`/v3/users/${u.id}`)).status, 204);
  assert.equal((await a.del(`/v3/users/${u.id}`)).json.error, { code: 404, message: `Could not find user: ${u.id}.`, title: 'Not Found' });
});

test('groups and members: add, check, list both ways, remove; removing a member revokes their tokens', async () => {
  const a = as(admin);
  const g = (await a.post('/v3/groups', { group: { name: 'g1', description: 'gg' } })).json.group;
  assert.is((await a.post('/v3/groups', { group: { name: 'g1' } })).status, 409);
  const u = (await a.post('/v3/users', { user: { name: 'gm', password: 'pw' } })).json.user;
  assert.is((await a.put(`/v3/groups/${g.id}/users/${u.id}`)).status, 204);
  assert.is((await id.request('HEAD', `/v3/groups/${g.id}/users/${u.id}`, { token: admin })).status, 204);
  assert.equal((await a.get(`/v3/groups/${g.id}/users`)).json.users.map((x: { id: string }) => x.id), [u.id]);
  const groups = (await a.get(`/v3/users/${u.id}/groups`)).json.groups;
  assert.equal(groups.map((x: { id: string; membership_expires_at: null }) => [x.id, x.membership_expires_at]), [[g.id, null]]);
  const token = await id.token({ user: 'gm', password: 'pw', scope: null });
  assert.is((await a.del(`/v3/groups/${g.id}/users/${u.id}`)).status, 204);
  assert.is((await id.request('HEAD', `/v3/groups/${g.id}/users/${u.id}`, { token: admin })).status, 404);
  assert.is((await as(token).get(`/v3/users/${u.id}`)).status, 401);
  assert.is((await a.patch(`/v3/groups/${g.id}`, { group: { description: 'new' } })).json.group.description, 'new');
  assert.is((await a.del(`/v3/groups/${g.id}`)).status, 204);
});

test('roles: create, 409, show, set; bootstrap\'s roles are immutable; deleting a role revokes the tokens that carry it', async () => {
  const a = as(admin);
  const r = (await a.post('/v3/roles', { role: { name: 'role1', options: {} } })).json.role;
  assert.equal({ ...r, id: 'x', links: {} }, { id: 'x', name: 'role1', domain_id: null, description: null, options: {}, links: {} });
  assert.equal((await a.post('/v3/roles', { role: { name: 'role1' } })).json.error.message, 'Conflict occurred attempting to store role - Duplicate entry found with name role1.');
  assert.is((await a.patch(`/v3/roles/${r.id}`, { role: { description: 'rd', options: {} } })).json.role.description, 'rd');
  const adminRole = (await a.get('/v3/roles?name=admin')).json.roles[0];
  assert.equal(adminRole.options, { immutable: true });
  assert.is((await a.del(`/v3/roles/${adminRole.id}`)).status, 403);
  assert.equal((await a.patch(`/v3/roles/${adminRole.id}`, { role: { name: 'boss' } })).json.error.message, `Unable to update immutable role resource: \`${adminRole.id}. Set resource option "immutable" to false first.`);
  const demoProject = (await a.get('/v3/projects?name=demo')).json.projects[0];
  const demoUser = (await a.get('/v3/users?name=demo')).json.users[0];
  await a.put(`/v3/projects/${demoProject.id}/users/${demoUser.id}/roles/${r.id}`);
  const withRole = await id.token({ user: 'demo' });
  assert.is((await a.del(`/v3/roles/${r.id}`)).status, 204);
  assert.is((await as(withRole).get('/v3/auth/projects')).status, 401);
  assert.is((await as(await id.token({ user: 'demo' })).get('/v3/auth/projects')).status, 200);
});

test('unknown routes are 404 and wrong methods 405, both in Keystone\'s shape', async () => {
  const missing = await id.request('GET', '/v3/nothing', { token: admin });
  assert.is(missing.status, 404);
  assert.is(missing.json.error.code, 404);
  const wrong = await id.request('PUT', '/v3/users', { token: admin });
  assert.is(wrong.status, 405);
});

test.run();
