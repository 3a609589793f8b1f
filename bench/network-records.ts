/**
 * What the network API's requests cost the cluster: the network service's handlers in this
 * process over the all-in-one layout run as processes (4 storage nodes, a proxy), every
 * record-store call counted (each is one proxy request):
 *
 *   node bench/network-records.ts [--existing 200] [--samples 10] [--flight 50]
 *
 * Seeds `--existing` ports (a cluster that is not empty), then, one at a time (`--samples`
 * each) and `--flight` at once: `POST /v2.0/ports` as compute makes them at boot (network,
 * device_id, device_owner, binding:host_id), `GET /v2.0/ports?device_id=X`, `GET
 * /v2.0/networks`. Prints per request: cluster calls (and by call and record type) and
 * server-side milliseconds (p50/p99).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../common/clock.ts';
import { splitArgs } from '../common/cli-args.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { createLogger } from '../common/logger.ts';
import { FernetKeyRepository, fernetSetup } from '../common/token/key-repository.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftRecordStore } from '../client/swift-record-store.ts';
import { networkRoutes } from '../compute/network/api/networks.ts';
import { portRoutes } from '../compute/network/api/ports.ts';
import { subnetRoutes } from '../compute/network/api/subnets.ts';
import type { NetworkContext } from '../compute/network/context.ts';
import { DEFAULT_QUOTAS } from '../compute/network/deps.ts';
import { DriverHostPorts } from '../compute/network/host-ports.ts';
import type { NetworkRoute } from '../compute/network/request.ts';
import { NetworkService } from '../compute/network/service.ts';
import { NetworkStore } from '../compute/network/store.ts';
import { CountingRecordStore } from './counting-record-store.ts';
import { percentileOfSorted } from './percentiles.ts';
import { startProbeCluster } from './process-cluster.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['existing', 'samples', 'flight']));
const existing = Number(flags.get('existing') ?? 200);
const samples = Number(flags.get('samples') ?? 10);
const flight = Number(flags.get('flight') ?? 50);

// The all-in-one layout as real processes (4 storage nodes, a proxy); the records in AUTH_test.
const cluster = await startProbeCluster();
const http = new UndiciBackendClient({ connectionsPerNode: 64, nodeTimeoutMs: 120_000 });
const records = new CountingRecordStore(new SwiftRecordStore(new SwiftClient({ authUrl: `http://127.0.0.1:${cluster.proxyPort}/auth/v1.0`, user: 'test:tester', key: 'testing' }, { http, clock: systemClock })));
const keyDir = await mkdtemp(join(tmpdir(), 'network-bench-keys-'));
fernetSetup(keyDir);
const logger = createLogger({ level: 'error', sink: () => {} });
const service = new NetworkService(
  { publicUrl: 'http://127.0.0.1:9696', identityUrl: 'http://127.0.0.1:5000/v3', settings: { mtu: 1500, baseMac: 'fa:16:3e:00:00:00', quotas: DEFAULT_QUOTAS } },
  // No host driver in the API process, as in `swiftlet start network` (the hosts' agents drive them).
  { records, keys: new FernetKeyRepository(keyDir, systemClock), clock: systemClock, logger, hosts: new DriverHostPorts(new NetworkStore(records), () => undefined, logger) },
);
// The handlers themselves (server-side time, no HTTP or token validation), as compute's service credential calls them.
const routes: NetworkRoute[] = [...networkRoutes(service.deps), ...subnetRoutes(service.deps), ...portRoutes(service.deps)];
const admin: NetworkContext = { userId: 'nova', projectId: 'service', roles: ['admin'], isAdmin: true };
const req = async (method: string, path: string, body?: unknown) => {
  const [route, query] = path.split('?') as [string, string | undefined];
  const handler = routes.find((r) => r.method === method && r.path === route)?.handler;
  if (!handler) throw new Error(`no route ${method} ${route}`);
  const res = await handler({ method, path: route, query: new URLSearchParams(query ?? ''), headers: {}, body, base: 'http://127.0.0.1:9696', params: {}, ctx: admin });
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field below
  return res.body as Record<string, any>;
};

try {
  const network = (await req('POST', '/v2.0/networks', { network: { name: 'bench' } })).network;
  await req('POST', '/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 4, cidr: '10.96.0.0/20', name: 'bench' } });
  for (let i = 0; i < existing; i += 25) await Promise.all(Array.from({ length: Math.min(25, existing - i) }, () => req('POST', '/v2.0/ports', { port: { network_id: network.id, device_id: randomUUID(), device_owner: 'compute:nova' } })));
  const devices: string[] = [];
  const bootPort = () => {
    const device = randomUUID();
    devices.push(device);
    return req('POST', '/v2.0/ports', { port: { network_id: network.id, device_id: device, device_owner: 'compute:nova', 'binding:host_id': 'node-a' } });
  };

  const fmt = (xs: number[]) => {
    const s = xs.toSorted((a, b) => a - b);
    return `p50 ${percentileOfSorted(s, 50).toFixed(1)} ms, p99 ${percentileOfSorted(s, 99).toFixed(1)} ms`;
  };

  async function measure(label: string, inFlight: number, count: number, op: (i: number) => Promise<unknown>): Promise<void> {
    records.take();
    const ms: number[] = [];
    const started = performance.now();
    if (inFlight === 1) {
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await op(i);
        ms.push(performance.now() - t0);
      }
    } else {
      await Promise.all(Array.from({ length: count }, async (_, i) => {
        const t0 = performance.now();
        await op(i);
        ms.push(performance.now() - t0);
      }));
    }
    const wall = performance.now() - started;
    const counts = records.take();
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const by = [...counts].toSorted((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / count).toFixed(1)}`).join(', ');
    console.log(`${label}, ${inFlight} in flight: ${(total / count).toFixed(1)} cluster calls each (${by}); ${fmt(ms)}; ${((count / wall) * 1000).toFixed(1)}/s`);
  }

  // A first request of each kind warms this process's caches, as a running service's are.
  await bootPort();
  await req('GET', `/v2.0/ports?device_id=${devices[0]}`);
  await req('GET', '/v2.0/networks');
  console.log(`${existing} ports already on the network; ${new Date().toISOString()}`);
  await measure('POST /v2.0/ports', 1, samples, bootPort);
  await measure('GET /v2.0/ports?device_id=X', 1, samples, (i) => req('GET', `/v2.0/ports?device_id=${devices[i]}`));
  await measure('GET /v2.0/networks', 1, samples, () => req('GET', '/v2.0/networks'));
  const before = devices.length;
  await measure('POST /v2.0/ports', flight, flight, bootPort);
  await measure('GET /v2.0/ports?device_id=X', flight, flight, (i) => req('GET', `/v2.0/ports?device_id=${devices[before + i]}`));
  await measure('GET /v2.0/networks', flight, flight, () => req('GET', '/v2.0/networks'));
  const ports = (await req('GET', `/v2.0/ports?network_id=${network.id}`)).ports as { fixed_ips: { ip_address: string }[]; mac_address: string }[];
  const ips = new Set(ports.map((p) => p.fixed_ips[0]?.ip_address));
  const macs = new Set(ports.map((p) => p.mac_address));
  console.log(`${ports.length} ports, ${ips.size} distinct addresses, ${macs.size} distinct MACs`);
} finally {
  await http.close();
  await cluster.close();
  await rm(keyDir, { recursive: true, force: true });
}
