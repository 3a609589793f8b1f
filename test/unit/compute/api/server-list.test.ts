import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../../client/memory-record-store.ts';
import type { StoredRecord } from '../../../../client/record-store.ts';
import { T } from '../../../../compute/records.ts';
import { indexPrefix, serverOrderKey, unindexServer } from '../../../../compute/server-index.ts';
import type { ServerRecord } from '../../../../compute/server-record.ts';
import { startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** A memory store that counts the server records read. */
class CountingStore extends MemoryRecordStore {
  serverReads = 0;
  override get<V = unknown>(type: string, key: string): Promise<StoredRecord<V> | undefined> {
    if (type === T.servers) this.serverReads++;
    return super.get<V>(type, key);
  }
}

/** `openstack server list [--limit N] [--marker ID]`: Nova's default order, paged from the list index. */
let c: TestCompute;
let records: CountingStore;
let admin: string;
let demo: string;
let mine: string[];
test.before(async () => {
  records = new CountingStore();
  c = await startCompute({ records });
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  await c.request('PUT', `/v2.1/os-quota-sets/${(await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).json.token.project.id}`, { token: admin, body: { quota_set: { instances: -1, cores: -1, ram: -1 } } });
  const imageRef = c.images.add({ data: Buffer.alloc(512) }).id;
  // No host registered: the servers stay ERROR (No valid host), which is all a list needs.
  for (let i = 0; i < 3; i++) await c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name: `vm${i}`, imageRef, flavorRef: '1', networks: 'none', min_count: 10 } } });
  await c.request('POST', '/v2.1/servers', { token: admin, version: '2.37', body: { server: { name: 'admins', imageRef, flavorRef: '1', networks: 'none' } } });
  // Nova's default order (created_at, then id, both descending), as the sorted path gives it in reverse.
  const asc = await c.request('GET', '/v2.1/servers?sort_key=created_at&sort_dir=asc', { token: demo });
  mine = asc.json.servers.map((s: { id: string }) => s.id).reverse();
});
test.after(() => c.close());

const ids = (res: { json: { servers: { id: string }[] } }) => res.json.servers.map((s) => s.id);

test('the default list is Nova\'s order, and pages with --limit and the next link until the end', async () => {
  assert.is(mine.length, 30);
  assert.equal(ids(await c.request('GET', '/v2.1/servers', { token: demo })), mine);
  const seen: string[] = [];
  let path: string | undefined = '/v2.1/servers/detail?limit=7';
  while (path) {
    const res = await c.request('GET', path, { token: demo });
    seen.push(...ids(res));
    const next = res.json.servers_links?.[0]?.href as string | undefined;
    path = next === undefined ? undefined : next.slice(next.indexOf('/v2.1'));
  }
  assert.equal(seen, mine);
});

test('one page reads the servers on it, not every server', async () => {
  records.serverReads = 0;
  const res = await c.request('GET', `/v2.1/servers/detail?limit=5&marker=${mine[9]}`, { token: demo });
  assert.equal(ids(res), mine.slice(10, 15));
  assert.ok(records.serverReads <= 6, `${records.serverReads} server records read for a page of 5`);
});

test('filters walk the index until the page is full; all_tenants sees every project; a bad marker is 400', async () => {
  const named = await c.request('GET', '/v2.1/servers?name=^vm1-&limit=4', { token: demo });
  const every = (await c.request('GET', '/v2.1/servers/detail', { token: demo })).json.servers as { id: string; name: string }[];
  assert.equal(ids(named), every.filter((s) => /^vm1-/.test(s.name)).slice(0, 4).map((s) => s.id));
  assert.is(ids(named).length, 4);
  const all = await c.request('GET', '/v2.1/servers?all_tenants=1', { token: admin });
  assert.is(all.json.servers.length, 31);
  assert.is((await c.request('GET', '/v2.1/servers', { token: admin })).json.servers.length, 1);
  assert.equal((await c.request('GET', '/v2.1/servers?marker=6f2b1f0a-95c4-4b0e-9a8e-3d3e0f6f1a11', { token: demo })).json, { badRequest: { code: 400, message: 'marker [6f2b1f0a-95c4-4b0e-9a8e-3d3e0f6f1a11] not found' } });
});

test('servers made before the index existed are indexed at start; a deleted server leaves the index', async () => {
  // Five servers lose both entries; a sixth only its project's (a delete cut short in between).
  const servers = await Promise.all(mine.slice(0, 6).map(async (id) => (await records.get<ServerRecord>(T.servers, id))?.value as ServerRecord));
  for (const s of servers.slice(0, 5)) await unindexServer(c.service.store, s);
  await records.delete(T.serverIndex, `${indexPrefix((servers[5] as ServerRecord).project_id)}${serverOrderKey(servers[5] as ServerRecord)}`);
  assert.is(ids(await c.request('GET', '/v2.1/servers', { token: demo })).length, 24);
  assert.is(await c.service.indexServers(), 6);
  assert.is(await c.service.indexServers(), 0);
  assert.equal(ids(await c.request('GET', '/v2.1/servers', { token: demo })), mine);
  assert.is((await c.request('DELETE', `/v2.1/servers/${mine[0]}`, { token: demo })).status, 204);
  assert.equal(ids(await c.request('GET', '/v2.1/servers', { token: demo })), mine.slice(1));
  assert.is((await records.list(T.serverIndex)).entries.length, 2 * 30);
});

test.run();
