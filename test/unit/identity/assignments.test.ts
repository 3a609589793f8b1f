import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type JsonResponse, startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** Grants, implied roles and `/v3/role_assignments`, in Keystone's shapes. */
let id: TestIdentity;
let admin: string;
const ids: Record<string, string> = {};
test.before(async () => {
  id = await startIdentity();
  admin = await id.token();
  const post = async (path: string, body: unknown): Promise<JsonResponse['json']> => (await id.request('POST', path, { token: admin, body })).json;
  ids['dom'] = (await post('/v3/domains', { domain: { name: 'adom' } })).domain.id;
  ids['proj'] = (await post('/v3/projects', { project: { name: 'aproj', domain_id: ids['dom'] } })).project.id;
  ids['child'] = (await post('/v3/projects', { project: { name: 'achild', domain_id: ids['dom'], parent_id: ids['proj'] } })).project.id;
  ids['user'] = (await post('/v3/users', { user: { name: 'auser', domain_id: ids['dom'], password: 'pw' } })).user.id;
  ids['group'] = (await post('/v3/groups', { group: { name: 'agroup', domain_id: ids['dom'] } })).group.id;
  for (const r of (await id.request('GET', '/v3/roles', { token: admin })).json.roles) ids[r.name] = r.id;
  await id.request('PUT', `/v3/groups/${ids['group']}/users/${ids['user']}`, { token: admin });
});
test.after(() => id.close());

const put = (path: string) => id.request('PUT', path, { token: admin });

test('grants: PUT, check with GET and HEAD, list, 404 for a missing role or grant with Keystone\'s message', async () => {
  const grant = `/v3/projects/${ids['proj']}/users/${ids['user']}/roles`;
  assert.equal((await put(`${grant}/nope`)).json.error, { code: 404, message: 'Could not find role: nope.', title: 'Not Found' });
  assert.is((await put(`${grant}/${ids['member']}`)).status, 204);
  assert.is((await put(`${grant}/${ids['member']}`)).status, 204, 'granting twice is fine');
  assert.is((await id.request('HEAD', `${grant}/${ids['member']}`, { token: admin })).status, 204);
  const missing = await id.request('GET', `${grant}/${ids['admin']}`, { token: admin });
  assert.equal(missing.json.error.message, `Could not find role assignment with role: ${ids['admin']}, user or group: ${ids['user']}, project, domain, or system: ${ids['proj']}.`);
  assert.equal((await id.request('GET', grant, { token: admin })).json.roles.map((r: { name: string }) => r.name), ['member']);
  assert.is((await put(`/v3/projects/nope/users/${ids['user']}/roles/${ids['member']}`)).status, 404);
  assert.is((await put(`/v3/domains/${ids['dom']}/groups/${ids['group']}/roles/${ids['reader']}`)).status, 204);
  assert.is((await put(`/v3/system/users/${ids['user']}/roles/${ids['reader']}`)).status, 204);
  assert.equal((await id.request('GET', `/v3/system/users/${ids['user']}/roles`, { token: admin })).json.roles.map((r: { name: string }) => r.name), ['reader']);
});

test('role_assignments: raw, filtered, effective (group members and implied roles, with Keystone\'s links), include_names', async () => {
  const list = async (query: string): Promise<JsonResponse['json'][]> => (await id.request('GET', `/v3/role_assignments?${query}`, { token: admin })).json.role_assignments;
  const onProject = await list(`scope.project.id=${ids['proj']}`);
  assert.equal(onProject, [
    {
      links: { assignment: `${id.url}/v3/projects/${ids['proj']}/users/${ids['user']}/roles/${ids['member']}` },
      role: { id: ids['member'] },
      scope: { project: { id: ids['proj'] } },
      user: { id: ids['user'] },
    },
  ]);
  assert.equal((await list(`scope.domain.id=${ids['dom']}`)).map((a) => [a.group?.id, a.role.id]), [[ids['group'], ids['reader']]]);
  assert.equal((await list('scope.system=all')).map((a) => a.user.id).sort(), [ids['user'], (await id.request('GET', '/v3/users?name=admin', { token: admin })).json.users[0].id].sort());
  const effective = await list(`user.id=${ids['user']}&effective&include_names`);
  const byRole = (roleId: string, scopeKey: string) => effective.find((a) => a.role.id === roleId && a.scope[scopeKey]);
  const implied = byRole(ids['reader'] as string, 'project');
  assert.equal(implied.links, {
    assignment: `${id.url}/v3/projects/${ids['proj']}/users/${ids['user']}/roles/${ids['member']}`,
    prior_role: `${id.url}/v3/prior_role/${ids['reader']}/implies/${ids['member']}`,
  });
  const viaGroup = byRole(ids['reader'] as string, 'domain');
  assert.equal(viaGroup.links, {
    assignment: `${id.url}/v3/domains/${ids['dom']}/groups/${ids['group']}/roles/${ids['reader']}`,
    membership: `${id.url}/v3/groups/${ids['group']}/users/${ids['user']}`,
  });
  assert.equal(viaGroup.user, { id: ids['user'], name: 'auser', domain: { id: ids['dom'], name: 'adom' } });
  assert.equal(viaGroup.scope, { domain: { id: ids['dom'], name: 'adom' } });
  assert.equal(byRole(ids['member'] as string, 'project').scope, { project: { id: ids['proj'], name: 'aproj', domain: { id: ids['dom'], name: 'adom' } } });
  assert.is(effective.filter((a) => a.group).length, 0, 'effective shows users, not groups');
  const subtree = await list(`scope.project.id=${ids['proj']}&include_subtree=true`);
  assert.is(subtree.length, 1);
  const bad = await id.request('GET', `/v3/role_assignments?group.id=${ids['group']}&user.id=${ids['user']}`, { token: admin });
  assert.equal(bad.json.error, { code: 400, message: 'Specify a user or group, not both', title: 'Bad Request' });
  assert.is((await id.request('GET', '/v3/role_assignments', { token: await id.token({ user: 'auser', password: 'pw', domain: 'adom', scope: null }) })).status, 403);
});

test('a user scopes to a project through a group grant, with the implied roles', async () => {
  const r2 = (await id.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'via-group', domain_id: ids['dom'] } } })).json.project.id;
  assert.is((await put(`/v3/projects/${r2}/groups/${ids['group']}/roles/${ids['member']}`)).status, 204);
  const token = await id.request('POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'auser', domain: { name: 'adom' }, password: 'pw' } } }, scope: { project: { id: r2 } } } } });
  assert.is(token.status, 201);
  assert.equal(token.json.token.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
});

test('removing a grant revokes the tokens that carried it; other tokens of the user live on', async () => {
  const projectToken = await id.token({ user: 'auser', password: 'pw', domain: 'adom', scope: { project: { id: ids['proj'] } } });
  const unscoped = await id.token({ user: 'auser', password: 'pw', domain: 'adom', scope: null });
  assert.is((await id.request('DELETE', `/v3/projects/${ids['proj']}/users/${ids['user']}/roles/${ids['member']}`, { token: admin })).status, 204);
  assert.is((await id.request('GET', '/v3/auth/projects', { token: projectToken })).status, 401);
  assert.is((await id.request('GET', '/v3/auth/projects', { token: unscoped })).status, 200);
  assert.is((await id.request('DELETE', `/v3/projects/${ids['proj']}/users/${ids['user']}/roles/${ids['member']}`, { token: admin })).status, 404);
});

test('implied roles: create (201 with both roles), check, list, inferences, no cycles, admin never implied, delete', async () => {
  const r1 = (await id.request('POST', '/v3/roles', { token: admin, body: { role: { name: 'r9' } } })).json.role;
  const made = await put(`/v3/roles/${r1.id}/implies/${ids['reader']}`);
  assert.is(made.status, 201);
  assert.equal(made.json.role_inference, {
    prior_role: { id: r1.id, links: { self: `${id.url}/v3/roles/${r1.id}` }, name: 'r9' },
    implies: { id: ids['reader'], links: { self: `${id.url}/v3/roles/${ids['reader']}` }, name: 'reader' },
  });
  assert.is((await id.request('HEAD', `/v3/roles/${r1.id}/implies/${ids['reader']}`, { token: admin })).status, 204);
  assert.equal((await id.request('GET', `/v3/roles/${ids['admin']}/implies`, { token: admin })).json.role_inference.implies.map((r: { name: string }) => r.name), ['member']);
  const inferences = (await id.request('GET', '/v3/role_inferences', { token: admin })).json.role_inferences;
  assert.ok(inferences.some((i: JsonResponse['json']) => i.prior_role.name === 'member' && i.implies[0].name === 'reader'));
  assert.is((await put(`/v3/roles/${ids['reader']}/implies/${r1.id}`)).status, 403, 'reader -> r9 -> reader would be a cycle');
  assert.is((await put(`/v3/roles/${r1.id}/implies/${ids['admin']}`)).status, 403);
  assert.is((await id.request('DELETE', `/v3/roles/${r1.id}/implies/${ids['reader']}`, { token: admin })).status, 204);
  assert.is((await id.request('GET', `/v3/roles/${r1.id}/implies/${ids['reader']}`, { token: admin })).status, 404);
});

test.run();
