import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ServerOnAgent, type ServerOnTwoHosts, startServerOnTwoHosts, type TestCompute } from '../../../helpers/compute.ts';

/**
 * `openstack server migration list` (GET /os-migrations) over the moves resize and migrate
 * make between two hosts, at the microversions that change its shape; and a server's
 * in-progress live migrations (2.23), of which there are none here.
 */
let c: TestCompute;
let demo: string;
let admin: string;
let id: string;
let node1: ServerOnAgent['agent'];
let node2: ServerOnTwoHosts['node2'];
let setup: ServerOnTwoHosts;
test.before(async () => {
  setup = await startServerOnTwoHosts({ flavors: [{ name: 'm1.small', id: '2', ram: 1024, vcpus: 2, disk: 1 }], images: [{ data: Buffer.alloc(1024, 'disk ') }] });
  ({ c, demo, admin, id, agent: node1, node2 } = setup);
});
test.after(() => setup.close());

const act = (body: unknown, version = '2.1', token = demo) => c.request('POST', `/v2.1/servers/${id}/action`, { token, body, version });
const list = (query = '', version = '2.1', token = admin) => c.request('GET', `/v2.1/os-migrations${query}`, { token, version });
const only = async (version = '2.80') => {
  const res = await list(`?instance_uuid=${id}`, version);
  assert.is(res.status, 200);
  return res.json.migrations as Record<string, unknown>[];
};
/** Until both queues are empty: a move's steps go back and forth between the hosts. */
const drain = async () => {
  for (let i = 0; i < 2; i++) {
    await node1.agent.drain();
    await node2.agent.drain();
  }
};

test("a resize to another host is listed with Nova's statuses at each step, its hosts and who asked", async () => {
  const server = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.is((await act({ resize: { flavorRef: '2' } })).status, 202);
  let [m] = await only();
  assert.ok(m);
  assert.is(m.status, 'pre-migrating');
  assert.is(m.migration_type, 'resize');
  assert.is(m.source_compute, 'node1');
  assert.is(m.source_node, 'node1');
  assert.is(m.dest_compute, 'node2');
  assert.is(m.dest_node, 'node2');
  assert.is(m.dest_host, '127.0.0.1');
  assert.is(m.id, 1);
  assert.match(m.uuid as string, /^[0-9a-f-]{36}$/);
  assert.is(m.user_id, server.user_id, 'the user who asked');
  assert.is(m.project_id, server.tenant_id);
  assert.match(m.created_at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  await node1.agent.drain();
  [m] = await only();
  assert.is(m?.status, 'post-migrating', 'the disk is sent');
  await node2.agent.drain();
  [m] = await only();
  assert.is(m?.status, 'finished', 'VERIFY_RESIZE on the target');
  assert.is((await act({ confirmResize: null })).status, 204);
  [m] = await only();
  assert.is(m?.status, 'confirming');
  await node1.agent.drain();
  [m] = await only();
  assert.is(m?.status, 'confirmed', 'the source is cleaned');
});

test("each microversion's fields: 2.1 without type and uuid, 2.23 the type, 2.59 the uuid, 2.80 the user and project", async () => {
  const base = ['created_at', 'dest_compute', 'dest_host', 'dest_node', 'id', 'instance_uuid', 'new_instance_type_id', 'old_instance_type_id', 'source_compute', 'source_node', 'status', 'updated_at'];
  assert.equal(Object.keys((await only('2.1'))[0] ?? {}).sort(), base);
  assert.equal(Object.keys((await only('2.23'))[0] ?? {}).sort(), [...base, 'migration_type'].sort());
  assert.equal(Object.keys((await only('2.59'))[0] ?? {}).sort(), [...base, 'migration_type', 'uuid'].sort());
  assert.equal(Object.keys((await only('2.80'))[0] ?? {}).sort(), [...base, 'migration_type', 'project_id', 'user_id', 'uuid'].sort());
});

test('admin only', async () => {
  const res = await list('', '2.1', demo);
  assert.is(res.status, 403);
  assert.is(res.json.forbidden.message, "Policy doesn't allow os_compute_api:os-migrations:index to be performed.");
});

test('a cold migration reverted: a second record, newest first from 2.59, paged by limit and marker with a next link', async () => {
  assert.is((await act({ migrate: null }, '2.1', admin)).status, 202);
  await drain();
  assert.is((await act({ revertResize: null })).status, 202);
  await drain();
  const all = await only('2.59');
  assert.equal(all.map((m) => [m.id, m.migration_type, m.status]), [[2, 'migration', 'reverted'], [1, 'resize', 'confirmed']]);
  assert.equal(all[0]?.source_compute, 'node2');
  assert.equal(all[0]?.dest_compute, 'node1');

  const first = await list('?limit=1', '2.59');
  assert.equal(first.json.migrations.map((m: { id: number }) => m.id), [2]);
  const next = first.json.migrations_links[0];
  assert.is(next.rel, 'next');
  assert.match(next.href, new RegExp(`/v2\\.1/os-migrations\\?limit=1&marker=${all[0]?.uuid}$`));
  const second = await list(`?limit=1&marker=${all[0]?.uuid}`, '2.59');
  assert.equal(second.json.migrations.map((m: { id: number }) => m.id), [1]);
  const end = await list(`?marker=${all[1]?.uuid}`, '2.59');
  assert.equal(end.json.migrations, []);
  assert.is(end.json.migrations_links, undefined, 'no next link on a short page');

  const unknown = await list('?marker=nope', '2.59');
  assert.is(unknown.status, 400);
  assert.is(unknown.json.badRequest.message, 'Marker nope could not be found.');
  assert.equal((await list('?limit=1', '2.1')).json.migrations.length, 2, 'no paging before 2.59: limit is ignored');
});

test("filters: host (either side), source_compute, status, migration_type; user_id and project_id from 2.80", async () => {
  const ids = async (q: string, v = '2.80') => ((await list(q, v)).json.migrations as { id: number }[]).map((m) => m.id).sort();
  assert.equal(await ids('?host=node2'), [1, 2]);
  assert.equal(await ids('?source_compute=node2'), [2]);
  assert.equal(await ids('?status=confirmed'), [1]);
  assert.equal(await ids('?migration_type=migration'), [2]);
  assert.equal(await ids('?migration_type=evacuation'), []);
  const server = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.equal(await ids(`?user_id=${server.user_id}`), [1], 'the resize was the owner’s, the migration an admin’s');
  assert.equal(await ids(`?project_id=${server.tenant_id}`), [1]);
});

test("the query as Nova's schemas check it: unknown keys from 2.59, limit's pattern, one value, ISO times, changes-before after changes-since", async () => {
  const extra = await list('?foo=1', '2.59');
  assert.is(extra.status, 400);
  assert.is(extra.json.badRequest.message, "Additional properties are not allowed ('foo' was unexpected)");
  assert.is((await list('?foo=1', '2.58')).status, 200, 'before 2.59 anything goes');
  assert.is((await list('?user_id=x', '2.79')).status, 400, 'user_id only from 2.80');
  const limit = await list('?limit=abc', '2.59');
  assert.is(limit.json.badRequest.message, "Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'");
  const two = await list('?limit=1&limit=2', '2.59');
  assert.is(two.json.badRequest.message, "Invalid input for query parameters limit. Value: ['1', '2']. ['1', '2'] is too long");
  const time = await list('?changes-since=yesterday', '2.59');
  assert.is(time.json.badRequest.message, "Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'");
  const order = await list('?changes-since=2030-01-02T00:00:00Z&changes-before=2030-01-01T00:00:00Z', '2.66');
  assert.is(order.json.badRequest.message, 'The value of changes-since must be less than or equal to changes-before.');
  assert.is((await list('?changes-before=2030-01-01T00:00:00Z', '2.59')).status, 400, 'changes-before from 2.66');
  assert.equal((await list('?changes-since=2999-01-01T00:00:00Z', '2.59')).json.migrations, []);
  assert.is((await list('?changes-before=2999-01-01T00:00:00', '2.66')).json.migrations.length, 2);
  assert.is((await list('?changes-since=2999-01-01', '2.1')).json.migrations.length, 2, 'changes-since is dropped before 2.59');
});

test("a server's live migrations (2.23): none in progress; show, abort and force-complete answer as Nova does for a server not migrating", async () => {
  const path = `/v2.1/servers/${id}/migrations`;
  assert.is((await c.request('GET', path, { token: admin, version: '2.22' })).status, 404);
  const index = await c.request('GET', path, { token: admin, version: '2.23' });
  assert.is(index.status, 200);
  assert.equal(index.json, { migrations: [] });
  assert.is((await c.request('GET', path, { token: demo, version: '2.23' })).status, 403);
  const cold = await c.request('GET', `${path}/1`, { token: admin, version: '2.23' });
  assert.is(cold.status, 404);
  assert.is(cold.json.itemNotFound.message, `Migration 1 for server ${id} is not live-migration.`);
  const missing = await c.request('GET', `${path}/99`, { token: admin, version: '2.23' });
  assert.is(missing.json.itemNotFound.message, `In-progress live migration 99 is not found for server ${id}.`);
  const abort = await c.request('DELETE', `${path}/1`, { token: admin, version: '2.24' });
  assert.is(abort.status, 409);
  assert.is(abort.json.conflictingRequest.message, `Cannot 'abort live migration' instance ${id} while it is in task_state None`);
  const force = await c.request('POST', `${path}/1/action`, { token: admin, version: '2.22', body: { force_complete: null } });
  assert.is(force.status, 409);
  assert.is(force.json.conflictingRequest.message, `Cannot 'force_complete' instance ${id} while it is in task_state None`);
});

test.run();
