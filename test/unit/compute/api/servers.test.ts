import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComputeAgent } from '../../../../compute/agent/compute-agent.ts';
import type { MemoryHypervisor } from '../../../../compute/agent/hypervisor/memory.ts';
import { T } from '../../../../compute/records.ts';
import { makeAgent, startCompute, type TestCompute } from '../../../helpers/compute.ts';

/** Servers from `openstack server create --image --flavor --network --key-name --wait` to delete. */
let c: TestCompute;
let admin: string;
let demo: string;
let agent: ComputeAgent;
let hypervisor: MemoryHypervisor;
let stateDir: string;
let removeAgent: () => Promise<void>;
let imageId: string;
let netId: string;
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBEr2Shn3mtM0ICMmbbvxmAVLTO4SafGJ0Nt+8FqZBam user@host';

test.before(async () => {
  c = await startCompute();
  admin = await c.identity.token();
  demo = await c.identity.token({ user: 'demo' });
  ({ agent, hypervisor, stateDir, remove: removeAgent } = await makeAgent(c));
  await agent.register();
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.huge', id: '9', ram: 4096, vcpus: 8, disk: 1 } } });
  await c.request('POST', '/v2.1/os-keypairs', { token: demo, body: { keypair: { name: 'k1', public_key: ED25519 } } });
  imageId = c.images.add({ name: 'cirros', data: Buffer.from('disk bytes of cirros') }).id;
  netId = c.networks.addNetwork('private').id;
});
test.after(async () => {
  await agent.stop();
  await removeAgent();
  await c.close();
});

const boot = (body: Record<string, unknown>, version = '2.1', token = demo) =>
  c.request('POST', '/v2.1/servers', { token, version, body: { server: { name: 'vm', imageRef: imageId, flavorRef: '1', networks: [{ uuid: netId }], ...body } } });

test('create: 202 with id, links, adminPass and Location; BUILD, then ACTIVE once the host\'s agent ran it', async () => {
  const made = await boot({ key_name: 'k1', metadata: { role: 'web' }, user_data: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') });
  assert.is(made.status, 202);
  const id = made.json.server.id;
  assert.equal(Object.keys(made.json.server).sort(), ['OS-DCF:diskConfig', 'adminPass', 'id', 'links', 'security_groups']);
  assert.is(made.headers['location'], `${c.url}/v2.1/servers/${id}`);
  const building = await c.request('GET', `/v2.1/servers/${id}`, { token: demo });
  assert.is(building.json.server.status, 'BUILD');
  assert.is(building.json.server['OS-EXT-STS:vm_state'], 'building');
  assert.equal(building.json.server.addresses, {});
  await agent.drain();
  const active = (await c.request('GET', `/v2.1/servers/${id}`, { token: demo })).json.server;
  assert.is(active.status, 'ACTIVE');
  assert.is(active['OS-EXT-STS:power_state'], 1);
  assert.is(active['OS-EXT-STS:task_state'], null);
  assert.is(active.key_name, 'k1');
  assert.equal(active.metadata, { role: 'web' });
  assert.equal(active.flavor, { id: '1', links: [{ rel: 'bookmark', href: `${c.url}/flavors/1` }] });
  assert.equal(active.image, { id: imageId, links: [{ rel: 'bookmark', href: `${c.url}/images/${imageId}` }] });
  assert.is(active.addresses.private.length, 1);
  assert.is(active.addresses.private[0].version, 4);
  assert.is(active.addresses.private[0]['OS-EXT-IPS:type'], 'fixed');
  assert.match(active.hostId, /^[0-9a-f]{56}$/);
  assert.is(active['OS-EXT-AZ:availability_zone'], 'nova');
  assert.not.ok('OS-EXT-SRV-ATTR:host' in active, 'extended attributes are for admins');
  // The domain runs on the host, with the server's UUID, its disk a copy of the cached image.
  const domain = await hypervisor.info(`instance-${id}`);
  assert.is(domain.uuid, id);
  assert.is(domain.powerState, 'running');
  assert.is((await readFile(join(stateDir, id, 'disk'))).toString(), 'disk bytes of cirros');
  // The port is Neutron's, bound to the host, owned by the server.
  const ports = [...c.networks.ports.values()].filter((p) => p.device_id === id);
  assert.is(ports.length, 1);
  assert.is(ports[0]?.['binding:host_id'], 'node1');
  assert.is(ports[0]?.['device_owner'], 'compute:nova');
  const asAdmin = (await c.request('GET', `/v2.1/servers/${id}`, { token: admin, version: '2.47' })).json.server;
  assert.is(asAdmin['OS-EXT-SRV-ATTR:host'], 'node1');
  assert.is(asAdmin['OS-EXT-SRV-ATTR:instance_name'], `instance-${id}`);
  assert.equal(asAdmin.flavor, { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.tiny', extra_specs: {} });
  // The claim is on the host's record.
  const host = await c.request('GET', '/v2.1/os-hypervisors/detail', { token: admin });
  assert.is(host.json.hypervisors[0].vcpus_used, 1);
  assert.is(host.json.hypervisors[0].memory_mb_used, 512 + 512);
});

test('the image is fetched from Glance once per host and reused', async () => {
  const before = c.images.downloads;
  await boot({ name: 'second' });
  await agent.drain();
  assert.is(c.images.downloads, before);
});

test('create refuses what Nova refuses: unknown flavor, image, key, network; no name; min > max', async () => {
  assert.equal((await boot({ flavorRef: 'nope' })).json, { badRequest: { code: 400, message: 'Flavor nope could not be found.' } });
  assert.equal((await boot({ imageRef: '11111111-1111-4111-8111-111111111111' })).json, { badRequest: { code: 400, message: 'Can not find requested image' } });
  assert.equal((await boot({ key_name: 'nokey' })).json, { badRequest: { code: 400, message: 'Invalid key_name provided.' } });
  assert.equal((await boot({ networks: [{ uuid: '22222222-2222-4222-8222-222222222222' }] })).json, { badRequest: { code: 400, message: 'Network 22222222-2222-4222-8222-222222222222 could not be found.' } });
  assert.equal((await boot({ networks: [{ uuid: 'not-a-uuid' }] })).json.badRequest.message, 'Bad networks format: network uuid is not in proper format (not-a-uuid)');
  const noName = await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { imageRef: imageId, flavorRef: '1' } } });
  assert.match(noName.json.badRequest.message, /'name' is a required property/);
  assert.equal((await boot({ min_count: 3, max_count: 2 })).json.badRequest.message, 'min_count must be <= max_count');
  const noNetworks = await c.request('POST', '/v2.1/servers', { token: demo, version: '2.37', body: { server: { name: 'x', imageRef: imageId, flavorRef: '1' } } });
  assert.match(noNetworks.json.badRequest.message, /'networks' is a required property/);
});

test('no host fits: the server goes to ERROR with Nova\'s NoValidHost fault', async () => {
  const made = await boot({ name: 'too-big', flavorRef: '9' });
  assert.is(made.status, 202);
  const s = (await c.request('GET', `/v2.1/servers/${made.json.server.id}`, { token: demo })).json.server;
  assert.is(s.status, 'ERROR');
  assert.equal({ ...s.fault, created: 'x' }, { code: 500, created: 'x', message: 'No valid host was found. There are not enough hosts available.' });
  assert.is((await c.request('DELETE', `/v2.1/servers/${s.id}`, { token: demo })).status, 204);
  assert.is((await c.request('GET', `/v2.1/servers/${s.id}`, { token: demo })).status, 404);
});

test('quota: over the instances limit is 403 with Nova\'s words; min_count/max_count boots as many as fit', async () => {
  const project = (await c.identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).json.token.project.id;
  await c.request('PUT', `/v2.1/os-quota-sets/${project}`, { token: admin, body: { quota_set: { instances: 4 } } });
  const over = await boot({ name: 'many', min_count: 3 });
  assert.equal(over.json, { forbidden: { code: 403, message: 'Quota exceeded for instances: Requested 3, but already used 2 of 4 instances' } });
  const some = await boot({ name: 'pair', min_count: 1, max_count: 5, return_reservation_id: true });
  assert.match(some.json.reservation_id, /^r-[0-9a-f]{8}$/);
  await agent.drain();
  const pair = await c.request('GET', `/v2.1/servers/detail?reservation_id=${some.json.reservation_id}`, { token: demo });
  assert.equal(pair.json.servers.map((s: { name: string; status: string }) => [s.name, s.status]).sort(), [['pair-1', 'ACTIVE'], ['pair-2', 'ACTIVE']]);
  await c.request('DELETE', `/v2.1/os-quota-sets/${project}`, { token: admin });
});

test('list: index is id, links, name; newest first; filters; limit/marker; other projects\' servers hidden unless all_tenants', async () => {
  const index = await c.request('GET', '/v2.1/servers', { token: demo });
  assert.is(index.json.servers.length, 4);
  assert.equal(Object.keys(index.json.servers[0]).sort(), ['id', 'links', 'name']);
  const byName = await c.request('GET', '/v2.1/servers/detail?name=^sec', { token: demo });
  assert.equal(byName.json.servers.map((s: { name: string }) => s.name), ['second']);
  const active = await c.request('GET', '/v2.1/servers/detail?status=ACTIVE', { token: demo });
  assert.is(active.json.servers.length, 4);
  assert.equal((await c.request('GET', '/v2.1/servers?status=bogus', { token: demo })).json.badRequest.message, 'Invalid status value');
  const page = await c.request('GET', '/v2.1/servers?limit=3', { token: demo });
  assert.is(page.json.servers.length, 3);
  const rest = await c.request('GET', `/v2.1/servers?limit=3&marker=${page.json.servers[2].id}`, { token: demo });
  assert.is(rest.json.servers.length, 1);
  assert.not.ok('servers_links' in rest.json);
  assert.is((await c.request('GET', '/v2.1/servers', { token: admin })).json.servers.length, 0);
  assert.is((await c.request('GET', '/v2.1/servers?all_tenants=1', { token: admin })).json.servers.length, 4);
  const other = (await c.request('GET', '/v2.1/servers?all_tenants=1', { token: admin })).json.servers[0].id;
  assert.is((await c.request('GET', `/v2.1/servers/${other}`, { token: admin })).status, 200);
});

test('update: name and (2.19) description; admins reach any project\'s server', async () => {
  const id = (await c.request('GET', '/v2.1/servers?name=^second$', { token: demo })).json.servers[0].id;
  const renamed = await c.request('PUT', `/v2.1/servers/${id}`, { token: demo, version: '2.19', body: { server: { name: 'renamed', description: 'about it' } } });
  assert.is(renamed.json.server.name, 'renamed');
  assert.is(renamed.json.server.description, 'about it');
  assert.is((await c.request('GET', `/v2.1/servers/${id}`, { token: admin })).json.server.name, 'renamed');
  const bad = await c.request('PUT', `/v2.1/servers/${id}`, { token: demo, body: { server: { name: ' padded' } } });
  assert.is(bad.status, 400);
});

test('delete: 204, the agent removes the domain, the ports it made, the disk and the claim', async () => {
  const servers = (await c.request('GET', '/v2.1/servers', { token: demo })).json.servers;
  for (const s of servers) assert.is((await c.request('DELETE', `/v2.1/servers/${s.id}`, { token: demo })).status, 204);
  const deleting = (await c.request('GET', `/v2.1/servers/${servers[0].id}`, { token: demo })).json.server;
  assert.is(deleting['OS-EXT-STS:task_state'], 'deleting');
  await agent.drain();
  assert.is((await c.request('GET', '/v2.1/servers', { token: demo })).json.servers.length, 0);
  assert.equal(await hypervisor.list(), []);
  assert.is(c.networks.ports.size, 0);
  const host = (await c.request('GET', '/v2.1/os-hypervisors/detail', { token: admin })).json.hypervisors[0];
  assert.is(host.vcpus_used, 0);
  assert.is(host.memory_mb_used, 512);
  assert.is((await c.records.list(T.queue)).entries.length, 0);
});

test.run();
