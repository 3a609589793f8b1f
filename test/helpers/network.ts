import { type Clock, systemClock } from '../../common/clock.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { FernetKeyRepository } from '../../common/token/key-repository.ts';
import { MemoryRecordStore } from '../../client/memory-record-store.ts';
import type { RecordStore } from '../../client/record-store.ts';
import { DEFAULT_QUOTAS } from '../../compute/network/deps.ts';
import { RecordingNetworkDriver } from '../../compute/network/driver/recording.ts';
import { DriverHostPorts } from '../../compute/network/host-ports.ts';
import { NetworkService } from '../../compute/network/service.ts';
import { NetworkStore } from '../../compute/network/store.ts';
import { httpRequest } from './http.ts';
import { type JsonResponse, startIdentity, type TestIdentity } from './identity.ts';
import { SwiftClient } from '../../client/swift-client.ts';
import { SwiftRecordStore } from '../../client/swift-record-store.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import type { TestCluster } from './cluster.ts';

/**
 * A network service in this process on an ephemeral port, beside an identity service (memory
 * records) whose key repository it shares, so `identity.token()` gives tokens it accepts.
 * Ports bound to host `compute1` reach `driver` (the recording twin). Given `identity`, uses it
 * and leaves it running on close; given `records`, keeps its state there.
 */
export interface TestNetwork {
  readonly url: string;
  readonly identity: TestIdentity;
  readonly service: NetworkService;
  readonly records: RecordStore;
  readonly driver: RecordingNetworkDriver;
  request(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<JsonResponse>;
  close(): Promise<void>;
}

export async function startNetwork(options: { records?: RecordStore; identity?: TestIdentity; clock?: Clock } = {}): Promise<TestNetwork> {
  const clock = options.clock ?? systemClock;
  const identity = options.identity ?? (await startIdentity());
  const logger = createLogger({ level: 'error', sink: () => {} });
  const records = options.records ?? new MemoryRecordStore();
  const driver = new RecordingNetworkDriver();
  const hosts = new DriverHostPorts(new NetworkStore(records), (host) => (host === 'compute1' ? driver : undefined), logger);
  let service: NetworkService | undefined;
  const server = await listen((req) => (service as NetworkService).server.handle(req), { host: '127.0.0.1', port: 0, logger });
  const url = `http://127.0.0.1:${server.port}`;
  service = new NetworkService(
    { publicUrl: url, identityUrl: identity.url, settings: { mtu: 1500, baseMac: 'fa:16:3e:00:00:00', quotas: DEFAULT_QUOTAS } },
    { records, keys: new FernetKeyRepository(identity.keyRepository, clock), clock, logger, hosts },
  );
  const running = service;
  return {
    url,
    identity,
    service: running,
    records,
    driver,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (o.token !== undefined) headers['X-Auth-Token'] = o.token;
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
      if (!options.identity) await identity.close();
    },
  };
}

/** The proxy user owning `AUTH_.network` in a test cluster (`startCluster({ users })`). */
export const NETWORK_ACCOUNT_USERS = { 'user_.network_network': 'network-key .admin' };

/** A record store in `cluster`'s `AUTH_.network`, as `swiftlet start network` has it. */
export function clusterNetworkRecords(cluster: TestCluster): { records: RecordStore; close(): Promise<void> } {
  const http = new UndiciBackendClient();
  const records = new SwiftRecordStore(new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.port}/auth/v1.0`, user: '.network:network', key: 'network-key' }, { http, clock: systemClock }));
  return { records, close: () => http.close() };
}
