import { MemoryDiskTransfer } from '../../compute/agent/disk-transfer.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { listen } from '../../common/http/server.ts';
import { nullLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { RevocationList } from '../../common/token/revocation.ts';
import { MemoryRecordStore } from '../../client/memory-record-store.ts';
import { ServiceCredential } from '../../client/service-credential.ts';
import { ComputeAgent } from '../../compute/agent/compute-agent.ts';
import { MemoryHypervisor } from '../../compute/agent/hypervisor/memory.ts';
import { GlanceImageApi } from '../../compute/image-api.ts';
import { NeutronNetworkApi } from '../../compute/network-api.ts';
import { ComputeService } from '../../compute/service.ts';
import { startCluster, type TestCluster } from '../helpers/cluster.ts';
import { httpRequest } from '../helpers/http.ts';
import { IDENTITY_ACCOUNT_USERS, startIdentity, type TestIdentity } from '../helpers/identity.ts';
import { IMAGE_ACCOUNT_USERS, startImage, type TestImage } from '../helpers/image.ts';
import { startNetwork, type TestNetwork } from '../helpers/network.ts';
import { OffsetClock } from '../helpers/offset-clock.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

/**
 * A boot through the real services, in process: identity (with the `nova` service user),
 * Glance (its data in a cluster), Neutron, and the compute API and an agent that call them over
 * HTTP with the user's token and compute's own credential. What a member sees: ACTIVE, an
 * address on their subnet, a port that is theirs and bound to the host.
 */
const NOVA_PASSWORD = 'nova-secret';
const HOST = 'compute1';
const clock = new OffsetClock();
const http = new UndiciBackendClient();
let cluster: TestCluster;
let identity: TestIdentity;
let image: TestImage;
let network: TestNetwork;
let compute: ComputeService;
let agent: ComputeAgent;
let computeUrl: { port: number; close(): Promise<void> };
let dir: Awaited<ReturnType<typeof makeTempDir>>;
let admin: string;
let demo: string;
let imageId: string;
let netId: string;

// biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the service answered
async function nova(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await httpRequest(computeUrl.port, method, path, { 'X-Auth-Token': token, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) }, body ? JSON.stringify(body) : undefined);
  return { status: res.status, json: res.body.length > 0 ? JSON.parse(res.body.toString()) : undefined };
}

test.before(async () => {
  cluster = await startCluster({ users: { ...IDENTITY_ACCOUNT_USERS, ...IMAGE_ACCOUNT_USERS } });
  identity = await startIdentity({ cluster, clock, serviceUsers: [{ user: 'nova', password: NOVA_PASSWORD }] });
  image = await startImage({ cluster, identity, clock });
  network = await startNetwork({ identity, clock });
  const credential = new ServiceCredential({ identityUrl: `${identity.url}/v3`, user: 'nova', password: NOVA_PASSWORD, project: 'service', domain: 'Default' }, { http, clock });
  const images = new GlanceImageApi(image.url, http, credential);
  const networks = new NeutronNetworkApi(network.url, http, credential);
  compute = new ComputeService({ publicUrl: '', imageUrl: image.url }, { records: new MemoryRecordStore(), keys: new FernetKeyRepository(identity.keyRepository, clock), revocations: new RevocationList(), images, networks, service: credential, clock, logger: nullLogger });
  computeUrl = await listen(compute.server.handle, { host: '127.0.0.1', port: 0, logger: nullLogger });
  dir = await makeTempDir('compute-boot-');
  const hypervisor = new MemoryHypervisor({ clock, shutdownPollMs: 10, resources: { hostname: HOST, vcpus: 4, memoryMiB: 8192, diskGiB: 100, hypervisorType: 'fake' } });
  agent = new ComputeAgent(
    { host: HOST, availabilityZone: 'nova', hostIp: '127.0.0.1', stateDir: dir.path, virtType: 'qemu', heartbeatMs: 60_000, pollMs: 50, concurrency: 4, stopTimeoutMs: 1000 },
    { store: compute.store, hosts: compute.hosts, hypervisor, images, networks, service: credential, disks: new MemoryDiskTransfer(), logger: nullLogger },
  );
  await agent.register();
  admin = await identity.token();
  demo = await identity.token({ user: 'demo' });
  assert.is((await nova('POST', '/v2.1/flavors', admin, { flavor: { name: 'm1.tiny', id: '1', ram: 128, vcpus: 1, disk: 1 } })).status, 200);
  const made = await image.request('POST', '/v2/images', { token: admin, body: { name: 'cirros', disk_format: 'raw', container_format: 'bare', visibility: 'public' } });
  imageId = made.json.id;
  assert.is((await image.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: Buffer.from('a bootable disk\n'), headers: { 'Content-Type': 'application/octet-stream' } })).status, 204);
  netId = (await network.request('POST', '/v2.0/networks', { token: demo, body: { network: { name: 'private' } } })).json.network.id;
  assert.is((await network.request('POST', '/v2.0/subnets', { token: demo, body: { subnet: { network_id: netId, ip_version: 4, cidr: '10.90.0.0/24' } } })).status, 201);
});

test.after(async () => {
  await agent.stop();
  await computeUrl.close();
  await network.close();
  await image.close();
  await identity.close();
  await cluster.close();
  await http.close();
  await dir.remove();
});

async function boot(name: string): Promise<string> {
  const res = await nova('POST', '/v2.1/servers', demo, { server: { name, imageRef: imageId, flavorRef: '1', networks: [{ uuid: netId }] } });
  assert.is(res.status, 202, JSON.stringify(res.json));
  return res.json.server.id;
}

test("a member's server reaches ACTIVE with an address on their subnet; its port is theirs, bound to the host with compute's credential", async () => {
  const id = await boot('vm1');
  await agent.drain();
  const s = (await nova('GET', `/v2.1/servers/${id}`, demo)).json.server;
  assert.is(s.status, 'ACTIVE', JSON.stringify(s.fault));
  const addr: string = s.addresses.private[0].addr;
  assert.match(addr, /^10\.90\.0\.\d+$/);
  const ports = (await network.request('GET', `/v2.0/ports?device_id=${id}`, { token: admin })).json.ports;
  assert.is(ports.length, 1);
  const demoProject = (await identity.request('GET', '/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': demo } })).json.token.project.id;
  assert.equal([ports[0].project_id, ports[0].device_owner, ports[0]['binding:host_id'], ports[0].fixed_ips[0].ip_address], [demoProject, 'compute:nova', HOST, addr]);
  // The host's network driver was told about the bound port.
  assert.ok(network.driver.syncs.some((sync) => JSON.stringify(sync.plan).includes(ports[0].id.slice(0, 11))), 'the host got the port');
});

test("a build still queued when the member's token expires reaches ACTIVE: compute's X-Service-Token lets the services accept it", async () => {
  const id = await boot('vm2');
  clock.advance(2 * 3600 * 1000);
  try {
    assert.is((await network.request('GET', '/v2.0/networks', { token: demo })).status, 401, 'the member token alone has expired');
    await agent.drain();
    const s = (await nova('GET', `/v2.1/servers/${id}`, await identity.token({ user: 'demo' }))).json.server;
    assert.is(s.status, 'ACTIVE', JSON.stringify(s.fault));
  } finally {
    clock.advance(-2 * 3600 * 1000);
  }
});

test("delete: the servers' ports go with them", async () => {
  for (const s of (await nova('GET', '/v2.1/servers', demo)).json.servers) assert.is((await nova('DELETE', `/v2.1/servers/${s.id}`, demo)).status, 204);
  await agent.drain();
  assert.equal((await nova('GET', '/v2.1/servers', demo)).json.servers, []);
  assert.equal((await network.request('GET', `/v2.0/ports?network_id=${netId}&device_owner=compute:nova`, { token: admin })).json.ports, []);
});

test.run();
