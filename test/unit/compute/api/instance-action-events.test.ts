import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ServerOnAgent, startServerOnAgent } from '../../../helpers/compute.ts';

/**
 * `openstack server event list/show`: each action's events as Nova's conductor and compute
 * manager record them (`conductor_schedule_and_build_instances`, `compute__do_build_and_run_instance`,
 * `compute_stop_instance`, ...), `Success` or `Error` with the action's message `Error`; shown as
 * Nova's policy and microversions show them (admins in full; owners from 2.51 without the
 * traceback; `hostId` from 2.62, `host` for admins; `details` for admins from 2.84).
 */
const events = suite('instance action events');
let s: ServerOnAgent;
events.before(async () => {
  s = await startServerOnAgent({ images: [{ data: Buffer.alloc(4096, 'root') }] });
});
events.after(() => s.close());

const actions = async (id: string) => (await s.c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: s.demo })).json.instanceActions as Array<{ action: string; request_id: string; message: string | null }>;
const showAction = async (id: string, requestId: string, token: string, version: string) => (await s.c.request('GET', `/v2.1/servers/${id}/os-instance-actions/${requestId}`, { token, version })).json.instanceAction;
type Event = { event: string; result: string | null; start_time: string; finish_time: string | null; traceback?: string | null; host?: string; hostId?: string; details?: string | null };

events('a boot: the conductor placed it and the host built it, both Success; a stop: compute_stop_instance on the host', async () => {
  const create = (await actions(s.id)).find((a) => a.action === 'create');
  assert.ok(create);
  assert.is(create.message, null);
  const full = await showAction(s.id, create.request_id, s.admin, '2.84');
  assert.equal(
    full.events.map((e: Event) => [e.event, e.result]),
    [
      ['conductor_schedule_and_build_instances', 'Success'],
      ['compute__do_build_and_run_instance', 'Success'],
    ],
  );
  const build = full.events[1] as Event;
  assert.is(build.host, 'node1');
  assert.ok(build.finish_time !== null && build.finish_time >= build.start_time);
  assert.is(build.traceback, null);
  assert.is(build.details, null);
  assert.match(build.hostId ?? '', /^[0-9a-f]{56}$/);
  assert.is((await s.c.request('POST', `/v2.1/servers/${s.id}/action`, { token: s.demo, body: { 'os-stop': null } })).status, 202);
  await s.agent.agent.drain();
  const stop = (await actions(s.id)).find((a) => a.action === 'stop');
  assert.equal(
    (await showAction(s.id, stop?.request_id ?? '', s.demo, '2.51')).events.map((e: Event) => [e.event, e.result]),
    [['compute_stop_instance', 'Success']],
  );
});

events("what each caller sees: an owner no events before 2.51, then no traceback, host or details; hostId from 2.62; an admin everything", async () => {
  const create = (await actions(s.id)).find((a) => a.action === 'create');
  const id = create?.request_id ?? '';
  assert.not.ok('events' in (await showAction(s.id, id, s.demo, '2.50')), 'no events for an owner before 2.51');
  const owner = (await showAction(s.id, id, s.demo, '2.84')).events[1] as Event;
  assert.equal(Object.keys(owner).sort(), ['event', 'finish_time', 'hostId', 'result', 'start_time']);
  assert.equal(Object.keys((await showAction(s.id, id, s.admin, '2.1')).events[1]).sort(), ['event', 'finish_time', 'result', 'start_time', 'traceback']);
  assert.equal(Object.keys((await showAction(s.id, id, s.admin, '2.84')).events[1]).sort(), ['details', 'event', 'finish_time', 'host', 'hostId', 'result', 'start_time', 'traceback']);
});

events("a build that fails: its event is Error with the fault's message in details (admin, 2.84), and the action's message is Error", async () => {
  const image = s.c.images.add({ name: 'vanishing' });
  const netId = [...s.c.networks.networks.keys()][0];
  const id = (await s.c.request('POST', '/v2.1/servers', { token: s.demo, body: { server: { name: 'doomed', imageRef: image.id, flavorRef: '1', networks: [{ uuid: netId }] } } })).json.server.id as string;
  s.c.images.images.delete(image.id);
  await s.agent.agent.drain();
  const server = (await s.c.request('GET', `/v2.1/servers/${id}`, { token: s.demo })).json.server;
  assert.is(server.status, 'ERROR');
  const [create] = await actions(id);
  assert.is(create?.message, 'Error');
  const build = (await showAction(id, create?.request_id ?? '', s.admin, '2.84')).events.find((e: Event) => e.event === 'compute__do_build_and_run_instance') as Event;
  assert.is(build.result, 'Error');
  assert.is(build.details, server.fault.message);
  assert.ok(build.finish_time !== null);
});

events('no host fits: the conductor event is Error with "No valid host was found"', async () => {
  await s.c.request('POST', '/v2.1/flavors', { token: s.admin, body: { flavor: { name: 'huge', id: '99', ram: 512, vcpus: 1, disk: 500 } } });
  const netId = [...s.c.networks.networks.keys()][0];
  const id = (await s.c.request('POST', '/v2.1/servers', { token: s.demo, body: { server: { name: 'huge', imageRef: s.imageIds[0], flavorRef: '99', networks: [{ uuid: netId }] } } })).json.server.id as string;
  const [create] = await actions(id);
  assert.is(create?.message, 'Error');
  const shown = await showAction(id, create?.request_id ?? '', s.admin, '2.84');
  assert.equal(
    shown.events.map((e: Event) => [e.event, e.result, e.details]),
    [['conductor_schedule_and_build_instances', 'Error', 'No valid host was found. There are not enough hosts available.']],
  );
});

events('2.58 pages the list: limit, marker, a next link, changes-since (and changes-before at 2.66); other keys are 400; 2.1 ignores them', async () => {
  const all = await actions(s.id);
  assert.ok(all.length >= 2);
  const list = async (query: string, version = '2.58') => s.c.request('GET', `/v2.1/servers/${s.id}/os-instance-actions${query}`, { token: s.demo, version });
  const first = await list('?limit=1');
  assert.equal(
    first.json.instanceActions.map((a: { request_id: string }) => a.request_id),
    [all[0]?.request_id],
  );
  assert.ok('updated_at' in first.json.instanceActions[0], 'updated_at from 2.58');
  const next = new URL(first.json.links[0].href);
  assert.is(first.json.links[0].rel, 'next');
  assert.is(next.searchParams.get('marker'), all[0]?.request_id);
  const second = await list(`?limit=1&marker=${all[0]?.request_id}`);
  assert.equal(
    second.json.instanceActions.map((a: { request_id: string }) => a.request_id),
    [all[1]?.request_id],
  );
  assert.equal((await list('?limit=1000')).json.instanceActions.length, all.length);
  assert.not.ok('links' in (await list('?limit=1000')).json, 'no next link on a short page');
  assert.equal((await list('?marker=req-nope')).json, { badRequest: { code: 400, message: 'Marker req-nope could not be found.' } });
  assert.match((await list('?sort_key=x')).json.badRequest.message, /^Additional properties are not allowed \('sort_key' was unexpected\)$/);
  assert.is((await list('?limit=-1')).status, 400);
  assert.equal((await list('?changes-since=2999-01-01T00:00:00Z')).json.instanceActions, []);
  assert.is((await list('?changes-before=2000-01-01T00:00:00Z')).status, 400, 'changes-before is 2.66');
  assert.equal((await list('?changes-before=2000-01-01T00:00:00Z', '2.66')).json.instanceActions, []);
  assert.match((await list('?changes-since=2020-01-02&changes-before=2020-01-01', '2.66')).json.badRequest.message, /^The value of changes-since must be less than or equal to changes-before\.$/);
  assert.is((await list('?limit=1&sort_key=x', '2.57')).json.instanceActions.length, all.length, 'before 2.58 the query is not read');
});

events.run();
