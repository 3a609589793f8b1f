import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../../common/logger.ts';
import { pathExists } from '../../../../common/path-exists.ts';
import { updateRecord } from '../../../../client/record-update.ts';
import { UnconfirmedResizes } from '../../../../compute/agent/unconfirmed-resizes.ts';
import { T } from '../../../../compute/records.ts';
import type { ServerRecord } from '../../../../compute/server-record.ts';
import { type ServerOnAgent, type ServerOnTwoHosts, startServerOnTwoHosts, type TestCompute } from '../../../helpers/compute.ts';
import { OffsetClock } from '../../../helpers/offset-clock.ts';

/**
 * Nova's `resize_confirm_window`: the agent of the host a server was resized to confirms it
 * once it has waited in VERIFY_RESIZE longer than the window. Wall time is moved by hand.
 */
const clock = new OffsetClock();
let c: TestCompute;
let demo: string;
let admin: string;
let id: string;
let node1: ServerOnAgent['agent'];
let node2: ServerOnTwoHosts['node2'];
let setup: ServerOnTwoHosts;
test.before(async () => {
  setup = await startServerOnTwoHosts({ clock, flavors: [{ name: 'm1.small', id: '2', ram: 1024, vcpus: 2, disk: 1 }], images: [{ data: Buffer.alloc(1024, 'disk ') }] }, { agent: { resizeConfirmWindowSeconds: 60 } });
  ({ c, demo, admin, id, agent: node1, node2 } = setup);
});
test.after(() => setup.close());

const show = async () => (await c.request('GET', `/v2.1/servers/${id}`, { token: admin, version: '2.47' })).json.server;
const statuses = async () => ((await c.request('GET', `/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, version: '2.59' })).json.migrations as { status: string }[]).map((m) => m.status);
const heartbeats = async () => {
  await node1.agent.heartbeat();
  await node2.agent.heartbeat();
};

test('a resize waiting longer than the window is confirmed by the target host’s agent, as the API would, with no user', async () => {
  assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body: { resize: { flavorRef: '2' } } })).status, 202);
  await node1.agent.drain();
  await node2.agent.drain();
  assert.is((await show()).status, 'VERIFY_RESIZE');
  assert.is(await node2.agent.pollUnconfirmedResizes(), 0, 'within the window');
  clock.advance(59_000);
  assert.is(await node2.agent.pollUnconfirmedResizes(), 0);
  clock.advance(2_000);
  assert.is(await node1.agent.pollUnconfirmedResizes(), 0, "the source's agent does not confirm (and its window is 0: off)");
  assert.is(await node2.agent.pollUnconfirmedResizes(), 1);
  const s = await show();
  assert.is(s.status, 'ACTIVE');
  assert.is(s.flavor.original_name, 'm1.small');
  assert.equal(await statuses(), ['confirming']);
  await node1.agent.drain();
  assert.equal(await statuses(), ['confirmed']);
  assert.not.ok(await pathExists(join(node1.stateDir, id)), "the source's copy is removed");
  const actions = (await c.request('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin })).json.instanceActions as { action: string; user_id: string | null }[];
  assert.equal(actions.find((a) => a.action === 'confirmResize')?.user_id, null, "Nova's periodic task acts with no user");
  assert.is(await node2.agent.pollUnconfirmedResizes(), 0, 'nothing left to confirm');
});

test("a window of 0 never confirms; a server no longer in VERIFY_RESIZE (ERROR) has its migration set to error", async () => {
  await heartbeats();
  assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: admin, body: { migrate: null } })).status, 202);
  await node2.agent.drain();
  await node1.agent.drain();
  assert.is((await show()).status, 'VERIFY_RESIZE');
  clock.advance(120_000);
  assert.is(await node1.agent.pollUnconfirmedResizes(), 0, 'node1 has no window');
  assert.is((await show()).status, 'VERIFY_RESIZE');

  const poller = new UnconfirmedResizes({ host: 'node1', windowSeconds: 60 }, { store: c.service.store, hosts: c.service.hosts, service: { token: async () => 'service' }, logger: createLogger({ level: 'error', sink: () => {} }) });
  await updateRecord<ServerRecord>(c.records, T.servers, id, (cur) => ({ ...cur.value, vm_state: 'error' }));
  assert.is(await poller.poll(), 0);
  assert.equal(await statuses(), ['error', 'confirmed']);
  assert.is((await show()).status, 'ERROR', 'left as it is');
});

test.run();
