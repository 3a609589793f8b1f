import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComputeHostRecord } from '../../../../compute/host-record.ts';
import { T } from '../../../../compute/records.ts';
import { makeAgent, startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** os-hosts (2.1 to 2.42) and the scheduler and conductor an API process reports (os-services, the `internal` zone). */
let c: TestCompute;
let admin: string;
let demo: string;
let server: string;

test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.small', id: '2', ram: 1024, vcpus: 2, disk: 5 } } });
  const a = await makeAgent(c);
  await a.agent.register();
  const imageRef = c.images.add().id;
  server = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef, flavorRef: '2', networks: 'none' } }, version: '2.37' })).json.server.id;
  await a.agent.drain();
  await c.service.reportServices('ctl1');
});
test.after(() => c.close());

test('os-services: the API process\'s nova-scheduler and nova-conductor, zone internal, up while it reports; binary filter', async () => {
  const list = await c.request('GET', '/v2.1/os-services', { token: admin, version: '2.53' });
  const rows = list.json.services.map((s: { binary: string; host: string; zone: string; state: string; status: string }) => [s.binary, s.host, s.zone, s.state, s.status]);
  assert.equal(rows, [['nova-compute', 'node1', 'nova', 'up', 'enabled'], ['nova-conductor', 'ctl1', 'internal', 'up', 'enabled'], ['nova-scheduler', 'ctl1', 'internal', 'up', 'enabled']]);
  assert.match(list.json.services[1].id, /^[0-9a-f-]{36}$/);
  const schedulers = await c.request('GET', '/v2.1/os-services?binary=nova-scheduler', { token: admin });
  assert.equal(schedulers.json.services.map((s: { binary: string }) => s.binary), ['nova-scheduler']);
  assert.is(typeof schedulers.json.services[0].id, 'number');
});

test('availability zones: detail (admin) has the internal zone with the conductor and scheduler; the plain list does not', async () => {
  const detail = (await c.request('GET', '/v2.1/os-availability-zone/detail', { token: admin })).json.availabilityZoneInfo;
  const internal = detail.find((z: { zoneName: string }) => z.zoneName === 'internal');
  assert.equal(internal.zoneState, { available: true });
  assert.equal(Object.keys(internal.hosts.ctl1).sort(), ['nova-conductor', 'nova-scheduler']);
  assert.is(internal.hosts.ctl1['nova-scheduler'].available, true);
  assert.is(internal.hosts.ctl1['nova-scheduler'].active, true);
  const plain = (await c.request('GET', '/v2.1/os-availability-zone', { token: demo })).json.availabilityZoneInfo;
  assert.equal(plain.map((z: { zoneName: string }) => z.zoneName), ['nova']);
});

test('os-hosts list: each enabled service\'s host, service and zone; zone filter; admins only; gone at 2.43', async () => {
  const list = await c.request('GET', '/v2.1/os-hosts', { token: admin });
  assert.equal(list.json.hosts, [
    { host_name: 'node1', service: 'compute', zone: 'nova' },
    { host_name: 'ctl1', service: 'conductor', zone: 'internal' },
    { host_name: 'ctl1', service: 'scheduler', zone: 'internal' },
  ]);
  assert.equal((await c.request('GET', '/v2.1/os-hosts?zone=nova', { token: admin })).json.hosts, [{ host_name: 'node1', service: 'compute', zone: 'nova' }]);
  const refused = await c.request('GET', '/v2.1/os-hosts', { token: demo });
  assert.equal(refused.json, { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-hosts:list to be performed." } });
  assert.equal((await c.request('GET', '/v2.1/os-hosts', { token: admin, version: '2.43' })).json, { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
});

test('os-hosts show: (total), (used_now), (used_max) and one row per project; unknown host 404', async () => {
  const h = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value as ComputeHostRecord;
  const project = (await c.request('GET', `/v2.1/servers/${server}`, { token: demo })).json.server.tenant_id;
  const shown = await c.request('GET', '/v2.1/os-hosts/node1', { token: admin });
  assert.is(shown.status, 200);
  assert.equal(shown.json.host, [
    { resource: { host: 'node1', project: '(total)', cpu: h.total.vcpus, memory_mb: h.total.memoryMiB, disk_gb: h.total.diskGiB } },
    { resource: { host: 'node1', project: '(used_now)', cpu: 2, memory_mb: 1024 + h.reserved.memoryMiB, disk_gb: 5 } },
    { resource: { host: 'node1', project: '(used_max)', cpu: 2, memory_mb: 1024, disk_gb: 5 } },
    { resource: { host: 'node1', project, cpu: 2, memory_mb: 1024, disk_gb: 5 } },
  ]);
  assert.equal((await c.request('GET', '/v2.1/os-hosts/nohost', { token: admin })).json, { itemNotFound: { code: 404, message: "Host 'nohost' is not mapped to any cell" } });
  assert.is((await c.request('GET', '/v2.1/os-hosts/ctl1', { token: admin })).status, 404, 'a scheduler host has no compute node');
});

test('os-hosts update and power actions as Nova answers them with libvirt: status acknowledged, maintenance and power 501', async () => {
  const status = await c.request('PUT', '/v2.1/os-hosts/node1', { token: admin, body: { status: 'Disable' } });
  assert.equal(status.json, { host: 'node1', status: 'disabled' });
  // Acknowledged only: the driver has no set_host_enabled, the service stays enabled.
  assert.is((await c.request('GET', '/v2.1/os-services?host=node1', { token: admin })).json.services[0].status, 'enabled');
  const maintenance = await c.request('PUT', '/v2.1/os-hosts/node1', { token: admin, body: { maintenance_mode: 'enable' } });
  assert.equal(maintenance.json, { notImplemented: { code: 501, message: 'The requested functionality is not supported.' } });
  for (const action of ['startup', 'shutdown', 'reboot']) {
    assert.equal((await c.request('GET', `/v2.1/os-hosts/node1/${action}`, { token: admin })).json, { notImplemented: { code: 501, message: 'The requested functionality is not supported.' } });
  }
  assert.is((await c.request('GET', '/v2.1/os-hosts/nohost/reboot', { token: admin })).status, 404);
  const bad = await c.request('PUT', '/v2.1/os-hosts/node1', { token: admin, body: { status: 'off' } });
  assert.equal(bad.json, { badRequest: { code: 400, message: "Invalid input for field/attribute status. Value: off. 'off' is not one of ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE']" } });
  const empty = await c.request('PUT', '/v2.1/os-hosts/node1', { token: admin, body: {} });
  assert.equal(empty.json, { badRequest: { code: 400, message: '{} is not valid under any of the given schemas' } });
  assert.is((await c.request('PUT', '/v2.1/os-hosts/node1', { token: demo, body: { status: 'enable' } })).status, 403);
  assert.is((await c.request('PUT', '/v2.1/os-hosts/nohost', { token: admin, body: { status: 'enable' } })).status, 404);
});

test.run();
