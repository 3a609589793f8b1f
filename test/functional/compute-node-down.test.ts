import { MemoryDiskTransfer } from '../../compute/agent/disk-transfer.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { systemClock } from '../../common/clock.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { listen } from '../../common/http/server.ts';
import { nullLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { RevocationList } from '../../common/token/revocation.ts';
import { ServiceCredential } from '../../client/service-credential.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { SwiftRecordStore } from '../../client/swift-record-store.ts';
import { ComputeAgent } from '../../compute/agent/compute-agent.ts';
import { MemoryHypervisor } from '../../compute/agent/hypervisor/memory.ts';
import { GlanceImageApi } from '../../compute/image-api.ts';
import { NeutronNetworkApi } from '../../compute/network-api.ts';
import { ComputeService } from '../../compute/service.ts';
import { startCluster } from '../helpers/cluster.ts';
import { COMPUTE_ACCOUNT_USERS } from '../helpers/compute.ts';
import { httpRequest } from '../helpers/http.ts';
import { IDENTITY_ACCOUNT_USERS, startIdentity } from '../helpers/identity.ts';
import { IMAGE_ACCOUNT_USERS, startImage } from '../helpers/image.ts';
import { clusterNetworkRecords, NETWORK_ACCOUNT_USERS, startNetwork } from '../helpers/network.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

/**
 * The "with one storage node's process killed, the APIs keep answering and a boot still
 * succeeds": identity, images, network and compute keep every record in the cluster (4 nodes,
 * 3 replicas); one storage node is stopped (its listeners closed: connections refused, as a
 * killed process's are) while servers, networks and images are listed and a server boots.
 */
test('one storage node down: servers, networks and images still list, and a boot reaches ACTIVE with an address', async () => {
  const clock = systemClock;
  const http = new UndiciBackendClient();
  const cluster = await startCluster({ users: { ...IDENTITY_ACCOUNT_USERS, ...IMAGE_ACCOUNT_USERS, ...NETWORK_ACCOUNT_USERS, ...COMPUTE_ACCOUNT_USERS } });
  const identity = await startIdentity({ cluster, clock, serviceUsers: [{ user: 'nova', password: 'nova-secret' }] });
  const image = await startImage({ cluster, identity, clock });
  const networkRecords = clusterNetworkRecords(cluster);
  const network = await startNetwork({ records: networkRecords.records, identity, clock });
  const credential = new ServiceCredential({ identityUrl: `${identity.url}/v3`, user: 'nova', password: 'nova-secret', project: 'service', domain: 'Default' }, { http, clock });
  const images = new GlanceImageApi(image.url, http, credential);
  const networks = new NeutronNetworkApi(network.url, http, credential);
  const records = new SwiftRecordStore(new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.compute:compute', key: 'compute-key' }, { http, clock }));
  const compute = new ComputeService({ publicUrl: '', imageUrl: image.url }, { records, keys: new FernetKeyRepository(identity.keyRepository, clock), revocations: new RevocationList(), images, networks, service: credential, clock, logger: nullLogger });
  const computeUrl = await listen(compute.server.handle, { host: '127.0.0.1', port: 0, logger: nullLogger });
  const dir = await makeTempDir('compute-node-down-');
  const agent = new ComputeAgent(
    { host: 'compute1', availabilityZone: 'nova', hostIp: '127.0.0.1', stateDir: dir.path, virtType: 'qemu', heartbeatMs: 60_000, pollMs: 50, concurrency: 4, stopTimeoutMs: 1000 },
    { store: compute.store, hosts: compute.hosts, hypervisor: new MemoryHypervisor({ clock, shutdownPollMs: 10, resources: { hostname: 'compute1', vcpus: 4, memoryMiB: 8192, diskGiB: 100, hypervisorType: 'fake' } }), images, networks, service: credential, disks: new MemoryDiskTransfer(), logger: nullLogger },
  );
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the service answered
  const nova = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await httpRequest(computeUrl.port, method, path, { 'X-Auth-Token': token, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) }, body ? JSON.stringify(body) : undefined);
    return { status: res.status, json: res.body.length > 0 ? JSON.parse(res.body.toString()) : undefined };
  };
  try {
    await agent.register();
    const admin = await identity.token();
    const demo = await identity.token({ user: 'demo' });
    assert.is((await nova('POST', '/v2.1/flavors', admin, { flavor: { name: 'm1.tiny', id: '1', ram: 128, vcpus: 1, disk: 1 } })).status, 200);
    const imageId = (await image.request('POST', '/v2/images', { token: admin, body: { name: 'cirros', disk_format: 'raw', container_format: 'bare', visibility: 'public' } })).json.id;
    assert.is((await image.request('PUT', `/v2/images/${imageId}/file`, { token: admin, body: Buffer.from('a bootable disk\n'), headers: { 'Content-Type': 'application/octet-stream' } })).status, 204);
    const netId = (await network.request('POST', '/v2.0/networks', { token: demo, body: { network: { name: 'private' } } })).json.network.id;
    assert.is((await network.request('POST', '/v2.0/subnets', { token: demo, body: { subnet: { network_id: netId, ip_version: 4, cidr: '10.91.0.0/24' } } })).status, 201);
    const boot = async (name: string): Promise<string> => {
      const res = await nova('POST', '/v2.1/servers', demo, { server: { name, imageRef: imageId, flavorRef: '1', networks: [{ uuid: netId }] } });
      assert.is(res.status, 202, JSON.stringify(res.json));
      await agent.drain();
      return res.json.server.id;
    };
    const before = await boot('before');

    await cluster.stopNode(1);

    const servers = await nova('GET', '/v2.1/servers/detail', demo);
    assert.is(servers.status, 200);
    assert.equal(servers.json.servers.map((s: { id: string; status: string }) => [s.id, s.status]), [[before, 'ACTIVE']]);
    const nets = await network.request('GET', '/v2.0/networks', { token: demo });
    assert.is(nets.status, 200);
    assert.ok(nets.json.networks.some((n: { id: string }) => n.id === netId));
    const listed = await image.request('GET', '/v2/images', { token: demo });
    assert.is(listed.status, 200);
    assert.equal(listed.json.images.map((i: { id: string; status: string }) => [i.id, i.status]), [[imageId, 'active']]);

    const during = await boot('during');
    const s = (await nova('GET', `/v2.1/servers/${during}`, demo)).json.server;
    assert.is(s.status, 'ACTIVE', JSON.stringify(s.fault));
    assert.match(s.addresses.private[0].addr, /^10\.91\.0\./);
    assert.not.equal(s.addresses.private[0].addr, (await nova('GET', `/v2.1/servers/${before}`, demo)).json.server.addresses.private[0].addr, 'no address given twice');
    assert.is((await nova('GET', '/v2.1/servers', demo)).json.servers.length, 2);
  } finally {
    await cluster.startNode(1).catch(() => undefined);
    await agent.stop();
    await computeUrl.close();
    await network.close();
    await networkRecords.close();
    await image.close();
    await identity.close();
    await cluster.close();
    await http.close();
    await dir.remove();
  }
});

test.run();
