import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComputeHostRecord } from '../../../../compute/host-record.ts';
import { T } from '../../../../compute/records.ts';
import { DEFAULT_ALLOCATION_RATIOS, DEFAULT_RESERVED } from '../../../../compute/scheduler/host-state.ts';
import { startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** Limits, quota sets, availability zones, os-services and os-hypervisors over hosts' records. */
let c: TestCompute;
let admin: string;
let demo: string;
let demoProject: string;

function host(name: string, heartbeat: number, n: number): ComputeHostRecord {
  return {
    host: name,
    availabilityZone: 'nova',
    enabled: true,
    lastHeartbeatMs: heartbeat,
    total: { vcpus: 4, memoryMiB: 8192, diskGiB: 100 },
    used: { vcpus: 1, memoryMiB: 512, diskGiB: 1 },
    reserved: DEFAULT_RESERVED,
    allocationRatios: DEFAULT_ALLOCATION_RATIOS,
    supportedInstances: [['x86_64', 'qemu', 'hvm']],
    traits: [],
    instances: ['i-1'],
    generation: 1,
    serviceUuid: `00000000-0000-4000-8000-00000000000${n}`,
    serviceNumber: n,
    hypervisorType: 'QEMU',
    hostIp: '127.0.0.1',
    runningVms: 1,
    startedMs: heartbeat,
  };
}

test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  demoProject = (await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).json.token.project.id;
  await beat();
  await c.records.put(T.hosts, 'node2', host('node2', Date.now() - 120_000, 2));
});

/** node1's agent heartbeats (a loaded machine can take over a minute between tests). */
async function beat(): Promise<void> {
  const found = await c.records.get<ComputeHostRecord>(T.hosts, 'node1');
  await c.records.put(T.hosts, 'node1', found ? { ...found.value, lastHeartbeatMs: Date.now() } : host('node1', Date.now(), 1));
}
test.after(() => c.close());

test('limits: Nova\'s absolute limits and usage; network fields gone at 2.36, personality at 2.57', async () => {
  const at21 = await c.request('GET', '/v2.1/limits', { token: demo });
  assert.equal(at21.json.limits.rate, []);
  const a = at21.json.limits.absolute;
  assert.is(a.maxTotalInstances, 10);
  assert.is(a.maxTotalCores, 20);
  assert.is(a.maxTotalRAMSize, 51200);
  assert.is(a.totalInstancesUsed, 0);
  assert.is(a.maxSecurityGroups, 10);
  assert.is(a.maxPersonality, 5);
  const at257 = (await c.request('GET', '/v2.1/limits', { token: demo, version: '2.57' })).json.limits.absolute;
  assert.not.ok('maxSecurityGroups' in at257);
  assert.not.ok('maxPersonality' in at257);
  assert.is((await c.request('GET', `/v2.1/limits?tenant_id=${demoProject}`, { token: admin })).status, 200);
  assert.is((await c.request('GET', '/v2.1/limits?tenant_id=other', { token: demo })).status, 403);
});

test('quota sets: members read their own, admins set and reset; detail has in_use; bad values 400', async () => {
  const own = await c.request('GET', `/v2.1/os-quota-sets/${demoProject}`, { token: demo, version: '2.57' });
  assert.equal(own.json.quota_set, { id: demoProject, instances: 10, cores: 20, ram: 51200, metadata_items: 128, key_pairs: 100, server_groups: 10, server_group_members: 10 });
  assert.is((await c.request('GET', '/v2.1/os-quota-sets/someone-else', { token: demo })).status, 403);
  assert.is((await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: demo, body: { quota_set: { cores: 1 } } })).status, 403);
  const set = await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, version: '2.57', body: { quota_set: { cores: 40, instances: '-1' } } });
  assert.is(set.json.quota_set.cores, 40);
  assert.is(set.json.quota_set.instances, -1);
  assert.not.ok('id' in set.json.quota_set);
  const detail = await c.request('GET', `/v2.1/os-quota-sets/${demoProject}/detail`, { token: demo });
  assert.equal(detail.json.quota_set.cores, { in_use: 0, limit: 40, reserved: 0 });
  const bad = await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, body: { quota_set: { cores: -2 } } });
  assert.equal(bad.json.badRequest.message, 'Invalid input for field/attribute cores. Value: -2. -2 is less than the minimum of -1');
  const unknown = await c.request('PUT', `/v2.1/os-quota-sets/${demoProject}`, { token: admin, body: { quota_set: { widgets: 1 } } });
  assert.is(unknown.status, 400);
  assert.is((await c.request('DELETE', `/v2.1/os-quota-sets/${demoProject}`, { token: admin })).status, 202);
  assert.is((await c.request('GET', `/v2.1/os-quota-sets/${demoProject}`, { token: demo })).json.quota_set.cores, 20);
  assert.is((await c.request('GET', `/v2.1/os-quota-sets/${demoProject}/defaults`, { token: demo })).json.quota_set.instances, 10);
});

test('os-services: one nova-compute per host, down when its heartbeat is older than 60 s; disable with a reason (2.53)', async () => {
  await beat();
  assert.is((await c.request('GET', '/v2.1/os-services', { token: demo })).status, 403);
  const list = await c.request('GET', '/v2.1/os-services', { token: admin, version: '2.53' });
  assert.equal(list.json.services.map((s: { host: string; state: string; status: string }) => [s.host, s.state, s.status]), [['node1', 'up', 'enabled'], ['node2', 'down', 'enabled']]);
  assert.is(list.json.services[0].id, '00000000-0000-4000-8000-000000000001');
  assert.is(list.json.services[0].binary, 'nova-compute');
  assert.is(list.json.services[0].forced_down, false);
  const off = await c.request('PUT', '/v2.1/os-services/00000000-0000-4000-8000-000000000001', { token: admin, version: '2.53', body: { status: 'disabled', disabled_reason: 'maintenance' } });
  assert.is(off.json.service.status, 'disabled');
  assert.is(off.json.service.disabled_reason, 'maintenance');
  const legacy = await c.request('PUT', '/v2.1/os-services/enable', { token: admin, body: { host: 'node1', binary: 'nova-compute' } });
  assert.equal(legacy.json, { service: { host: 'node1', binary: 'nova-compute', status: 'enabled' } });
  const at21 = await c.request('GET', '/v2.1/os-services', { token: admin });
  assert.is(at21.json.services[0].id, 1);
  assert.is(at21.json.services[0].status, 'enabled');
});

test('availability zones: "nova" available while a host is up; detail (admin) lists the hosts', async () => {
  await beat();
  const zones = await c.request('GET', '/v2.1/os-availability-zone', { token: demo });
  assert.equal(zones.json, { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }] });
  assert.is((await c.request('GET', '/v2.1/os-availability-zone/detail', { token: demo })).status, 403);
  const detail = await c.request('GET', '/v2.1/os-availability-zone/detail', { token: admin });
  assert.equal(Object.keys(detail.json.availabilityZoneInfo[0].hosts), ['node1', 'node2']);
  assert.is(detail.json.availabilityZoneInfo[0].hosts.node2['nova-compute'].available, false);
});

test('os-hypervisors: list, detail with capacity before 2.88 and without from it, show by id, statistics', async () => {
  await beat();
  const list = await c.request('GET', '/v2.1/os-hypervisors', { token: admin });
  assert.equal(list.json.hypervisors[0], { id: 1, hypervisor_hostname: 'node1', state: 'up', status: 'enabled' });
  const detail = await c.request('GET', '/v2.1/os-hypervisors/detail', { token: admin, version: '2.53' });
  const h = detail.json.hypervisors[0];
  assert.is(h.vcpus, 4);
  assert.is(h.memory_mb_used, 1024);
  assert.is(h.free_ram_mb, 7168);
  assert.is(h.hypervisor_type, 'QEMU');
  assert.equal(h.service, { host: 'node1', id: '00000000-0000-4000-8000-000000000001', disabled_reason: null });
  const at288 = await c.request('GET', '/v2.1/os-hypervisors/00000000-0000-4000-8000-000000000002', { token: admin, version: '2.88' });
  assert.is(at288.json.hypervisor.state, 'down');
  assert.not.ok('vcpus' in at288.json.hypervisor);
  const stats = await c.request('GET', '/v2.1/os-hypervisors/statistics', { token: admin });
  assert.is(stats.json.hypervisor_statistics.count, 2);
  assert.is(stats.json.hypervisor_statistics.vcpus, 8);
  assert.is((await c.request('GET', '/v2.1/os-hypervisors/9', { token: admin })).status, 404);
});

test.run();
