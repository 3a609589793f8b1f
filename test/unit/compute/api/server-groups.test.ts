import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../../../common/logger.ts';
import { updateRecord } from '../../../../client/record-update.ts';
import type { BuildRequest } from '../../../../compute/build-request.ts';
import { RecordHostStateStore } from '../../../../compute/host-store.ts';
import { placeBuilds } from '../../../../compute/placement.ts';
import { T } from '../../../../compute/records.ts';
import type { ServerGroupRecord } from '../../../../compute/server-group-record.ts';
import type { ServerRecord } from '../../../../compute/server-record.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import { makeAgent, startCompute, type TestCompute } from '../../../helpers/compute.ts';

/**
 * `openstack server group create/list/show/delete` and `server create --hint group=<id>`:
 * Nova's shapes per microversion, its refusals, members kept as servers come and go, and the
 * hard policies held by the scheduler and the claims, concurrent boots included.
 */
let c: TestCompute;
let admin: string;
let demo: string;
let agents: Awaited<ReturnType<typeof makeAgent>>[];
let imageId: string;
test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  agents = [await makeAgent(c, 'node1'), await makeAgent(c, 'node2'), await makeAgent(c, 'node3')];
  for (const a of agents) await a.agent.register();
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  imageId = c.images.add({ data: Buffer.alloc(512) }).id;
});
test.after(async () => {
  for (const a of agents) await a.remove();
  await c.close();
});

const createGroup = (server_group: Record<string, unknown>, version = '2.64', token = demo) => c.request('POST', '/v2.1/os-server-groups', { token, version, body: { server_group } });
const boot = (group: string, name = 'vm', extra: Record<string, unknown> = {}) =>
  c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name, imageRef: imageId, flavorRef: '1', networks: 'none', ...extra }, 'os:scheduler_hints': { group } } });
const show = async (id: string, version = '2.71') => (await c.request('GET', `/v2.1/servers/${id}`, { token: admin, version })).json.server;
/** A server as the API writes it before placement (building, scheduling, no host). */
function serverRecord(uuid: string, group: string): ServerRecord {
  const now = `${new Date().toISOString().slice(0, 19)}Z`;
  return {
    uuid, name: uuid, description: null, project_id: 'p', user_id: 'u', image_ref: imageId,
    flavor: { flavorid: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, extra_specs: {} },
    key_name: null, key_data: null, user_data: null, metadata: {}, security_groups: ['default'], networks: 'none', availability_zone: null, config_drive: '',
    reservation_id: 'r-1', launch_index: 0, hostname: 'vm', instance_name: `instance-${uuid}`, host: null, vm_state: 'building', task_state: 'scheduling', power_state: 0,
    ports: [], addresses: {}, locked_by: null, locked_reason: null, tags: [], created_at: now, updated_at: now, launched_at: null, fault: null, access_ip_v4: '', access_ip_v6: '', server_group: group,
  };
}
const drainAll = () => Promise.all(agents.map((a) => a.agent.drain()));
const hostsOf = async (ids: readonly string[]) => Promise.all(ids.map(async (id) => (await show(id))['OS-EXT-SRV-ATTR:host'] as string | null));

test('create and show as each microversion shapes it: policies and metadata before 2.64, policy and rules from it; project and user from 2.13', async () => {
  const old = await createGroup({ name: 'g-old', policies: ['affinity'] }, '2.1');
  assert.is(old.status, 200);
  assert.equal(Object.keys(old.json.server_group), ['id', 'name', 'policies', 'metadata', 'members']);
  assert.equal(old.json.server_group.policies, ['affinity']);
  const at213 = await c.request('GET', `/v2.1/os-server-groups/${old.json.server_group.id}`, { token: demo, version: '2.13' });
  assert.equal(Object.keys(at213.json.server_group), ['id', 'name', 'policies', 'metadata', 'members', 'project_id', 'user_id']);
  const made = await createGroup({ name: 'g-new', policy: 'anti-affinity', rules: { max_server_per_host: 2 } });
  assert.equal({ ...made.json.server_group, id: 'x' }, { id: 'x', name: 'g-new', policy: 'anti-affinity', rules: { max_server_per_host: 2 }, members: [], project_id: at213.json.server_group.project_id, user_id: at213.json.server_group.user_id });
  const list = await c.request('GET', '/v2.1/os-server-groups?limit=1&offset=1', { token: demo, version: '2.64' });
  assert.equal(list.json.server_groups.map((g: { name: string }) => g.name), ['g-new']);
  for (const id of [old.json.server_group.id, made.json.server_group.id]) assert.is((await c.request('DELETE', `/v2.1/os-server-groups/${id}`, { token: demo })).status, 204);
});

test("Nova's refusals: soft policies before 2.15, rules on another policy, unknown policy, another project's group, missing group", async () => {
  assert.equal((await createGroup({ name: 'g', policies: ['soft-affinity'] }, '2.14')).json, { badRequest: { code: 400, message: "Invalid input for field/attribute 0. Value: soft-affinity. 'soft-affinity' is not one of ['anti-affinity', 'affinity']" } });
  assert.is((await createGroup({ name: 'g', policies: ['soft-affinity'] }, '2.15')).status, 200);
  assert.equal((await createGroup({ name: 'g', policy: 'affinity', rules: { max_server_per_host: 2 } })).json, { badRequest: { code: 400, message: 'Only anti-affinity policy supports rules.' } });
  assert.is((await createGroup({ name: 'g', policy: 'closeness' })).status, 400);
  assert.is((await createGroup({ name: 'g', policies: ['affinity'] })).status, 400, 'policies is gone at 2.64');
  const theirs = (await createGroup({ name: 'admins', policy: 'affinity' }, '2.64', admin)).json.server_group.id;
  assert.equal((await c.request('GET', `/v2.1/os-server-groups/${theirs}`, { token: demo })).json, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-server-groups:show to be performed." } });
  assert.is((await c.request('DELETE', `/v2.1/os-server-groups/${theirs}`, { token: demo })).status, 403);
  assert.equal((await boot(theirs)).json, { badRequest: { code: 400, message: `Instance group ${theirs} could not be found.` } });
  const gone = '6f2b1f0a-95c4-4b0e-9a8e-3d3e0f6f1a11';
  assert.equal((await c.request('GET', `/v2.1/os-server-groups/${gone}`, { token: demo })).json, { itemNotFound: { code: 404, message: `Instance group ${gone} could not be found.` } });
  const listed = await c.request('GET', '/v2.1/os-server-groups?all_projects=True', { token: admin, version: '2.64' });
  assert.ok(listed.json.server_groups.some((g: { id: string }) => g.id === theirs));
  assert.not.ok((await c.request('GET', '/v2.1/os-server-groups?all_projects=True', { token: demo, version: '2.64' })).json.server_groups.some((g: { id: string }) => g.id === theirs));
  for (const g of listed.json.server_groups) await c.request('DELETE', `/v2.1/os-server-groups/${g.id}`, { token: admin });
});

test('anti-affinity: one member per host; one more than hosts is ERROR "No valid host"; a deleted member leaves the group and frees its host', async () => {
  const group = (await createGroup({ name: 'spread', policy: 'anti-affinity' })).json.server_group.id;
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await boot(group, `s${i}`)).json.server.id);
  await drainAll();
  const hosts = await hostsOf(ids.slice(0, 3));
  assert.is(new Set(hosts).size, 3);
  const fourth = await show(ids[3] as string);
  assert.is(fourth.status, 'ERROR');
  assert.is(fourth.fault.message, 'No valid host was found. There are not enough hosts available.');
  assert.equal((await show(ids[0] as string)).server_groups, [group]);
  assert.is((await show(ids[0] as string, '2.70')).server_groups, undefined);
  const members = async () => (await c.request('GET', `/v2.1/os-server-groups/${group}`, { token: demo })).json.server_group.members.sort();
  assert.equal(await members(), [...ids].sort());
  for (const id of [ids[0], ids[3]]) await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo });
  await drainAll();
  assert.equal(await members(), [ids[1], ids[2]].sort());
  const again = (await boot(group, 'again')).json.server.id;
  await drainAll();
  assert.equal(await hostsOf([again]), [hosts[0]]);
  for (const id of [ids[1], ids[2], again]) await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo });
  await drainAll();
});

test('anti-affinity race: six concurrent boots into one group on three hosts: three ACTIVE on three hosts, three ERROR, no host holds two', async () => {
  const group = (await createGroup({ name: 'race', policy: 'anti-affinity' })).json.server_group.id;
  const made = await Promise.all(Array.from({ length: 6 }, (_, i) => boot(group, `r${i}`)));
  const ids = made.map((m) => m.json.server.id as string);
  await drainAll();
  const servers = await Promise.all(ids.map((id) => show(id)));
  const active = servers.filter((s) => s.status === 'ACTIVE');
  assert.is(active.length, 3);
  assert.is(new Set(active.map((s) => s['OS-EXT-SRV-ATTR:host'])).size, 3);
  assert.is(servers.filter((s) => s.status === 'ERROR').length, 3);
  for (const name of ['node1', 'node2', 'node3']) {
    const state = (await c.records.get<HostState>(T.hosts, name))?.value;
    assert.is(state?.instances.filter((u) => ids.includes(u)).length, 1);
  }
  for (const id of ids) await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo });
  await drainAll();
});

test('anti-affinity race decided by the claim: two boots scheduled from the same view of the hosts (both see every host empty) never share one', async () => {
  const group = (await createGroup({ name: 'claim-race', policy: 'anti-affinity' })).json.server_group.id;
  // Only node1 is enabled, so both schedulers pick it; the claim must turn the second away.
  for (const name of ['node2', 'node3']) await updateRecord<HostState>(c.records, T.hosts, name, (cur) => ({ ...cur.value, enabled: false }));
  let arrived = 0;
  let release: () => void = () => {};
  const together = new Promise<void>((r) => {
    release = r;
  });
  class BarrierHosts extends RecordHostStateStore {
    override async all() {
      const seen = await super.all();
      if (++arrived === 2) release();
      await together;
      return seen;
    }
  }
  const hosts = new BarrierHosts(c.service.store);
  const ids: string[] = [randomUUID(), randomUUID()];
  await updateRecord<ServerGroupRecord>(c.records, T.serverGroups, group, (cur) => ({ ...cur.value, members: ids }));
  const logger = createLogger({ level: 'error', sink: () => {} });
  for (const id of ids) await c.records.create(T.servers, id, serverRecord(id, group));
  const requests = ids.map((id): BuildRequest => ({ server: id, token: demo, requestId: `req-${id}`, claim: { instanceUuid: id, resources: { vcpus: 1, memoryMiB: 512, diskGiB: 1 } }, imageProperties: {}, group, createdMs: Date.now() }));
  await Promise.all(requests.map((r) => placeBuilds(c.service.store, hosts, [r], logger)));
  const node1 = (await c.records.get<HostState>(T.hosts, 'node1'))?.value;
  assert.is(node1?.instances.filter((u) => ids.includes(u)).length, 1);
  const states = await Promise.all(ids.map(async (id) => (await c.records.get<ServerRecord>(T.servers, id))?.value));
  assert.equal(states.map((s) => s?.vm_state).sort(), ['building', 'error']);
  for (const name of ['node2', 'node3']) await updateRecord<HostState>(c.records, T.hosts, name, (cur) => ({ ...cur.value, enabled: true }));
  for (const id of ids) assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: admin })).status, 204);
  await drainAll();
});

test('affinity race decided by the group: two first members scheduled onto two hosts at once end on one', async () => {
  const group = (await createGroup({ name: 'claim-together', policy: 'affinity' })).json.server_group.id;
  // Each scheduler sees a different single host up, as two API processes with different views could.
  let calls = 0;
  class SplitViewHosts extends RecordHostStateStore {
    override async all() {
      const mine = ++calls === 1 ? 'node1' : 'node2';
      return (await super.all()).map((h) => ({ ...h, enabled: h.host === mine }));
    }
  }
  const hosts = new SplitViewHosts(c.service.store);
  const ids: string[] = [randomUUID(), randomUUID()];
  await updateRecord<ServerGroupRecord>(c.records, T.serverGroups, group, (cur) => ({ ...cur.value, members: ids }));
  for (const id of ids) await c.records.create(T.servers, id, serverRecord(id, group));
  const logger = createLogger({ level: 'error', sink: () => {} });
  const requests = ids.map((id): BuildRequest => ({ server: id, token: demo, requestId: `req-${id}`, claim: { instanceUuid: id, resources: { vcpus: 1, memoryMiB: 512, diskGiB: 1 } }, imageProperties: {}, group, createdMs: Date.now() }));
  await Promise.all(requests.map((r) => placeBuilds(c.service.store, hosts, [r], logger)));
  const placed = await Promise.all(ids.map(async (id) => (await c.records.get<ServerRecord>(T.servers, id))?.value.host));
  assert.is(new Set(placed).size, 1, `placed on ${placed.join(', ')}`);
  const node2 = (await c.records.get<HostState>(T.hosts, 'node2'))?.value;
  const node1 = (await c.records.get<HostState>(T.hosts, 'node1'))?.value;
  assert.is([...(node1?.instances ?? []), ...(node2?.instances ?? [])].filter((u) => ids.includes(u)).length, 2, 'one claim each, none left behind');
  for (const id of ids) assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: admin })).status, 204);
  await drainAll();
  assert.is((await c.records.get<ServerGroupRecord>(T.serverGroups, group))?.value.host, undefined, 'the last member gone, the group may go anywhere');
});

test('affinity: every member on the first one\'s host; 2.64 max_server_per_host 2 lets two share a host', async () => {
  const together = (await createGroup({ name: 'together', policy: 'affinity' })).json.server_group.id;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await boot(together, `a${i}`)).json.server.id);
  await drainAll();
  assert.is(new Set(await hostsOf(ids)).size, 1);
  const pairs = (await createGroup({ name: 'pairs', policy: 'anti-affinity', rules: { max_server_per_host: 2 } })).json.server_group.id;
  const made = await c.request('POST', '/v2.1/servers', { token: demo, version: '2.64', body: { server: { name: 'p', imageRef: imageId, flavorRef: '1', networks: 'none', min_count: 6 }, 'os:scheduler_hints': { group: pairs } } });
  assert.is(made.status, 202);
  await drainAll();
  const members = (await c.request('GET', `/v2.1/os-server-groups/${pairs}`, { token: demo })).json.server_group.members as string[];
  assert.is(members.length, 6);
  const perHost = new Map<string, number>();
  for (const h of await hostsOf(members)) perHost.set(h as string, (perHost.get(h as string) ?? 0) + 1);
  assert.equal([...perHost.values()], [2, 2, 2]);
  for (const id of [...ids, ...members]) await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo });
  await drainAll();
});

test('server_group_members quota: "Quota exceeded, too many servers in group" (403), nothing created', async () => {
  const demoProject = (await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).json.token.project.id;
  await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, body: { quota_set: { server_group_members: 1 } } });
  const group = (await createGroup({ name: 'small', policy: 'soft-anti-affinity' })).json.server_group.id;
  const first = (await boot(group, 'one')).json.server.id;
  const before = (await c.records.list(T.servers)).entries.length;
  assert.equal((await boot(group, 'two')).json, { forbidden: { code: 403, message: 'Quota exceeded, too many servers in group' } });
  assert.is((await c.records.list(T.servers)).entries.length, before);
  await drainAll();
  await c.request('DELETE', `/v2.1/servers/${first}`, { token: demo });
  await drainAll();
});

test.run();
