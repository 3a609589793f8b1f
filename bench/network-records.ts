/**
 * What the network API's requests cost the cluster: a Neutron service in this process over an
 * in-process 4-node cluster (its records in `AUTH_.network`, as `swiftlet start network` keeps
 * them), every record-store call counted (each is one proxy request):
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
import { splitArgs } from '../common/cli-args.ts';
import { startCluster } from '../test/helpers/cluster.ts';
import { startIdentity } from '../test/helpers/identity.ts';
import { clusterNetworkRecords, NETWORK_ACCOUNT_USERS, startNetwork } from '../test/helpers/network.ts';
import { CountingRecordStore } from './counting-record-store.ts';
import { percentileOfSorted } from './percentiles.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['existing', 'samples', 'flight']));
const existing = Number(flags.get('existing') ?? 200);
const samples = Number(flags.get('samples') ?? 10);
const flight = Number(flags.get('flight') ?? 50);

const cluster = await startCluster({ users: NETWORK_ACCOUNT_USERS });
const identity = await startIdentity();
const cluster_records = clusterNetworkRecords(cluster);
const records = new CountingRecordStore(cluster_records.records);
const net = await startNetwork({ records, identity });
const admin = await identity.token({ user: 'admin' });
const req = async (method: string, path: string, body?: unknown) => {
  const res = await net.request(method, path, { token: admin, body });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
};

const network = (await req('POST', '/v2.0/networks', { network: { name: 'bench' } })).network;
await req('POST', '/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 4, cidr: '10.96.0.0/20', name: 'bench' } });
for (let i = 0; i < existing; i += 25) await Promise.all(Array.from({ length: Math.min(25, existing - i) }, () => req('POST', '/v2.0/ports', { port: { network_id: network.id, device_id: randomUUID(), device_owner: 'compute:nova' } })));
const devices: string[] = [];
const bootPort = () => {
  const device = randomUUID();
  devices.push(device);
  // A host with no driver in this process, as in `swiftlet start network` (the agents drive hosts).
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

await net.close();
await cluster_records.close();
await identity.close();
await cluster.close();
