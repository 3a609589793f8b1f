/**
 * Port create rate and `port list` latency against any Neutron v2.0 endpoint (ours or a real
 * one), found in the catalog of a Keystone v3 cloud:
 *
 *   node bench/network-ports.ts --cloud swiftlet-demo [--clouds data/etc/clouds.yaml]
 *        [--ports 1000] [--concurrency 8] [--lists 20] [--keep]
 *
 * Makes a network with a /22 subnet (1,021 addresses), creates `--ports` ports on it
 * (`--concurrency` at a time: POST /v2.0/ports, what Nova does per NIC at boot), then lists
 * them `--lists` times (GET /v2.0/ports?network_id=..., what `openstack port list --network`
 * does), and deletes everything unless `--keep`. Prints creates per second and latency
 * percentiles of both.
 */
import { Pool } from 'undici';
import { splitArgs } from '../common/cli-args.ts';
import { cloudLogin, cloudsFile } from './cloud-session.ts';
import { percentileOfSorted } from './percentiles.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['cloud', 'clouds', 'ports', 'concurrency', 'lists']));
const session = await cloudLogin(cloudsFile(flags.get('clouds'), process.env['OS_CLIENT_CONFIG_FILE']), flags.get('cloud') ?? 'swiftlet-demo');
const portCount = Number(flags.get('ports') ?? 1000);
const concurrency = Number(flags.get('concurrency') ?? 8);
const lists = Number(flags.get('lists') ?? 20);

const token = session.token;
const base = new URL(session.url('network'));
const prefix = `${base.pathname === '/' ? '' : base.pathname}/v2.0`;
const pool = new Pool(base.origin, { connections: concurrency });

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await pool.request({ method: method as 'GET', path: `${prefix}${path}`, headers: { 'x-auth-token': token, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : {} };
}

const stats = (xs: number[]): string => {
  const s = xs.toSorted((x, y) => x - y);
  return `p50 ${percentileOfSorted(s, 50).toFixed(1)} ms, p90 ${percentileOfSorted(s, 90).toFixed(1)} ms, p99 ${percentileOfSorted(s, 99).toFixed(1)} ms`;
};

const net = (await call('POST', '/networks', { network: { name: `bench-${process.pid}` } })).json.network as { id: string };
const subnet = (await call('POST', '/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.250.0.0/22', name: `bench-${process.pid}` } })).json.subnet as { id: string };
const ids: string[] = [];
const createMs: number[] = [];
let errors = 0;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < portCount) {
      next++;
      const t0 = performance.now();
      const res = await call('POST', '/ports', { port: { network_id: net.id } });
      createMs.push(performance.now() - t0);
      if (res.status === 201) ids.push((res.json.port as { id: string }).id);
      else errors++;
    }
  }),
);
const createSeconds = (performance.now() - started) / 1000;
console.log(`port create at ${base.origin}, concurrency ${concurrency}: ${ids.length} ports in ${createSeconds.toFixed(1)} s, ${(ids.length / createSeconds).toFixed(1)}/s, ${stats(createMs)}, errors ${errors}`);
const listMs: number[] = [];
let listed = 0;
for (let i = 0; i < lists; i++) {
  const t0 = performance.now();
  const res = await call('GET', `/ports?network_id=${net.id}`);
  listMs.push(performance.now() - t0);
  listed = (res.json.ports as unknown[]).length;
}
console.log(`port list (${listed} ports) x${lists}: ${stats(listMs)}`);
if (!flags.has('keep')) {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (i < ids.length) await call('DELETE', `/ports/${ids[i++]}`); }));
  await call('DELETE', `/subnets/${subnet.id}`);
  await call('DELETE', `/networks/${net.id}`);
}
await pool.close();
