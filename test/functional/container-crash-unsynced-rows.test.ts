import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultConfig } from '../../common/config.ts';
import type { KvOpener } from '../../common/db/kv.ts';
import { memoryKvOpener, type MemoryKv } from '../../common/db/memory-kv.ts';
import { HashPath } from '../../common/hash-path.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { type HttpServer, listen } from '../../common/http/server.ts';
import { nullLogger } from '../../common/logger.ts';
import { storageSchema } from '../../common/storage-config.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { containerServerSchema } from '../../container/config.ts';
import { ContainerServer } from '../../container/server.ts';
import { MemoryAsyncPendingStore } from '../../object/async-pending.ts';
import { objectServerSchema } from '../../object/config.ts';
import { FsDiskFileManager } from '../../object/diskfile/fs.ts';
import { DiskFileRouter } from '../../object/diskfile/router.ts';
import type { SmallFiles } from '../../object/diskfile/small-files.ts';
import { KeptAsyncPendingStore } from '../../object/kept-pendings.ts';
import { ObjectServer } from '../../object/server.ts';
import { httpRequest } from '../helpers/http.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

/**
 * A small object's container update is kept with the object (its async pending, in the same
 * synced commit), and the container servers take its row without a flush of their own. These
 * tests lose what a container server had not flushed (the in-memory twin's power loss), and
 * show that every object the object server acknowledged still reaches every listing.
 */

const hashPath = new HashPath('', 'test');
const T0 = 1_700_000_000;
const ts = (s: number): string => Timestamp.parse(T0 + s).internal;
const PART = '9';

interface ContainerReplica {
  readonly device: string;
  port: number;
  server: ContainerServer;
  http: HttpServer;
  /** The stores the server opened (one per device), to lose their unsynced writes. */
  readonly stores: MemoryKv[];
  readonly opener: KvOpener;
}

interface Rig {
  readonly clock: ManualClock;
  readonly containers: ContainerReplica[];
  readonly pendings: KeptAsyncPendingStore;
  put(name: string, at: number): Promise<number>;
  listing(replica: ContainerReplica): Promise<string[]>;
  /** A power loss of every container server: unsynced rows gone, servers started afresh. */
  crashContainers(): Promise<void>;
  close(): Promise<void>;
}

async function startContainer(clock: ManualClock, devices: string, replica: { device: string; port: number; stores: MemoryKv[]; opener: KvOpener }): Promise<{ server: ContainerServer; http: HttpServer }> {
  const config = defaultConfig({ storage: storageSchema, containerServer: containerServerSchema });
  const backend = new UndiciBackendClient({ nodeTimeoutMs: 2000 });
  const server = new ContainerServer(
    { storage: { ...config.storage, devices, mount_check: false }, containerServer: { ...config.containerServer, log_requests: false, db_sync_delay: 0.1 } },
    {
      clock,
      logger: nullLogger,
      backend,
      hashPath,
      kvOpener: async (path) => {
        const kv = (await replica.opener(path)) as MemoryKv;
        replica.stores.push(kv);
        return kv;
      },
    },
  );
  const http = await listen(server.handle, { host: '127.0.0.1', port: replica.port, logger: nullLogger });
  return { server, http };
}

async function rig(): Promise<Rig> {
  const dir = await makeTempDir();
  const clock = new ManualClock(T0 * 1000);
  const containers: ContainerReplica[] = [];
  for (const device of ['c1', 'c2', 'c3']) {
    await mkdir(join(dir.path, device));
    const replica = { device, port: 0, stores: [] as MemoryKv[], opener: memoryKvOpener() };
    const started = await startContainer(clock, dir.path, replica);
    containers.push({ ...replica, port: started.http.port, ...started });
  }
  await mkdir(join(dir.path, 'sda'));
  const objectConfig = defaultConfig({ storage: storageSchema, objectServer: objectServerSchema });
  const manager = new FsDiskFileManager({ devices: dir.path, mountCheck: false, hashPath, clock, logger: nullLogger, smallObjects: { maxBytes: 65_536, open: memoryKvOpener() } });
  const pendings = new KeptAsyncPendingStore(new MemoryAsyncPendingStore(), new Map([['objects-db', manager.small as SmallFiles]]));
  const backend = new UndiciBackendClient({ nodeTimeoutMs: 2000 });
  const object = new ObjectServer(
    { storage: { ...objectConfig.storage, devices: dir.path, mount_check: false }, objectServer: { ...objectConfig.objectServer, log_requests: false, container_update_sync_wait: 1 } },
    { clock, logger: nullLogger, backend, pendings, hashPath, diskFiles: new DiskFileRouter(new Map([[0, manager]])) },
  );
  const objectHttp = await listen(object.handle, { host: '127.0.0.1', port: 0, logger: nullLogger });
  for (const c of containers) assert.is((await httpRequest(c.port, 'PUT', `/${c.device}/${PART}/AUTH_a/c`, { 'X-Timestamp': ts(0) })).status, 201);
  return {
    clock,
    containers,
    pendings,
    put: async (name, at) =>
      (
        await httpRequest(
          objectHttp.port,
          'PUT',
          `/sda/1/AUTH_a/c/${name}`,
          {
            'X-Timestamp': ts(at),
            'Content-Type': 'text/plain',
            'X-Container-Host': containers.map((c) => `127.0.0.1:${c.port}`).join(','),
            'X-Container-Device': containers.map((c) => c.device).join(','),
            'X-Container-Partition': PART,
          },
          `body of ${name}`,
        )
      ).status,
    listing: async (c) => {
      const res = await httpRequest(c.port, 'GET', `/${c.device}/${PART}/AUTH_a/c?format=json`);
      return (JSON.parse(res.body.toString() || '[]') as { name: string }[]).map((r) => r.name);
    },
    crashContainers: async () => {
      for (const c of containers) {
        for (const kv of c.stores.splice(0)) kv.loseUnsynced();
        await c.http.close();
        await c.server.close();
        const started = await startContainer(clock, dir.path, c);
        c.server = started.server;
        c.http = started.http;
      }
    },
    close: async () => {
      await objectHttp.close();
      await object.close();
      await backend.close();
      for (const c of containers) {
        await c.http.close();
        await c.server.close();
      }
      await dir.remove();
    },
  };
}

async function keptCount(r: Rig): Promise<number> {
  return r.pendings.count('sda');
}

/**
 * Lets the object server's follow-ups (after the answers) run: they are a few loopback
 * exchanges. `tick` moves the clock on each time (settled pendings wait up to 0.2 s to ride in
 * a group commit, or go alone).
 */
async function until(what: string, check: () => Promise<boolean>, tick?: () => void): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    tick?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.unreachable(`never: ${what}`);
}

const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `o${String(from + i).padStart(3, '0')}`);

test('acknowledged objects reach every listing after the container servers lose their unsynced rows', async () => {
  const r = await rig();
  try {
    const written = names(20);
    const statuses = await Promise.all(written.map((name, i) => r.put(name, 1 + i)));
    assert.equal(statuses, written.map(() => 201));
    for (const c of r.containers) assert.equal(await r.listing(c), written, `${c.device} lists them before the crash`);
    // No container flushed yet (its delay has not passed), so every update is still kept.
    assert.is(await keptCount(r), written.length);

    await r.crashContainers();
    for (const c of r.containers) assert.equal(await r.listing(c), [], `${c.device} lost its unsynced rows`);

    // Nothing more is written: the object server hears no report and sends them again, synced.
    r.clock.advance(1000);
    await until('every update sent again and its pending removed', async () => (await keptCount(r)) === 0, () => r.clock.advance(250));
    for (const c of r.containers) assert.equal(await r.listing(c), written, `${c.device} lists them again`);
    // What was sent again is durable: a second power loss keeps it.
    await r.crashContainers();
    for (const c of r.containers) assert.equal(await r.listing(c), written, `${c.device} after a second crash`);
  } finally {
    await r.close();
  }
});

test('a container that restarted is known by its new epoch: the next answer sends the stranded updates again', async () => {
  const r = await rig();
  try {
    const first = names(10);
    await Promise.all(first.map((name, i) => r.put(name, 1 + i)));
    await r.crashContainers();
    // One more write: its answers carry the restarted servers' epochs, before any timeout.
    assert.is(await r.put('later', 50), 201);
    await until('the stranded updates sent again', async () => (await r.listing(r.containers[0] as ContainerReplica)).length === first.length + 1);
    for (const c of r.containers) await until(`${c.device} lists all`, async () => (await r.listing(c)).length === first.length + 1);
    for (const c of r.containers) assert.equal(await r.listing(c), ['later', ...first]);
  } finally {
    await r.close();
  }
});

test('once a container flushed, the next answer reports it synced and the pendings go without sending anything again', async () => {
  const r = await rig();
  try {
    const first = names(10);
    await Promise.all(first.map((name, i) => r.put(name, 1 + i)));
    assert.is(await keptCount(r), first.length);
    // The containers' flush (db_sync_delay, 0.1 s), not the object server's wait (1 s).
    r.clock.advance(150);
    // The flush runs on its own once due; a write after it is answered with a synced
    // watermark past the first ten, which settles them: only the new write's pending is left.
    await until('the containers flushed', async () => r.containers.every((c) => c.server.datadirs.openDevices().length > 0));
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(await r.put('after-flush', 60), 201);
    // Their pendings' deletes ride in the next write's group commit.
    assert.is(await r.put('rider', 61), 201);
    await until('the first ten settled', async () => (await keptCount(r)) === 2);
    // Those ten rows were flushed: losing the unsynced rest keeps them.
    for (const c of r.containers) for (const kv of c.stores) kv.loseUnsynced();
    for (const c of r.containers) {
      const listed = await r.listing(c);
      for (const name of first) assert.ok(listed.includes(name), `${c.device} keeps ${name}`);
    }
  } finally {
    await r.close();
  }
});

test.run();
