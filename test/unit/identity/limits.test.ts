import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** Unified limits: registered limits, project and domain limits, the model, and who sees what. */
let id: TestIdentity;
let system: string;
let demo: string;
let serviceId: string;
let demoProject: string;
test.before(async () => {
  id = await startIdentity();
  system = await id.token({ scope: { system: { all: true } } });
  demo = await id.token({ user: 'demo' });
  serviceId = (await id.request('POST', '/v3/services', { token: system, body: { service: { name: 'nova', type: 'compute' } } })).json.service.id;
  demoProject = (await id.request('GET', '/v3/projects?name=demo', { token: system })).json.projects[0].id;
});
test.after(() => id.close());

const registered = (body: unknown, token = system) => id.request('POST', '/v3/registered_limits', { token, body });
const limits = (body: unknown, token = system) => id.request('POST', '/v3/limits', { token, body });
const count = async (path: string, key: string): Promise<number> => (await id.request('GET', path, { token: system })).json[key].length;

test('a system-scoped admin registers limits; anyone with a token reads them, with Keystone\'s filters', async () => {
  const made = await registered({ registered_limits: [
    { service_id: serviceId, resource_name: 'cores', default_limit: 10, description: 'vcpus' },
    { service_id: serviceId, region_id: 'RegionOne', resource_name: 'ram', default_limit: 2048 },
  ] });
  assert.is(made.status, 201);
  assert.equal(Object.keys(made.json), ['registered_limits']);
  const [cores, ram] = made.json.registered_limits;
  assert.equal({ ...cores, id: 'x' }, { id: 'x', service_id: serviceId, region_id: null, resource_name: 'cores', default_limit: 10, description: 'vcpus', links: { self: `${id.url}/v3/registered_limits/${cores.id}` } });
  assert.is(ram.region_id, 'RegionOne');
  assert.is(ram.description, null);
  const shown = await id.request('GET', `/v3/registered_limits/${cores.id}`, { token: demo });
  assert.is(shown.status, 200);
  assert.equal(shown.json.registered_limit, cores);
  const filtered = await id.request('GET', `/v3/registered_limits?service_id=${serviceId}&region_id=RegionOne`, { token: demo });
  assert.equal(filtered.json.registered_limits.map((r: { resource_name: string }) => r.resource_name), ['ram']);
  assert.equal((await id.request('GET', '/v3/registered_limits?resource_name=cores', { token: demo })).json.registered_limits.map((r: { id: string }) => r.id), [cores.id]);
  assert.equal((await id.request('GET', '/v3/registered_limits?service_id=nope', { token: demo })).json.error.message, "Invalid input for field 'service_id': 'nope' is not a 'uuid'");
  const missing = await id.request('GET', '/v3/registered_limits/nope', { token: demo });
  assert.equal([missing.status, missing.json.error.message], [404, 'Could not find registered limit for nope.']);
});

test('registered limits: bad input is Keystone\'s 400, a duplicate 409, a member 403, and a failed batch creates nothing', async () => {
  const before = await count('/v3/registered_limits', 'registered_limits');
  const cases: [unknown, number, string][] = [
    [{}, 400, "'registered_limits' is a required property"],
    [{ registered_limits: [] }, 400, "Invalid input for field 'registered_limits': [] should be non-empty"],
    [{ registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: -2 }] }, 400, "Invalid input for field 'registered_limits/0/default_limit': -2 is less than the minimum of -1"],
    [{ registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 2147483648 }] }, 400, "Invalid input for field 'registered_limits/0/default_limit': 2147483648 is greater than the maximum of 2147483647"],
    [{ registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: '5' }] }, 400, "Invalid input for field 'registered_limits/0/default_limit': '5' is not of type 'integer'"],
    [{ registered_limits: [{ resource_name: 'x', default_limit: 1 }] }, 400, "Invalid input for field 'registered_limits/0': 'service_id' is a required property"],
    [{ registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 1, bogus: 1 }] }, 400, "Invalid input for field 'registered_limits/0': Additional properties are not allowed ('bogus' was unexpected)"],
    [{ registered_limits: [{ service_id: 'f'.repeat(32), resource_name: 'x', default_limit: 1 }] }, 400, 'Expecting to find service_id in registered_limit. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.'],
    [{ registered_limits: [{ service_id: serviceId, region_id: 'Nowhere', resource_name: 'x', default_limit: 1 }] }, 400, 'Expecting to find region_id in registered_limit. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.'],
    [{ registered_limits: [{ service_id: serviceId, resource_name: 'fresh', default_limit: 1 }, { service_id: serviceId, resource_name: 'cores', default_limit: 1 }] }, 409, 'Conflict occurred attempting to store registered_limit - Duplicate entry.'],
    [{ registered_limits: [{ service_id: serviceId, resource_name: 'twice', default_limit: 1 }, { service_id: serviceId, resource_name: 'twice', default_limit: 2 }] }, 409, 'Conflict occurred attempting to store registered_limit - Duplicate entry.'],
  ];
  for (const [body, status, message] of cases) {
    const res = await registered(body);
    assert.equal([res.status, res.json.error.message], [status, message], JSON.stringify(body));
  }
  const refused = await registered({ registered_limits: [{ service_id: serviceId, resource_name: 'x', default_limit: 1 }] }, demo);
  assert.equal([refused.status, refused.json.error.message], [403, 'You are not authorized to perform the requested action: identity:create_registered_limits.']);
  assert.is(await count('/v3/registered_limits', 'registered_limits'), before, 'nothing was created');
});

test('limits: a project\'s and a domain\'s, over a registered limit; 403 without one, 409 twice, 400 for both or neither owner', async () => {
  const made = await limits({ limits: [
    { service_id: serviceId, resource_name: 'cores', resource_limit: 20, project_id: demoProject, description: 'more' },
    { service_id: serviceId, region_id: 'RegionOne', resource_name: 'ram', resource_limit: 4096, domain_id: 'default' },
  ] });
  assert.is(made.status, 201);
  const [project, domain] = made.json.limits;
  assert.equal({ ...project, id: 'x' }, { id: 'x', project_id: demoProject, domain_id: null, service_id: serviceId, region_id: null, resource_name: 'cores', resource_limit: 20, description: 'more', links: { self: `${id.url}/v3/limits/${project.id}` } });
  assert.equal([domain.domain_id, domain.project_id, domain.region_id, domain.resource_name], ['default', null, 'RegionOne', 'ram']);
  const before = await count('/v3/limits', 'limits');
  const cases: [unknown, number, string][] = [
    [{ limits: [{ service_id: serviceId, resource_name: 'disk', resource_limit: 1, project_id: demoProject }] }, 403, 'Unable to create a limit that has no corresponding registered limit.'],
    [{ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 1, project_id: demoProject }] }, 409, 'Conflict occurred attempting to store limit - Duplicate entry.'],
    [{ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 1 }] }, 400, `Invalid input for field 'limits/0': {'service_id': '${serviceId}', 'resource_name': 'cores', 'resource_limit': 1} is not valid under any of the given schemas`],
    [{ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 1, project_id: 'nope' }] }, 400, 'Expecting to find project_id in limit. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.'],
    [{ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 1, domain_id: 'default', extra: 1 }] }, 400, "Invalid input for field 'limits/0': Additional properties are not allowed ('extra' was unexpected)"],
  ];
  for (const [body, status, message] of cases) {
    const res = await limits(body);
    assert.equal([res.status, res.json.error.message], [status, message], JSON.stringify(body));
  }
  const both = await limits({ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 1, domain_id: 'default', project_id: demoProject }] });
  assert.is(both.status, 400);
  assert.match(both.json.error.message, /is valid under each of/);
  assert.is((await limits({ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 1, domain_id: 'default' }] }, demo)).status, 403);
  assert.is(await count('/v3/limits', 'limits'), before, 'nothing was created');
  // The registered limit they use can be neither changed nor deleted.
  const cores = (await id.request('GET', '/v3/registered_limits?resource_name=cores', { token: system })).json.registered_limits[0];
  const inUse = `Unable to update or delete registered limit ${cores.id} because there are project limits associated with it.`;
  const patched = await id.request('PATCH', `/v3/registered_limits/${cores.id}`, { token: system, body: { registered_limit: { default_limit: 11 } } });
  assert.equal([patched.status, patched.json.error.message], [403, inUse]);
  const deleted = await id.request('DELETE', `/v3/registered_limits/${cores.id}`, { token: system });
  assert.equal([deleted.status, deleted.json.error.message], [403, inUse]);
  assert.is((await id.request('GET', `/v3/registered_limits/${cores.id}`, { token: system })).json.registered_limit.default_limit, 10);
});

test('who sees which limits: admins and system tokens all, a project token its own; one limit 403 to others', async () => {
  const all = (await id.request('GET', '/v3/limits', { token: system })).json.limits;
  assert.ok(all.length >= 2);
  const mine = (await id.request('GET', '/v3/limits', { token: demo })).json.limits;
  assert.ok(mine.length >= 1 && mine.every((l: { project_id: string }) => l.project_id === demoProject));
  assert.equal((await id.request('GET', `/v3/limits?domain_id=default&service_id=${serviceId}`, { token: system })).json.limits.map((l: { resource_name: string }) => l.resource_name), ['ram']);
  assert.equal((await id.request('GET', '/v3/limits?resource_name=cores', { token: system })).json.limits.map((l: { project_id: string }) => l.project_id), [demoProject]);
  const domainLimit = all.find((l: { domain_id: string | null }) => l.domain_id === 'default');
  const refused = await id.request('GET', `/v3/limits/${domainLimit.id}`, { token: demo });
  assert.equal([refused.status, refused.json.error.message], [403, 'You are not authorized to perform the requested action: identity:get_limit.']);
  assert.is((await id.request('GET', `/v3/limits/${mine[0].id}`, { token: demo })).json.limit.id, mine[0].id);
  const missing = await id.request('GET', '/v3/limits/nope', { token: system });
  assert.equal([missing.status, missing.json.error.message], [404, 'Could not find limit for nope.']);
  assert.equal((await id.request('GET', '/v3/limits/model', { token: demo })).json, { model: { name: 'flat', description: 'Limit enforcement and validation does not take project hierarchy into consideration.' } });
});

test('update and delete: a limit\'s value and description only; a free registered limit changes, collides (409) and goes', async () => {
  const limit = (await id.request('GET', '/v3/limits?resource_name=cores', { token: system })).json.limits[0];
  const set = await id.request('PATCH', `/v3/limits/${limit.id}`, { token: system, body: { limit: { resource_limit: 5, description: 'fewer' } } });
  assert.equal([set.status, set.json.limit.resource_limit, set.json.limit.description, set.json.limit.resource_name], [200, 5, 'fewer', 'cores']);
  const bad = await id.request('PATCH', `/v3/limits/${limit.id}`, { token: system, body: { limit: { project_id: 'x' } } });
  assert.equal([bad.status, bad.json.error.message], [400, "Invalid input for field 'limit': Additional properties are not allowed ('project_id' was unexpected)"]);
  assert.is((await id.request('PATCH', `/v3/limits/${limit.id}`, { token: demo, body: { limit: { resource_limit: 99 } } })).status, 403);
  assert.is((await id.request('GET', `/v3/limits/${limit.id}`, { token: system })).json.limit.resource_limit, 5);
  const [a, b] = (await registered({ registered_limits: [{ service_id: serviceId, resource_name: 'a', default_limit: 1 }, { service_id: serviceId, resource_name: 'b', default_limit: 1 }] })).json.registered_limits;
  const renamed = await id.request('PATCH', `/v3/registered_limits/${a.id}`, { token: system, body: { registered_limit: { resource_name: 'a2', region_id: 'RegionOne', description: 'moved' } } });
  assert.equal([renamed.status, renamed.json.registered_limit.resource_name, renamed.json.registered_limit.region_id, renamed.json.registered_limit.description], [200, 'a2', 'RegionOne', 'moved']);
  const clash = await id.request('PATCH', `/v3/registered_limits/${b.id}`, { token: system, body: { registered_limit: { resource_name: 'a2', region_id: 'RegionOne' } } });
  assert.equal([clash.status, clash.json.error.message], [409, 'Conflict occurred attempting to store registered_limit - Duplicate entry.']);
  assert.is((await id.request('GET', `/v3/registered_limits/${b.id}`, { token: system })).json.registered_limit.resource_name, 'b');
  assert.is((await id.request('DELETE', `/v3/registered_limits/${a.id}`, { token: system })).status, 204);
  assert.is((await registered({ registered_limits: [{ service_id: serviceId, region_id: 'RegionOne', resource_name: 'a2', default_limit: 3 }] })).status, 201, 'its key is free again');
  assert.is((await id.request('DELETE', `/v3/limits/${limit.id}`, { token: demo })).status, 403);
  assert.is((await id.request('DELETE', `/v3/limits/${limit.id}`, { token: system })).status, 204);
  assert.is((await id.request('GET', `/v3/limits/${limit.id}`, { token: system })).status, 404);
});

test('a deleted project\'s limits go with it', async () => {
  const project = (await id.request('POST', '/v3/projects', { token: system, body: { project: { name: 'doomed', domain_id: 'default' } } })).json.project;
  const made = await limits({ limits: [{ service_id: serviceId, resource_name: 'cores', resource_limit: 3, project_id: project.id }] });
  assert.is(made.status, 201);
  assert.is((await id.request('DELETE', `/v3/projects/${project.id}`, { token: system })).status, 204);
  assert.is((await id.request('GET', `/v3/limits/${made.json.limits[0].id}`, { token: system })).status, 404);
  assert.equal((await id.request('GET', `/v3/limits?project_id=${project.id}`, { token: system })).json.limits, []);
});

test.run();
