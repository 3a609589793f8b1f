/**
 * `server list` latency with many servers, against any Nova v2.1 endpoint (ours or a real
 * one) found in the catalog of a Keystone v3 cloud whose user may set quotas and flavors:
 *
 *   node bench/server-list.ts --cloud swiftlet-admin [--clouds data/etc/clouds.yaml]
 *        [--servers 1000] [--lists 20] [--limit 50] [--keep]
 *
 * Lifts the project's instance quotas, makes a flavor and a 512-byte image (Glance), and
 * creates `--servers` servers through the API (`min_count` 100 per request, `networks: none`
 * at 2.37; a cloud without room leaves most of them ERROR, which a list shows all the same).
 * Then times, `--lists` times each, what openstackclient sends: `GET /servers/detail` (the first
 * page at the default limit, 1,000), `GET /servers/detail?limit=N` (`server list --limit N`)
 * and the second such page (`--marker`), and, for comparison, a sort the list index does not
 * serve (`sort_dir=asc`, which reads every server). The times are the client's on the same
 * machine: the server's latency plus a loopback round trip. Deletes everything unless `--keep`.
 */
import { Pool } from 'undici';
import { splitArgs } from '../common/cli-args.ts';
import { cloudLogin, cloudsFile } from './cloud-session.ts';
import { percentileOfSorted } from './percentiles.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['cloud', 'clouds', 'servers', 'lists', 'limit']));
const session = await cloudLogin(cloudsFile(flags.get('clouds'), process.env['OS_CLIENT_CONFIG_FILE']), flags.get('cloud') ?? 'swiftlet-admin');
const serverCount = Number(flags.get('servers') ?? 1000);
const lists = Number(flags.get('lists') ?? 20);
const limit = Number(flags.get('limit') ?? 50);

const token = session.token;
const compute = new URL(session.url('compute'));
const image = new URL(session.url('image'));
const computePrefix = compute.pathname.replace(/\/v2\.1.*$/, '').replace(/\/$/, '');
const pools = new Map<string, Pool>();
async function call(base: URL, method: string, path: string, options: { body?: unknown; raw?: Buffer; version?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  let pool = pools.get(base.origin);
  if (!pool) pools.set(base.origin, (pool = new Pool(base.origin, { connections: 8 })));
  const headers: Record<string, string> = { 'x-auth-token': token, accept: 'application/json' };
  if (options.version) headers['openstack-api-version'] = `compute ${options.version}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.raw !== undefined) headers['content-type'] = 'application/octet-stream';
  const res = await pool.request({ method: method as 'GET', path, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : options.raw !== undefined ? { body: options.raw } : {}) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : {} };
}
const nova = (method: string, path: string, options: { body?: unknown; version?: string } = {}) => call(compute, method, `${computePrefix}/v2.1${path}`, options);

const stats = (xs: number[]): string => {
  const s = xs.toSorted((x, y) => x - y);
  return `p50 ${percentileOfSorted(s, 50).toFixed(1)} ms, p90 ${percentileOfSorted(s, 90).toFixed(1)} ms, p99 ${percentileOfSorted(s, 99).toFixed(1)} ms`;
};

const project = session.projectId;
const quota = await nova('PUT', `/os-quota-sets/${project}`, { body: { quota_set: { instances: -1, cores: -1, ram: -1 } } });
if (quota.status !== 200) throw new Error(`quota update: ${quota.status} ${JSON.stringify(quota.json)}`);
const flavor = (await nova('POST', '/flavors', { body: { flavor: { name: `bench-list-${process.pid}`, ram: 64, vcpus: 1, disk: 0 } } })).json.flavor as { id: string };
const img = (await call(image, 'POST', '/v2/images', { body: { name: `bench-list-${process.pid}`, disk_format: 'raw', container_format: 'bare' } })).json as { id: string };
const upload = await call(image, 'PUT', `/v2/images/${img.id}/file`, { raw: Buffer.alloc(512) });
if (upload.status !== 204) throw new Error(`image upload: ${upload.status}`);

const createStarted = performance.now();
const before = Number(((await nova('GET', '/servers?limit=1000')).json.servers as unknown[]).length);
for (let made = 0; made < serverCount; made += 100) {
  const n = Math.min(100, serverCount - made);
  const res = await nova('POST', '/servers', { version: '2.37', body: { server: { name: `bench-list-${process.pid}`, imageRef: img.id, flavorRef: flavor.id, networks: 'none', min_count: n, max_count: n } } });
  if (res.status !== 202) throw new Error(`server create: ${res.status} ${JSON.stringify(res.json)}`);
}
console.log(`${serverCount} servers created through the API in ${((performance.now() - createStarted) / 1000).toFixed(1)} s (${before} were there before)`);

async function time(label: string, path: string): Promise<void> {
  const ms: number[] = [];
  let count = 0;
  for (let i = 0; i < lists; i++) {
    const t0 = performance.now();
    const res = await nova('GET', path);
    ms.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    count = (res.json.servers as unknown[]).length;
  }
  console.log(`${label}: ${count} servers a page, ${stats(ms)} (${lists} lists)`);
}
await time('GET /servers/detail (default limit)', '/servers/detail');
await time(`GET /servers/detail?limit=${limit}`, `/servers/detail?limit=${limit}`);
const first = (await nova('GET', `/servers/detail?limit=${limit}`)).json.servers as { id: string }[];
await time(`GET /servers/detail?limit=${limit}&marker=<last of page 1>`, `/servers/detail?limit=${limit}&marker=${first.at(-1)?.id}`);
await time(`GET /servers/detail?limit=${limit}&sort_dir=asc (not the index's order: reads every server)`, `/servers/detail?limit=${limit}&sort_dir=asc`);

if (!flags.has('keep')) {
  const ids: string[] = [];
  let page = (await nova('GET', `/servers?name=^bench-list-${process.pid}&limit=1000`)).json.servers as { id: string }[];
  while (page.length > 0) {
    ids.push(...page.map((s) => s.id));
    page = (await nova('GET', `/servers?name=^bench-list-${process.pid}&limit=1000&marker=${page.at(-1)?.id}`)).json.servers as { id: string }[];
  }
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < ids.length) await nova('DELETE', `/servers/${ids[next++]}`);
  }));
  await nova('DELETE', `/flavors/${flavor.id}`);
  await call(image, 'DELETE', `/v2/images/${img.id}`);
  console.log(`deleted ${ids.length} servers, the flavor and the image`);
}
for (const p of pools.values()) await p.close();
