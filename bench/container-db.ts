/**
 * Container database benchmark: object rows inserted per second through the broker (one at a
 * time, and 32 at once) and through the container server over HTTP with 32 requests in
 * flight; then the time to list a 1,000,000-object container page by page (limit 10,000,
 * JSON) over HTTP, the way a client pages a full listing.
 *
 *   node_modules/.bin/node bench/container-db.ts [--rows 100000] [--objects 1000000] [--concurrency 32]
 *
 * Uses LevelDB in a temp directory (removed at the end). Prints one line per measurement;
 * numbers are for notes, never asserted by tests.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { defaultConfig } from '../common/config.ts';
import { LevelKv } from '../common/db/level-kv.ts';
import { HashPath } from '../common/hash-path.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { listen } from '../common/http/server.ts';
import { nullLogger } from '../common/logger.ts';
import { storageSchema } from '../common/storage-config.ts';
import { Timestamp } from '../common/timestamp.ts';
import { ContainerDatadir } from '../container/backend.ts';
import { containerServerSchema } from '../container/config.ts';
import { ContainerServer } from '../container/server.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['rows', 'objects', 'concurrency']));
const rows = Number(flags.get('rows') ?? 100_000);
const objects = Number(flags.get('objects') ?? 1_000_000);
const concurrency = Number(flags.get('concurrency') ?? 32);
const clock = systemClock;
const hashPath = new HashPath('', 'bench');
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const T0 = 1_700_000_000;

/** Runs `total` tasks with `workers` in flight; returns the seconds taken. */
async function timed(total: number, workers: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = clock.monotonic();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return (clock.monotonic() - started) / 1000;
}

const root = await mkdtemp(join(tmpdir(), 'swiftlet-bench-container-'));
try {
  await mkdir(join(root, 'sda1'));

  // Through the broker.
  const kv = await LevelKv.open(join(root, 'broker-only'));
  const datadir = new ContainerDatadir(kv, { clock });
  const broker = datadir.broker(hashPath.hash('AUTH_bench', 'broker'));
  await broker.initialize(Timestamp.parse(T0), { account: 'AUTH_bench', container: 'broker', partition: 0, storagePolicyIndex: 0 });
  const put = (name: string, i: number): Promise<void> =>
    broker.putObject({ name, timestamp: Timestamp.parse(T0 + i / 1000), size: 1024, contentType: 'application/octet-stream', etag: 'd41d8cd98f00b204e9800998ecf8427e', storagePolicyIndex: 0 });
  let seconds = await timed(rows, 1, (i) => put(`seq/object-${i}`, i));
  console.log(`broker, one at a time: ${fmt(rows / seconds)} rows/s (${fmt(rows)} rows)`);
  seconds = await timed(rows, concurrency, (i) => put(`par/object-${i}`, i));
  console.log(`broker, ${concurrency} at once: ${fmt(rows / seconds)} rows/s (${fmt(rows)} rows, group commits)`);
  const info = await broker.getInfo();
  if (info?.object_count !== 2 * rows) throw new Error(`count is ${info?.object_count}, expected ${2 * rows}`);
  await datadir.close();

  // Through the HTTP server.
  const defaults = defaultConfig({ storage: storageSchema, 'container-server': containerServerSchema });
  const server = new ContainerServer(
    { storage: { ...defaults.storage, devices: root }, containerServer: { ...defaults['container-server'], log_requests: false } },
    { clock, logger: nullLogger, backend: new UndiciBackendClient(), hashPath },
  );
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger: nullLogger });
  const client = new UndiciBackendClient({ connectionsPerNode: concurrency });
  const node = { ip: '127.0.0.1', port: http.port };
  try {
    const created = await client.request(node, { method: 'PUT', path: '/sda1/0/AUTH_bench/http', headers: { 'X-Timestamp': Timestamp.parse(T0).normal } });
    await created.body.dump();
    seconds = await timed(rows, concurrency, async (i) => {
      const res = await client.request(node, {
        method: 'PUT',
        path: `/sda1/0/AUTH_bench/http/object-${i}`,
        headers: { 'X-Timestamp': Timestamp.parse(T0 + i / 1000).normal, 'X-Size': '1024', 'X-Content-Type': 'application/octet-stream', 'X-Etag': 'd41d8cd98f00b204e9800998ecf8427e' },
      });
      await res.body.dump();
      if (res.status !== 201) throw new Error(`PUT answered ${res.status}`);
    });
    console.log(`HTTP object updates, ${concurrency} in flight: ${fmt(rows / seconds)} requests/s (${fmt(rows)} requests)`);

    // A big container, filled through the broker (as replication would), listed over HTTP.
    const big = (await server.datadirs.get('sda1')).broker(hashPath.hash('AUTH_bench', 'big'));
    await big.initialize(Timestamp.parse(T0), { account: 'AUTH_bench', container: 'big', partition: 0, storagePolicyIndex: 0 });
    const fillStart = clock.monotonic();
    for (let start = 0; start < objects; start += 10_000) {
      const batch = [];
      for (let i = start; i < Math.min(start + 10_000, objects); i++) {
        const at = Timestamp.parse(T0 + i / 1000).internal;
        batch.push({ name: `dir${i % 100}/object-${String(i).padStart(8, '0')}`, created_at: at, size: 1024, content_type: 'application/octet-stream', etag: 'd41d8cd98f00b204e9800998ecf8427e', deleted: 0 as const, storage_policy_index: 0, ctype_timestamp: at, meta_timestamp: at });
      }
      await big.mergeItems(batch);
    }
    console.log(`filled a ${fmt(objects)}-object container with merge_items: ${((clock.monotonic() - fillStart) / 1000).toFixed(1)} s`);
    let marker = '';
    let listed = 0;
    let pages = 0;
    let bytes = 0;
    const listStart = clock.monotonic();
    for (;;) {
      const res = await client.request(node, { method: 'GET', path: '/sda1/0/AUTH_bench/big', query: `format=json&limit=10000&marker=${encodeURIComponent(marker)}` });
      const body = await res.body.text();
      bytes += body.length;
      const page = JSON.parse(body) as { name: string }[];
      if (page.length === 0) break;
      pages += 1;
      listed += page.length;
      marker = (page.at(-1) as { name: string }).name;
    }
    const listSeconds = (clock.monotonic() - listStart) / 1000;
    if (listed !== objects) throw new Error(`listed ${listed} of ${objects}`);
    console.log(`listed ${fmt(listed)} objects in ${pages} JSON pages of 10,000: ${listSeconds.toFixed(2)} s (${(listSeconds * 1000 / pages).toFixed(1)} ms/page, ${(bytes / 1e6).toFixed(0)} MB)`);

    const delimStart = clock.monotonic();
    const res = await client.request(node, { method: 'GET', path: '/sda1/0/AUTH_bench/big', query: 'format=json&delimiter=/' });
    const dirs = JSON.parse(await res.body.text()) as unknown[];
    console.log(`delimiter listing of the same container (${dirs.length} subdirs): ${(clock.monotonic() - delimStart).toFixed(1)} ms`);
  } finally {
    await client.close();
    await http.close();
    await server.close();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
