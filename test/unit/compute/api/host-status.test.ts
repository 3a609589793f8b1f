import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComputeHostRecord } from '../../../../compute/host-record.ts';
import { T } from '../../../../compute/records.ts';
import { makeAgent, startCompute } from '../../../helpers/compute.ts';

/** host_status (2.16): what an admin sees of the host under each server, as Nova's get_instance_host_status. */
test('host_status: UP while the host heartbeats, MAINTENANCE when disabled, DOWN when forced down, UNKNOWN when silent, "" without a host; admins only, from 2.16', async () => {
  const c = await startCompute();
  const admin = await c.identity.token();
  const demo = await c.identity.token({ user: 'demo' });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'huge', id: '9', ram: 512, vcpus: 1, disk: 1000 } } });
  const imageRef = c.images.add().id;
  const a = await makeAgent(c);
  await a.agent.register();
  const boot = async (flavorRef: string): Promise<string> => (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef, flavorRef, networks: 'none' } }, version: '2.37' })).json.server.id;
  const placed = await boot('1');
  const nowhere = await boot('9');
  await a.agent.drain();
  const show = async (token: string, version: string) => (await c.request('GET', `/v2.1/servers/${placed}`, { token, version })).json.server;
  const status = async () => (await show(admin, '2.16')).host_status;

  assert.is(await status(), 'UP');
  assert.not.ok('host_status' in (await show(admin, '2.15')), 'not before 2.16');
  assert.not.ok('host_status' in (await show(demo, '2.16')), "os_compute_api:servers:show:host_status is admin's");
  const detail = async (token: string) => Object.fromEntries((await c.request('GET', '/v2.1/servers/detail?all_tenants=1', { token, version: '2.16' })).json.servers.map((s: { id: string; host_status?: string }) => [s.id, s.host_status]));
  assert.equal(await detail(admin), { [placed]: 'UP', [nowhere]: '' });
  assert.equal(Object.values(await detail(demo)), [undefined, undefined]);

  const uuid = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value.serviceUuid ?? '';
  const service = (body: unknown) => c.request('PUT', `/v2.1/os-services/${uuid}`, { token: admin, body, version: '2.53' });
  assert.is((await service({ status: 'disabled', disabled_reason: 'patching' })).status, 200);
  assert.is(await status(), 'MAINTENANCE');
  const down = await service({ status: 'enabled', forced_down: true });
  assert.equal([down.status, down.json.service.forced_down, down.json.service.state], [200, true, 'down']);
  assert.is(await status(), 'DOWN');
  // A forced-down host takes no new servers (Nova's ComputeFilter asks the servicegroup, which says down).
  assert.is((await c.request('GET', `/v2.1/servers/${await boot('1')}`, { token: admin })).json.server.status, 'ERROR');
  assert.is((await service({})).status, 400, 'nothing to update');
  assert.is((await service({ forced_down: false })).json.service.forced_down, false);
  // The agent went silent two minutes ago: Nova cannot tell a dead host from a quiet one.
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1')) as { value: ComputeHostRecord };
  await c.records.put(T.hosts, 'node1', { ...host.value, lastHeartbeatMs: Date.now() - 120_000 });
  assert.is(await status(), 'UNKNOWN');
  // 2.75: the update's answer carries it as show does.
  const renamed = await c.request('PUT', `/v2.1/servers/${placed}`, { token: admin, body: { server: { name: 'vm2' } }, version: '2.75' });
  assert.is(renamed.json.server.host_status, 'UNKNOWN');
  assert.not.ok('host_status' in (await c.request('PUT', `/v2.1/servers/${placed}`, { token: admin, body: { server: { name: 'vm3' } }, version: '2.74' })).json.server);
  await a.remove();
  await c.close();
});

test.run();
