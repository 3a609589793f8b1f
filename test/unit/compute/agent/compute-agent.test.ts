import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../../../common/clock.ts';
import { nullLogger } from '../../../../common/logger.ts';
import { ComputeAgent } from '../../../../compute/agent/compute-agent.ts';
import { domainXml } from '../../../../compute/agent/hypervisor/domain-xml.ts';
import { MemoryHypervisor } from '../../../../compute/agent/hypervisor/memory.ts';
import type { BuildRequest } from '../../../../compute/build-request.ts';
import type { ComputeHostRecord } from '../../../../compute/host-record.ts';
import { T } from '../../../../compute/records.ts';
import type { ServerRecord } from '../../../../compute/server-record.ts';
import { COMPUTE_SERVICE_TOKEN, makeAgent, startCompute } from '../../../helpers/compute.ts';

/** What a restarted agent or API finds, and that it finishes the work without doing any twice. */
async function setup() {
  const c = await startCompute();
  const admin = await c.identity.token();
  const demo = await c.identity.token({ user: 'demo' });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  const imageId = c.images.add().id;
  const netId = c.networks.addNetwork('private').id;
  const boot = async (): Promise<string> => (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef: imageId, flavorRef: '1', networks: [{ uuid: netId }] } } })).json.server.id;
  return { c, admin, demo, boot };
}

test('an agent that died after making the port and starting the domain: the next one finishes with the same port and domain', async () => {
  const { c, demo, boot } = await setup();
  const first = await makeAgent(c);
  await first.agent.register();
  const id = await boot();
  // What the dead agent had done: the port (bound to the server), the domain defined and running, the state at spawning.
  const made = await c.networks.createPort(demo, { network_id: [...c.networks.networks.keys()][0], device_id: id });
  const port = await c.networks.updatePort(COMPUTE_SERVICE_TOKEN, made.id, { device_owner: 'compute:nova', 'binding:host_id': 'node1' });
  await first.hypervisor.define(domainXml({ name: `instance-${id}`, uuid: id, virtType: 'qemu', memoryMiB: 512, vcpus: 1, disks: [], nics: [], consoleLogPath: '/tmp/console.log' }));
  await first.hypervisor.start(`instance-${id}`);
  const record = (await c.records.get<ServerRecord>(T.servers, id)) as { value: ServerRecord; version: string };
  await c.records.put(T.servers, id, { ...record.value, task_state: 'spawning' });
  // A new agent process on the same host (same hypervisor: libvirt keeps domains across agent restarts).
  const second = new ComputeAgent(
    { host: 'node1', availabilityZone: 'nova', hostIp: '127.0.0.1', stateDir: first.stateDir, virtType: 'qemu', heartbeatMs: 10_000, pollMs: 50, concurrency: 4, stopTimeoutMs: 1000 },
    { store: c.service.store, hosts: c.service.hosts, hypervisor: first.hypervisor, images: c.images, networks: c.networks, service: { token: async () => COMPUTE_SERVICE_TOKEN }, disks: c.disks, logger: nullLogger },
  );
  await second.register();
  await second.drain();
  const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.is(s.status, 'ACTIVE');
  assert.equal([...c.networks.ports.keys()], [port.id], 'no second port');
  assert.is((await first.hypervisor.list()).length, 1, 'no second domain');
  // The restart kept the claim: the host still counts the server once.
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value;
  assert.equal(host?.instances, [id]);
  assert.is(host?.used.vcpus, 1);
  await first.remove();
  await c.close();
});

test('a member\'s boot reaches ACTIVE: the port is created with their token and bound with compute\'s own (Neutron lets only admins set binding:host_id)', async () => {
  const { c, demo, boot } = await setup();
  const a = await makeAgent(c);
  await a.agent.register();
  const id = await boot();
  await a.agent.drain();
  const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.is(s.status, 'ACTIVE', JSON.stringify(s.fault));
  const [port] = [...c.networks.ports.values()];
  assert.is(c.networks.creators.get(port?.id ?? ''), demo, "the user's port");
  assert.equal([port?.device_id, port?.['device_owner'], port?.['binding:host_id']], [id, 'compute:nova', 'node1']);
  assert.equal(s.addresses.private.map((x: { addr: string }) => x.addr), [port?.fixed_ips[0]?.ip_address]);
  // Delete: the port compute made goes with the server.
  assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
  await a.agent.drain();
  assert.is(c.networks.ports.size, 0);
  await a.remove();
  await c.close();
});

test('an agent that died between creating the port and binding it: the next one binds that port, makes no second', async () => {
  const { c, demo, boot } = await setup();
  const a = await makeAgent(c);
  await a.agent.register();
  const id = await boot();
  const made = await c.networks.createPort(demo, { network_id: [...c.networks.networks.keys()][0], device_id: id });
  await a.agent.drain();
  assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server.status, 'ACTIVE');
  assert.equal([...c.networks.ports.keys()], [made.id]);
  assert.is(c.networks.ports.get(made.id)?.['binding:host_id'], 'node1');
  await a.remove();
  await c.close();
});

test('a port the user brought is bound with compute\'s token and, at delete, unbound with it and kept', async () => {
  const { c, demo } = await setup();
  const a = await makeAgent(c);
  await a.agent.register();
  const own = await c.networks.createPort(demo, { network_id: [...c.networks.networks.keys()][0] });
  const imageId = [...c.images.images.keys()][0];
  const id = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef: imageId, flavorRef: '1', networks: [{ port: own.id }] } } })).json.server.id;
  await a.agent.drain();
  assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server.status, 'ACTIVE');
  assert.is(c.networks.ports.get(own.id)?.['binding:host_id'], 'node1');
  await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo });
  await a.agent.drain();
  assert.equal([c.networks.ports.get(own.id)?.device_id, c.networks.ports.get(own.id)?.['binding:host_id']], ['', '']);
  await a.remove();
  await c.close();
});

test('an API that stopped between writing a server and queuing its build: resumeBuilds places and queues it once', async () => {
  const { c, demo, boot } = await setup();
  const a = await makeAgent(c);
  await a.agent.register();
  const id = await boot();
  await a.agent.drain();
  // Forge the half-done state: the build request still there, the server unplaced, nothing queued.
  const record = (await c.records.get<ServerRecord>(T.servers, id)) as { value: ServerRecord };
  await c.records.put(T.servers, id, { ...record.value, host: null, vm_state: 'building', task_state: 'scheduling' });
  const build: BuildRequest = { server: id, token: demo, requestId: 'req-1', claim: { instanceUuid: id, resources: { vcpus: 1, memoryMiB: 512, diskGiB: 1 } }, imageProperties: {}, createdMs: Date.now() - 120_000 };
  await c.records.put(T.buildRequests, id, build);
  assert.is(await c.service.resumeBuilds(), 1);
  assert.is(await c.service.resumeBuilds(), 0, 'the build request is gone once queued');
  await a.agent.drain();
  assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server.status, 'ACTIVE');
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value;
  assert.equal(host?.instances, [id], 'the claim the server already held is not taken twice');
  await a.remove();
  await c.close();
});

test('a server placed twice (bug: resumeBuilds re-placed a build its API was still queuing, on another host): a build request whose server has a host goes to that host only', async () => {
  const { c, demo, boot } = await setup();
  const a = await makeAgent(c, 'node1');
  const b = await makeAgent(c, 'node2');
  await a.agent.register();
  await b.agent.register();
  const id = await boot();
  await Promise.all([a.agent.drain(), b.agent.drain()]);
  const placedOn = (await c.records.get<ServerRecord>(T.servers, id))?.value.host as string;
  const other = placedOn === 'node1' ? 'node2' : 'node1';
  // The API pass had claimed and written the host but not queued yet when a resume pass came:
  // the weighers now prefer the other, emptier host.
  const build: BuildRequest = { server: id, token: demo, requestId: 'req-1', claim: { instanceUuid: id, resources: { vcpus: 1, memoryMiB: 512, diskGiB: 1 } }, imageProperties: {}, createdMs: Date.now() - 120_000 };
  await c.records.put(T.buildRequests, id, build);
  assert.is(await c.service.resumeBuilds(), 1);
  await Promise.all([a.agent.drain(), b.agent.drain()]);
  const server = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.is(server.status, 'ACTIVE');
  assert.is((await c.records.get<ServerRecord>(T.servers, id))?.value.host, placedOn, 'still on the host it was placed on');
  assert.equal((await c.records.get<ComputeHostRecord>(T.hosts, placedOn))?.value.instances, [id]);
  assert.equal((await c.records.get<ComputeHostRecord>(T.hosts, other))?.value.instances, [], 'no claim left on the other host');
  assert.is((await (other === 'node1' ? a : b).hypervisor.list()).length, 0, 'no domain on the other host');
  await a.remove();
  await b.remove();
  await c.close();
});

test('a build that fails (the image is gone from Glance) is ERROR with a fault, and its task leaves the queue', async () => {
  const { c, demo } = await setup();
  const a = await makeAgent(c);
  await a.agent.register();
  const image = c.images.add({ name: 'vanishing' });
  const netId = [...c.networks.networks.keys()][0];
  const id = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef: image.id, flavorRef: '1', networks: [{ uuid: netId }] } } })).json.server.id;
  c.images.images.delete(image.id);
  await a.agent.drain();
  const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.is(s.status, 'ERROR');
  assert.is(s.fault.code, 500);
  assert.match(s.fault.message, new RegExp(`^Build of instance ${id} aborted: `));
  assert.is((await c.records.list(T.queue)).entries.length, 0);
  await a.remove();
  await c.close();
});

test('concurrent boots on a small host never overcommit it: the ones that do not fit are NoValidHost', async () => {
  const { c, demo, boot } = await setup();
  const a = await makeAgent(c, 'node1', { vcpus: 1, memoryMiB: 2048, diskGiB: 100 });
  await a.agent.register();
  // 1 vCPU at Nova's 4.0 ratio and 1.5 GiB of RAM after the 512 MiB reserve: three 512 MiB servers fit.
  const ids = await Promise.all(Array.from({ length: 6 }, () => boot()));
  await a.agent.drain();
  const states = await Promise.all(ids.map(async (id) => (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server.status));
  assert.is(states.filter((s) => s === 'ACTIVE').length, 3);
  assert.is(states.filter((s) => s === 'ERROR').length, 3);
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value;
  assert.is(host?.used.memoryMiB, 1536);
  await a.remove();
  await c.close();
});

test('a host that stopped heartbeating is down: deleting its server happens in the API (ports, claim, record)', async () => {
  const { c, admin, demo, boot } = await setup();
  const a = await makeAgent(c);
  await a.agent.register();
  const id = await boot();
  await a.agent.drain();
  assert.is(c.networks.ports.size, 1);
  // The agent is gone; its last heartbeat was two minutes ago.
  const host = (await c.records.get<ComputeHostRecord>(T.hosts, 'node1')) as { value: ComputeHostRecord };
  await c.records.put(T.hosts, 'node1', { ...host.value, lastHeartbeatMs: Date.now() - 120_000 });
  const services = await c.request('GET', '/v2.1/os-services', { token: admin });
  assert.is(services.json.services[0].state, 'down');
  assert.is((await c.request('DELETE', `/v2.1/servers/${id}`, { token: demo })).status, 204);
  assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).status, 404);
  assert.is(c.networks.ports.size, 0);
  assert.equal((await c.records.get<ComputeHostRecord>(T.hosts, 'node1'))?.value.instances, []);
  assert.is((await c.records.list(T.queue)).entries.length, 0, 'nothing queued for the dead host');
  await a.remove();
  await c.close();
});

/** A new agent process on `first`'s host and state dir, over `hypervisor` (a fresh one: the domains went with the old process). */
function restartedAgent(c: Awaited<ReturnType<typeof setup>>['c'], stateDir: string, hypervisor: MemoryHypervisor, resume: boolean): ComputeAgent {
  return new ComputeAgent(
    { host: 'node1', availabilityZone: 'nova', hostIp: '127.0.0.1', stateDir, virtType: 'qemu', heartbeatMs: 10_000, pollMs: 50, concurrency: 4, stopTimeoutMs: 1000, resumeGuestsStateOnHostBoot: resume },
    { store: c.service.store, hosts: c.service.hosts, hypervisor, images: c.images, networks: c.networks, service: { token: async () => COMPUTE_SERVICE_TOKEN }, disks: c.disks, logger: nullLogger },
  );
}

test('stop waits for a heartbeat in flight, so the hypervisor closes after its list and not under it', async () => {
  const { c } = await setup();
  const a = await makeAgent(c, 'node1', undefined, 'nova', { heartbeatMs: 20 });
  await a.agent.start();
  let release = (): void => {};
  let entered = (): void => {};
  const listing = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const list = a.hypervisor.list.bind(a.hypervisor);
  a.hypervisor.list = async () => {
    entered();
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return list();
  };
  try {
    await listing;
    let stopped = false;
    const stopping = a.agent.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.not.ok(stopped, 'stop returned while a heartbeat was listing domains');
    release();
    await stopping;
  } finally {
    release();
    await a.agent.stop();
    await a.remove();
    await c.close();
  }
});

test('test:///default loses its domains when a storage process restarts: the restarted agent defines them again, runs the ACTIVE servers and leaves the SHUTOFF ones off', async () => {
  const { c, demo, boot } = await setup();
  const first = await makeAgent(c);
  await first.agent.register();
  const running = await boot();
  const off = await boot();
  await first.agent.drain();
  assert.is((await c.request('POST', `/v2.1/servers/${off}/action`, { token: demo, body: { 'os-stop': null } })).status, 202);
  await first.agent.drain();
  await first.agent.stop();
  // The process ends: its in-process hypervisor and every domain in it are gone.
  const fresh = new MemoryHypervisor({ clock: systemClock, shutdownPollMs: 10, resources: { hostname: 'node1', vcpus: 4, memoryMiB: 8192, diskGiB: 100, hypervisorType: 'fake' } });
  const second = restartedAgent(c, first.stateDir, fresh, true);
  await second.start();
  await second.stop();
  const show = async (id: string) => (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  const [a, b] = [await show(running), await show(off)];
  assert.equal([a.status, a['OS-EXT-STS:power_state']], ['ACTIVE', 1]);
  assert.equal([b.status, b['OS-EXT-STS:power_state']], ['SHUTOFF', 4]);
  const domains = await fresh.list();
  assert.equal(domains.map((d) => [d.uuid, d.powerState]).sort(), [[running, 'running'], [off, 'shutdown']].sort());
  // The domain is the server's as the build made it: its flavor, its NIC, its disk.
  const nameOf = async (id: string) => (await c.records.get<ServerRecord>(T.servers, id))?.value.instance_name ?? '';
  const xml = await fresh.domainXml(await nameOf(running));
  assert.match(xml, /<memory unit='KiB'>524288<\/memory>/);
  assert.match(xml, new RegExp(`${first.stateDir}/${running}/disk`));
  assert.match(xml, new RegExp(c.networks.ports.values().next().value?.mac_address ?? 'no port'));
  // A stop after the restart reaches the guest (before the fix: DomainNotFound, the server stuck ACTIVE).
  const third = restartedAgent(c, first.stateDir, fresh, true);
  await third.register();
  assert.is((await c.request('POST', `/v2.1/servers/${running}/action`, { token: demo, body: { 'os-stop': null } })).status, 202);
  await third.drain();
  assert.is((await show(running)).status, 'SHUTOFF');
  assert.is((await fresh.info(await nameOf(running))).powerState, 'shutdown');
  await first.remove();
  await c.close();
});

test('without resume_guests_state_on_host_boot a server whose guest is gone after a restart is SHUTOFF (Nova\'s power-state sync), its domain defined', async () => {
  const { c, demo, boot } = await setup();
  const first = await makeAgent(c);
  await first.agent.register();
  const id = await boot();
  await first.agent.drain();
  await first.agent.stop();
  const fresh = new MemoryHypervisor({ clock: systemClock, shutdownPollMs: 10, resources: { hostname: 'node1', vcpus: 4, memoryMiB: 8192, diskGiB: 100, hypervisorType: 'fake' } });
  const second = restartedAgent(c, first.stateDir, fresh, false);
  await second.start();
  await second.stop();
  const s = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.equal([s.status, s['OS-EXT-STS:power_state']], ['SHUTOFF', 4]);
  assert.is((await fresh.info((await c.records.get<ServerRecord>(T.servers, id))?.value.instance_name ?? '')).powerState, 'shutdown');
  // And it starts again.
  const third = restartedAgent(c, first.stateDir, fresh, false);
  await third.register();
  assert.is((await c.request('POST', `/v2.1/servers/${id}/action`, { token: demo, body: { 'os-start': null } })).status, 202);
  await third.drain();
  assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server.status, 'ACTIVE');
  await first.remove();
  await c.close();
});

test.run();
