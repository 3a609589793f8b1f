/**
 * Time to ACTIVE of servers booted through Nova's API, against a Keystone v3 cloud whose
 * catalog has compute, image and network (ours from `npm start`, or a real one):
 *
 *   node bench/compute-boot.ts [--clouds data/etc/clouds.yaml] [--admin swiftlet-admin]
 *        [--cloud swiftlet-demo] [--single 10] [--concurrent 50] [--lists 10]
 *
 * Makes a flavor (64 MiB, 1 vCPU, 1 GiB) and a 1 KiB raw image as the admin, a network with a
 * /22 subnet as the member, and gives the member's project quotas with room for every server;
 * boots one server `--single` times (each deleted before the next), then `--concurrent` at
 * once, polling each server until ACTIVE or ERROR. Prints
 * p50/p99 of both, the placement per host, and checks what must hold (all ACTIVE, no host over
 * its limits as the scheduler counts them, no address given twice); then times `--lists`
 * `GET /servers/detail` with those servers up, and deletes everything. Exits 1 when a check
 * fails. Numbers from a shared, loaded machine are noisy: say so when quoting them.
 */
import { splitArgs } from '../common/cli-args.ts';
import { DEFAULT_ALLOCATION_RATIOS } from '../compute/scheduler/host-state.ts';
import { type CloudSession, cloudLogin, cloudsFile } from './cloud-session.ts';
import { percentileOfSorted } from './percentiles.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['clouds', 'admin', 'cloud', 'single', 'concurrent', 'lists']));
const file = cloudsFile(flags.get('clouds'), process.env['OS_CLIENT_CONFIG_FILE']);
const single = Number(flags.get('single') ?? 10);
const concurrent = Number(flags.get('concurrent') ?? 50);
const lists = Number(flags.get('lists') ?? 10);
type Session = CloudSession;
const login = (name: string): Promise<Session> => cloudLogin(file, name);

// biome-ignore lint/suspicious/noExplicitAny: the bench reads whatever JSON the services answer
async function call(s: Session, type: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${s.url(type)}${path}`, { method, headers: { 'x-auth-token': s.token, accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) }, ...(body !== undefined ? { body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined };
}

const stats = (xs: readonly number[]): string => {
  const s = xs.toSorted((x, y) => x - y);
  return `p50 ${percentileOfSorted(s, 50).toFixed(0)} ms, p99 ${percentileOfSorted(s, 99).toFixed(0)} ms (n=${s.length})`;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const admin = await login(flags.get('admin') ?? 'swiftlet-admin');
const member = await login(flags.get('cloud') ?? 'swiftlet-demo');
const tag = `bench-${process.pid}`;
const failures: string[] = [];

// Room for every server in the member's quotas (Nova's instances, cores and RAM; Neutron's ports), as an operator gives it.
const room = concurrent + 10;
const quotas = await call(admin, 'compute', 'PUT', `/os-quota-sets/${member.projectId}`, { quota_set: { instances: room, cores: room, ram: room * 64 } });
if (quotas.status !== 200) throw new Error(`compute quotas: ${quotas.status} ${JSON.stringify(quotas.json)}`);
const ports = await call(admin, 'network', 'PUT', `/v2.0/quotas/${member.projectId}`, { quota: { port: room } });
if (ports.status !== 200) throw new Error(`network quotas: ${ports.status} ${JSON.stringify(ports.json)}`);

// What a boot needs: a flavor, an image, a network with room for every server.
const flavor = await call(admin, 'compute', 'POST', '/flavors', { flavor: { name: tag, ram: 64, vcpus: 1, disk: 1 } });
if (flavor.status !== 200) throw new Error(`flavor: ${flavor.status} ${JSON.stringify(flavor.json)}`);
const flavorId: string = flavor.json.flavor.id;
const imageId: string = (await call(admin, 'image', 'POST', '/v2/images', { name: tag, disk_format: 'raw', container_format: 'bare', visibility: 'public' })).json.id;
const put = await call(admin, 'image', 'PUT', `/v2/images/${imageId}/file`, new Uint8Array(1024), 'application/octet-stream');
if (put.status !== 204) throw new Error(`image upload: ${put.status}`);
const netId: string = (await call(member, 'network', 'POST', '/v2.0/networks', { network: { name: tag } })).json.network.id;
await call(member, 'network', 'POST', '/v2.0/subnets', { subnet: { network_id: netId, ip_version: 4, cidr: '10.251.0.0/22', name: tag } });

/**
 * Boots one server and polls it every `pollMs` (100 ms alone; 1 s when many poll at once, so
 * the polling does not become the load measured); its id, status and milliseconds to that status.
 */
async function boot(name: string, pollMs: number): Promise<{ id: string; status: string; ms: number }> {
  const start = performance.now();
  const made = await call(member, 'compute', 'POST', '/servers', { server: { name, imageRef: imageId, flavorRef: flavorId, networks: [{ uuid: netId }] } });
  if (made.status !== 202) return { id: '', status: `HTTP ${made.status}`, ms: performance.now() - start };
  const id: string = made.json.server.id;
  for (;;) {
    const s = (await call(member, 'compute', 'GET', `/servers/${id}`)).json?.server;
    if (s && s.status !== 'BUILD') return { id, status: s.status, ms: performance.now() - start };
    await sleep(pollMs);
  }
}

async function deleteAll(ids: readonly string[]): Promise<void> {
  await Promise.all(ids.filter((id) => id !== '').map((id) => call(member, 'compute', 'DELETE', `/servers/${id}`)));
  for (let left = ids.length; left > 0; await sleep(200)) {
    left = (await call(member, 'compute', 'GET', `/servers?name=${tag}`)).json.servers.length;
  }
}

const singles: number[] = [];
for (let i = 0; i < single; i++) {
  const r = await boot(`${tag}-s${i}`, 100);
  if (r.status !== 'ACTIVE') failures.push(`single boot ${i}: ${r.status}`);
  singles.push(r.ms);
  await deleteAll([r.id]);
}
if (single > 0) console.log(`one boot at a time, time to ACTIVE: ${stats(singles)}`);

const many = await Promise.all(Array.from({ length: concurrent }, (_, i) => boot(`${tag}-c${i}`, 1000)));
console.log(`${concurrent} concurrent boots, time to ACTIVE: ${stats(many.map((r) => r.ms))}`);
const notActive = many.filter((r) => r.status !== 'ACTIVE');
if (notActive.length > 0) failures.push(`${notActive.length} of ${concurrent} not ACTIVE: ${[...new Set(notActive.map((r) => r.status))].join(', ')}`);

// Placement and addresses as the admin sees them.
const detail = (await call(admin, 'compute', 'GET', `/servers/detail?all_tenants=1&name=${tag}`)).json.servers as { id: string; 'OS-EXT-SRV-ATTR:host': string; addresses: Record<string, { addr: string }[]> }[];
const perHost = new Map<string, number>();
const addresses: string[] = [];
for (const s of detail) {
  perHost.set(s['OS-EXT-SRV-ATTR:host'], (perHost.get(s['OS-EXT-SRV-ATTR:host']) ?? 0) + 1);
  for (const list of Object.values(s.addresses)) for (const a of list) addresses.push(a.addr);
}
console.log(`placement: ${[...perHost].sort().map(([h, n]) => `${h} ${n}`).join(', ')}`);
if (new Set(addresses).size !== addresses.length) failures.push(`an address given twice: ${addresses.length} addresses, ${new Set(addresses).size} distinct`);
const hypervisors = (await call(admin, 'compute', 'GET', '/os-hypervisors/detail')).json.hypervisors as { hypervisor_hostname: string; vcpus: number; vcpus_used: number; memory_mb: number; memory_mb_used: number; local_gb: number; local_gb_used: number }[];
for (const h of hypervisors) {
  // memory_mb_used includes the host's reserved memory; capacity is (total - reserved) * ratio.
  const over = h.vcpus_used > h.vcpus * DEFAULT_ALLOCATION_RATIOS.vcpus || h.memory_mb_used > h.memory_mb * DEFAULT_ALLOCATION_RATIOS.memoryMiB || h.local_gb_used > h.local_gb * DEFAULT_ALLOCATION_RATIOS.diskGiB;
  console.log(`  ${h.hypervisor_hostname}: vcpus ${h.vcpus_used}/${h.vcpus}, memory ${h.memory_mb_used}/${h.memory_mb} MiB, disk ${h.local_gb_used}/${h.local_gb} GiB${over ? '  OVER ITS LIMITS' : ''}`);
  if (over) failures.push(`${h.hypervisor_hostname} over its limits`);
}

const listMs: number[] = [];
for (let i = 0; i < lists; i++) {
  const start = performance.now();
  await call(member, 'compute', 'GET', '/servers/detail');
  listMs.push(performance.now() - start);
}
console.log(`server list (detail) with ${detail.length} servers: ${stats(listMs)}`);

await deleteAll(many.map((r) => r.id));
await call(member, 'network', 'DELETE', `/v2.0/networks/${netId}`);
await call(admin, 'image', 'DELETE', `/v2/images/${imageId}`);
await call(admin, 'compute', 'DELETE', `/flavors/${flavorId}`);
for (const f of failures) console.log(`FAIL ${f}`);
console.log(failures.length === 0 ? 'all ACTIVE, no host over its limits, no address given twice' : `${failures.length} check(s) failed`);
process.exitCode = failures.length === 0 ? 0 : 1;
