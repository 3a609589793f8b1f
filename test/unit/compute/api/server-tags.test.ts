import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ServerOnAgent, startServerOnAgent } from '../../../helpers/compute.ts';

/** `openstack server set/unset --tag`, `server create --tag` (2.52), `server list --tags`: Nova's server tags. */
const tags = suite('server tags');
let s: ServerOnAgent;
tags.before(async () => {
  s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
});
tags.after(() => s.close());

const call = (method: string, path: string, body?: unknown, version = '2.26') => s.c.request(method, `/v2.1/servers/${s.id}/tags${path}`, { token: s.demo, version, ...(body !== undefined ? { body } : {}) });

tags('one tag added (201 with its Location, 204 when there), checked, removed; PUT replaces, DELETE clears; server show has them', async () => {
  assert.equal((await call('GET', '')).json, { tags: [] });
  const added = await call('PUT', '/blue');
  assert.is(added.status, 201);
  assert.is(added.headers.location, `${new URL(added.headers.location ?? '').origin}/v2.1/servers/${s.id}/tags/blue`);
  assert.is((await call('PUT', '/blue')).status, 204, 'already there');
  assert.is((await call('GET', '/blue')).status, 204);
  assert.equal((await call('GET', '/red')).json, { itemNotFound: { code: 404, message: `Server ${s.id} has no tag 'red'` } });
  assert.equal((await call('PUT', '', { tags: ['a', 'b', 'a'] })).json, { tags: ['a', 'b'] });
  assert.equal((await s.c.request('GET', `/v2.1/servers/${s.id}`, { token: s.demo, version: '2.26' })).json.server.tags, ['a', 'b']);
  assert.is((await call('DELETE', '/a')).status, 204);
  assert.equal((await call('DELETE', '/a')).json, { itemNotFound: { code: 404, message: `Instance ${s.id} has no tag 'a'` } });
  assert.is((await call('DELETE', '')).status, 204);
  assert.equal((await call('GET', '')).json, { tags: [] });
});

tags("Nova's refusals: before 2.26 404; a tag with ',' or '/' 400; more than 50 400; nothing changed", async () => {
  assert.is((await call('GET', '', undefined, '2.25')).status, 404);
  assert.match((await call('PUT', '/a,b')).json.badRequest.message, /^Tag 'a,b' is invalid\. It must be a non empty string without characters '\/' and ','\. Validation error message: 'a,b' does not match '\^\[\^,\/\]\*\$'$/);
  assert.match((await call('PUT', '', { tags: ['ok', 'x'.repeat(61)] })).json.badRequest.message, /is too long$/);
  const fifty = Array.from({ length: 50 }, (_, i) => `t${i}`);
  assert.is((await call('PUT', '', { tags: [...fifty, 'one-more'] })).status, 400);
  assert.equal((await call('PUT', '', { tags: fifty })).json.tags.length, 50);
  assert.equal((await call('PUT', '/t0')).json, { badRequest: { code: 400, message: 'The number of tags exceeded the per-server limit 50' } });
  assert.is((await call('DELETE', '')).status, 204);
});

tags('a boot with tags (2.52) keeps them; server list filters by tags, tags-any, not-tags, not-tags-any', async () => {
  const net = [...s.c.networks.networks.keys()][0];
  const res = await s.c.request('POST', '/v2.1/servers', { token: s.demo, version: '2.52', body: { server: { name: 'tagged', imageRef: s.imageIds[0], flavorRef: '1', networks: [{ uuid: net }], tags: ['web', 'prod'] } } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  const id = res.json.server.id as string;
  assert.equal((await s.c.request('GET', `/v2.1/servers/${id}/tags`, { token: s.demo, version: '2.26' })).json.tags, ['web', 'prod']);
  await call('PUT', '', { tags: ['web'] });
  const names = async (query: string) => ((await s.c.request('GET', `/v2.1/servers?${query}`, { token: s.demo, version: '2.26' })).json.servers as Array<{ name: string }>).map((x) => x.name).sort();
  assert.equal(await names('tags=web,prod'), ['tagged']);
  assert.equal(await names('tags-any=prod,web'), ['tagged', 'vm']);
  assert.equal(await names('not-tags=web,prod'), ['vm']);
  assert.equal(await names('not-tags-any=prod'), ['vm']);
  assert.match((await s.c.request('POST', '/v2.1/servers', { token: s.demo, version: '2.52', body: { server: { name: 'bad', imageRef: s.imageIds[0], flavorRef: '1', networks: [{ uuid: net }], tags: ['a/b'] } } })).json.badRequest.message, /does not match/);
});

tags.run();
