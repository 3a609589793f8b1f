import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIdentity, type TestIdentity } from '../../helpers/identity.ts';

/** OS-EP-FILTER project-endpoint associations and the catalog a project with some sees. */
let id: TestIdentity;
let admin: string;
let demoProject: string;
let endpointId: string;
test.before(async () => {
  id = await startIdentity();
  admin = await id.token();
  demoProject = (await id.request('GET', '/v3/projects?name=demo', { token: admin })).json.projects[0].id;
  const service = (await id.request('POST', '/v3/services', { token: admin, body: { service: { name: 'glance', type: 'image' } } })).json.service;
  endpointId = (await id.request('POST', '/v3/endpoints', { token: admin, body: { endpoint: { service_id: service.id, interface: 'public', url: 'http://img:9292', region_id: 'RegionOne' } } })).json.endpoint.id;
});
test.after(() => id.close());

const assoc = (method: string, project: string, endpoint: string, token = admin) => id.request(method, `/v3/OS-EP-FILTER/projects/${project}/endpoints/${endpoint}`, { token });
const catalogTypes = async (token: string): Promise<string[]> => (await id.request('GET', '/v3/auth/catalog', { token })).json.catalog.map((s: { type: string }) => s.type).sort();

test('add, check, list both ways, remove; a project with associations sees only those endpoints', async () => {
  assert.equal(await catalogTypes(await id.token({ user: 'demo' })), ['identity', 'image', 'object-store'], 'no association: the whole catalog');
  assert.is((await assoc('PUT', demoProject, endpointId)).status, 204);
  const again = await assoc('PUT', demoProject, endpointId);
  assert.equal([again.status, again.json.error.message], [409, 'Conflict occurred attempting to store project_endpoint - Duplicate entry.']);
  assert.is((await assoc('HEAD', demoProject, endpointId)).status, 204);
  assert.is((await assoc('GET', demoProject, endpointId)).status, 204);
  const endpoints = await id.request('GET', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints`, { token: admin });
  assert.equal(endpoints.json.endpoints.map((e: { id: string; url: string }) => [e.id, e.url]), [[endpointId, 'http://img:9292']]);
  const projects = await id.request('GET', `/v3/OS-EP-FILTER/endpoints/${endpointId}/projects`, { token: admin });
  assert.equal(projects.json.projects.map((p: { id: string; name: string }) => [p.id, p.name]), [[demoProject, 'demo']]);
  const demo = await id.token({ user: 'demo' });
  assert.equal(await catalogTypes(demo), ['image']);
  assert.equal(await catalogTypes(admin), ['identity', 'object-store'].concat(['image']).sort(), "other projects' catalogs are whole");
  assert.is((await assoc('DELETE', demoProject, endpointId)).status, 204);
  const gone = await assoc('GET', demoProject, endpointId);
  assert.equal([gone.status, gone.json.error.message], [404, `Endpoint ${endpointId} not found in project ${demoProject}`]);
  assert.is((await assoc('DELETE', demoProject, endpointId)).status, 404);
  assert.equal(await catalogTypes(await id.token({ user: 'demo' })), ['identity', 'image', 'object-store']);
});

test('unknown endpoint or project is 404 and nothing is stored; members are refused', async () => {
  const noEndpoint = await assoc('PUT', demoProject, 'nope');
  assert.equal([noEndpoint.status, noEndpoint.json.error.message], [404, 'Could not find endpoint: nope.']);
  const noProject = await assoc('PUT', 'nope', endpointId);
  assert.equal([noProject.status, noProject.json.error.message], [404, 'Could not find project: nope.']);
  assert.equal((await id.request('GET', `/v3/OS-EP-FILTER/endpoints/${endpointId}/projects`, { token: admin })).json.projects, []);
  assert.is((await id.request('GET', '/v3/OS-EP-FILTER/projects/nope/endpoints', { token: admin })).status, 404);
  const demo = await id.token({ user: 'demo' });
  const refused = await assoc('PUT', demoProject, endpointId, demo);
  assert.equal([refused.status, refused.json.error.message], [403, 'You are not authorized to perform the requested action: identity:add_endpoint_to_project.']);
  assert.is((await id.request('GET', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints`, { token: demo })).status, 403);
  assert.is((await assoc('GET', demoProject, endpointId)).status, 404, 'the refused PUT stored nothing');
});

test('associations go with their endpoint and with their project', async () => {
  const project = (await id.request('POST', '/v3/projects', { token: admin, body: { project: { name: 'p2', domain_id: 'default' } } })).json.project;
  assert.is((await assoc('PUT', project.id, endpointId)).status, 204);
  assert.is((await id.request('DELETE', `/v3/projects/${project.id}`, { token: admin })).status, 204);
  assert.equal((await id.request('GET', `/v3/OS-EP-FILTER/endpoints/${endpointId}/projects`, { token: admin })).json.projects, []);
  assert.is((await assoc('PUT', demoProject, endpointId)).status, 204);
  assert.is((await id.request('DELETE', `/v3/endpoints/${endpointId}`, { token: admin })).status, 204);
  assert.equal((await id.request('GET', `/v3/OS-EP-FILTER/projects/${demoProject}/endpoints`, { token: admin })).json.endpoints, []);
  assert.equal(await id.records.get('project-endpoints', `${demoProject}/${endpointId}`), undefined);
  assert.equal(await catalogTypes(await id.token({ user: 'demo' })), ['identity', 'image', 'object-store']);
});

test.run();
