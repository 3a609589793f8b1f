import { MemoryDiskTransfer } from '../../compute/agent/disk-transfer.ts';
import { type Clock, systemClock } from '../../common/clock.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { RevocationList } from '../../common/token/revocation.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { MemoryRecordStore } from '../../client/memory-record-store.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { SwiftRecordStore } from '../../client/swift-record-store.ts';
import type { RecordStore } from '../../client/record-store.ts';
import { ComputeAgent, type ComputeAgentOptions } from '../../compute/agent/compute-agent.ts';
import { MemoryHypervisor } from '../../compute/agent/hypervisor/memory.ts';
import { ComputeService } from '../../compute/service.ts';
import type { VolumeApi } from '../../compute/volume-api.ts';
import type { TestCluster } from './cluster.ts';
import { FakeImageApi, FakeNetworkApi } from './fake-openstack.ts';
import { httpRequest } from './http.ts';
import { type JsonResponse, startIdentity, type TestIdentity } from './identity.ts';
import { makeTempDir } from './tmpdir.ts';

/**
 * A compute API in this process on an ephemeral port, its records in a memory twin (or
 * `records`), beside an in-process identity service whose keys it shares (so the identity's
 * admin and demo tokens work on it), with fakes of Glance and Neutron (`images`, `networks`).
 */
export interface TestCompute {
  readonly port: number;
  readonly url: string;
  readonly service: ComputeService;
  readonly records: RecordStore;
  readonly identity: TestIdentity;
  readonly images: FakeImageApi;
  readonly networks: FakeNetworkApi;
  /** The volume service servers attach from, when given. */
  readonly volumes?: VolumeApi;
  /** Where the agents of this compute pass disks between hosts (one for all of them, as the cluster is). */
  readonly disks: MemoryDiskTransfer;
  /** Sends a request; `body` objects go as JSON; `version` sets `OpenStack-API-Version: compute <v>`. */
  request(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; version?: string }): Promise<JsonResponse>;
  close(): Promise<void>;
}

/** The tempauth owner of compute's system account, for `startCluster({ users })`. */
export const COMPUTE_ACCOUNT_USERS = { 'user_.compute_compute': 'compute-key .admin' };

export async function startCompute(options: { records?: RecordStore; clock?: Clock; cluster?: TestCluster; volumes?: (identity: TestIdentity, images: FakeImageApi) => Promise<VolumeApi>; crossAzAttach?: boolean; allowResizeToSameHost?: boolean } = {}): Promise<TestCompute> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger({ level: 'error', sink: () => {} });
  const identity = await startIdentity({ clock });
  const http = new UndiciBackendClient();
  const records = options.records ?? (options.cluster
    ? new SwiftRecordStore(new SwiftClient({ authUrl: `http://127.0.0.1:${options.cluster.port}/auth/v1.0`, user: '.compute:compute', key: 'compute-key' }, { http, clock }))
    : new MemoryRecordStore());
  const images = new FakeImageApi();
  const networks = new FakeNetworkApi();
  networks.adminTokens.add(COMPUTE_SERVICE_TOKEN);
  const volumes = options.volumes ? await options.volumes(identity, images) : undefined;
  const service = new ComputeService({ publicUrl: '', imageUrl: 'http://glance.example:9292', allowResizeToSameHost: options.allowResizeToSameHost ?? false, ...(options.crossAzAttach !== undefined ? { crossAzAttach: options.crossAzAttach } : {}) }, { records, images, networks, ...(volumes ? { volumes } : {}), keys: new FernetKeyRepository(identity.keyRepository, clock), revocations: new RevocationList(), clock, logger });
  const server = await listen(service.server.handle, { host: '127.0.0.1', port: 0, logger });
  return {
    port: server.port,
    url: `http://127.0.0.1:${server.port}`,
    service,
    records,
    disks: new MemoryDiskTransfer(),
    identity,
    images,
    networks,
    ...(volumes ? { volumes } : {}),
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
      if (o.token !== undefined) headers['X-Auth-Token'] = o.token;
      if (o.version !== undefined) headers['OpenStack-API-Version'] = `compute ${o.version}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['Content-Type'] = 'application/json';
      }
      const res = await httpRequest(server.port, method, path, headers, body);
      const text = res.body.toString();
      return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
    },
    async close() {
      await server.close();
      await identity.close();
      await http.close();
    },
  };
}

/** The compute service's own token in tests: the fake Neutron takes it as an admin's. */
export const COMPUTE_SERVICE_TOKEN = 'compute-service-token';

/**
 * A compute agent for `c`'s records on a memory hypervisor, its state in a temp dir; `drain()`
 * waits until its queue is empty. Not started: call `start()` (or `register()` and `drain()`).
 */
export async function makeAgent(c: TestCompute, host = 'node1', resources = { vcpus: 4, memoryMiB: 8192, diskGiB: 100 }, availabilityZone = 'nova', options: Partial<ComputeAgentOptions> = {}): Promise<{ agent: ComputeAgent; hypervisor: MemoryHypervisor; stateDir: string; remove(): Promise<void> }> {
  const dir = await makeTempDir('compute-agent-');
  // A guest that keeps a disk is given up on after two short attempts (Nova's 8 of 20 s).
  const hypervisor = new MemoryHypervisor({ clock: systemClock, shutdownPollMs: 10, detachAttempts: 2, detachTimeoutMs: 50, resources: { hostname: host, ...resources, hypervisorType: 'fake' } });
  const agent = new ComputeAgent(
    { host, availabilityZone, hostIp: '127.0.0.1', stateDir: dir.path, virtType: 'qemu', heartbeatMs: 10_000, pollMs: 50, concurrency: 4, stopTimeoutMs: 1000, blockDeviceAllocateRetryIntervalMs: 20, ...options },
    { store: c.service.store, hosts: c.service.hosts, hypervisor, images: c.images, networks: c.networks, ...(c.volumes ? { volumes: c.volumes } : {}), service: { token: async () => COMPUTE_SERVICE_TOKEN }, disks: c.disks, logger: createLogger({ level: 'error', sink: () => {} }) },
  );
  return { agent, hypervisor, stateDir: dir.path, remove: () => dir.remove() };
}

/** One ACTIVE server for action tests: a compute API, an agent on `node1`, the flavors and image asked for (m1.tiny, id 1, always). */
export interface ServerOnAgent {
  readonly c: TestCompute;
  readonly admin: string;
  readonly demo: string;
  readonly agent: Awaited<ReturnType<typeof makeAgent>>;
  /** The server, booted by `demo` with flavor 1 on the first image, on network `private`. */
  readonly id: string;
  readonly imageIds: readonly string[];
  close(): Promise<void>;
}

export async function startServerOnAgent(options: { flavors?: readonly ({ name: string; id: string; ram: number; vcpus: number; disk: number } & Record<string, unknown>)[]; images: readonly (Parameters<FakeImageApi['add']>[0] & { data: Buffer })[]; allowResizeToSameHost?: boolean; clock?: Clock; agent?: Partial<ComputeAgentOptions> }): Promise<ServerOnAgent> {
  const c = await startCompute({ allowResizeToSameHost: options.allowResizeToSameHost ?? false, ...(options.clock ? { clock: options.clock } : {}) });
  const admin = await c.identity.token();
  const demo = await c.identity.token({ user: 'demo' });
  const agent = await makeAgent(c, 'node1', undefined, 'nova', options.agent ?? {});
  await agent.agent.register();
  for (const flavor of [{ name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 }, ...(options.flavors ?? [])]) await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor } });
  const imageIds = options.images.map((i) => c.images.add(i).id);
  const netId = c.networks.addNetwork('private').id;
  const id = (await c.request('POST', '/v2.1/servers', { token: demo, body: { server: { name: 'vm', imageRef: imageIds[0], flavorRef: '1', networks: [{ uuid: netId }] } } })).json.server.id;
  await agent.agent.drain();
  return {
    c,
    admin,
    demo,
    agent,
    id,
    imageIds,
    async close() {
      await agent.remove();
      await c.close();
    },
  };
}

/** The server of `startServerOnAgent` on `node1`, and a second registered host `node2` to move it to. */
export interface ServerOnTwoHosts extends ServerOnAgent {
  readonly node2: Awaited<ReturnType<typeof makeAgent>>;
}

export async function startServerOnTwoHosts(options: Parameters<typeof startServerOnAgent>[0], node2: { resources?: Parameters<typeof makeAgent>[2]; agent?: Partial<ComputeAgentOptions> } = {}): Promise<ServerOnTwoHosts> {
  const setup = await startServerOnAgent(options);
  const second = await makeAgent(setup.c, 'node2', node2.resources, 'nova', node2.agent);
  await second.agent.register();
  return {
    ...setup,
    node2: second,
    async close() {
      await second.remove();
      await setup.close();
    },
  };
}

/** A compute API with registered agents on memory hypervisors (`zones`: each host's configured zone, by name), m1.tiny (id 1) and one image. */
export interface ComputeWithHosts {
  readonly c: TestCompute;
  readonly admin: string;
  readonly demo: string;
  readonly agents: Readonly<Record<string, Awaited<ReturnType<typeof makeAgent>>>>;
  readonly imageRef: string;
  /** Works every host's queue until it is empty. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function startComputeWithHosts(zones: Readonly<Record<string, string>>): Promise<ComputeWithHosts> {
  const c = await startCompute();
  const agents: Record<string, Awaited<ReturnType<typeof makeAgent>>> = {};
  for (const [host, zone] of Object.entries(zones)) {
    agents[host] = await makeAgent(c, host, undefined, zone);
    await agents[host].agent.register();
  }
  const admin = await c.identity.token();
  const demo = await c.identity.token({ user: 'demo' });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  return {
    c,
    admin,
    demo,
    agents,
    imageRef: c.images.add({}).id,
    async drain() {
      for (const a of Object.values(agents)) await a.agent.drain();
    },
    async close() {
      for (const a of Object.values(agents)) await a.remove();
      await c.close();
    },
  };
}
