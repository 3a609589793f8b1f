import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ServerOnAgent, startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server set/unset --property`: `/servers/{id}/metadata` as Nova's server_metadata.py answers. */
const meta = suite('server metadata');
let s: ServerOnAgent;
meta.before(async () => {
  s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
});
meta.after(() => s.close());

const call = (method: string, path: string, body?: unknown) => s.c.request(method, `/v2.1/servers/${s.id}/metadata${path}`, { token: s.demo, ...(body !== undefined ? { body } : {}) });

meta('POST merges, PUT replaces, one key is read, set and deleted; server show has them', async () => {
  assert.equal((await call('GET', '')).json, { metadata: {} });
  const merged = await call('POST', '', { metadata: { role: 'web', 'tier:a b.c_d-e': 'x' } });
  assert.is(merged.status, 200);
  assert.equal(merged.json, { metadata: { role: 'web', 'tier:a b.c_d-e': 'x' } });
  assert.equal((await call('POST', '', { metadata: { role: 'db' } })).json, { metadata: { role: 'db', 'tier:a b.c_d-e': 'x' } });
  assert.equal((await call('GET', '/role')).json, { meta: { role: 'db' } });
  assert.equal((await call('PUT', '/owner', { meta: { owner: 'ops' } })).json, { meta: { owner: 'ops' } });
  assert.is((await call('DELETE', '/role')).status, 204);
  assert.equal((await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.demo })).json.server.metadata, { 'tier:a b.c_d-e': 'x', owner: 'ops' });
  assert.equal((await call('PUT', '', { metadata: { only: '1' } })).json, { metadata: { only: '1' } });
  assert.equal((await call('GET', '')).json, { metadata: { only: '1' } });
});

meta("Nova's refusals: unknown key 404; URI and body mismatch 400; bad keys and values 400; over the quota 403; locked 409; an unknown server 404", async () => {
  assert.equal((await call('GET', '/nope')).json, { itemNotFound: { code: 404, message: 'Metadata item was not found' } });
  assert.equal((await call('DELETE', '/nope')).json, { itemNotFound: { code: 404, message: 'Metadata item was not found' } });
  assert.equal((await call('PUT', '/a', { meta: { b: '1' } })).json, { badRequest: { code: 400, message: 'Request body and URI mismatch' } });
  assert.match((await call('PUT', '/a', { meta: { a: '1', b: '2' } })).json.badRequest.message, /has too many properties$/);
  assert.match((await call('POST', '', { metadata: { 'a/b': '1' } })).json.badRequest.message, /^Invalid input for field\/attribute metadata\. .* 'a\/b' does not match any of the regexes: '\^\[a-zA-Z0-9-_:\. \]\{1,255\}\$'$/);
  assert.match((await call('POST', '', { metadata: { a: 1 } })).json.badRequest.message, /1 is not of type 'string'$/);
  assert.match((await call('POST', '', { metadata: { a: 'x'.repeat(256) } })).json.badRequest.message, /is too long$/);
  assert.match((await call('POST', '', { meta: {} })).json.badRequest.message, /'metadata' is a required property/);
  const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  assert.equal((await call('PUT', '', { metadata: many })).json, { forbidden: { code: 403, message: 'Maximum number of metadata items exceeds 128' } });
  assert.equal((await call('GET', '')).json, { metadata: { only: '1' } }, 'nothing changed');
  assert.is((await s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, body: { lock: null } })).status, 202);
  assert.equal((await call('POST', '', { metadata: { x: '1' } })).json, { conflictingRequest: { code: 409, message: `Instance ${s.id} is locked` } });
  assert.is((await s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, body: { unlock: null } })).status, 202);
  assert.is((await s.c.request('GET', '/v2.1/servers/00000000-0000-4000-8000-000000000000/metadata', { token: s.demo })).status, 404);
});

meta('a server create with more metadata than the quota allows is 403, and none is made', async () => {
  const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
  const net = [...s.c.networks.networks.keys()][0];
  const before = (await s.c.request('GET', '/v2.1/servers', { token: s.demo })).json.servers.length;
  const res = await s.c.request('POST', '/v2.1/servers', { token: s.demo, body: { server: { name: 'm', imageRef: s.imageIds[0], flavorRef: '1', networks: [{ uuid: net }], metadata: many } } });
  assert.equal(res.json, { forbidden: { code: 403, message: 'Maximum number of metadata items exceeds 128' } });
  assert.is((await s.c.request('GET', '/v2.1/servers', { token: s.demo })).json.servers.length, before);
});

meta.run();
