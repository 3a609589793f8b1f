import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultProxyWorkers, defaultStorageProcesses, groupNodes } from '../../../cli/aio.ts';
import { loadStorageNodeConfig } from '../../../cli/node-config.ts';
import { storageProcessNodeFlags } from '../../../cli/storage-process-launch.ts';
import { runStorageProcess } from '../../../cli/storage-process.ts';
import { ConfigError } from '../../../common/errors.ts';
import { createLogger } from '../../../common/logger.ts';
import { httpRequest } from '../../helpers/http.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

async function nodeConfig(dir: string, name: string, devices: string): Promise<{ name: string; config: ReturnType<typeof loadStorageNodeConfig> }> {
  await mkdir(join(devices, 'd1'), { recursive: true });
  const path = join(dir, `${name}.conf`);
  await writeFile(path, [
    '[swift-hash]', 'swift_hash_path_suffix = s',
    '[storage]', `devices = ${devices}`, 'mount_check = false', 'bind_ip = 127.0.0.1', `swift_dir = ${dir}`, 'run_daemons = false',
    '[object-server]', 'bind_port = 0',
    '[container-server]', 'bind_port = 0',
    '[account-server]', 'bind_port = 0',
  ].join('\n'));
  return { name, config: loadStorageNodeConfig(path) };
}

const quiet = () => createLogger({ level: 'error' });

test('a storage process of one node gets 8 MiB semi-spaces, one of several nodes 16 MiB', () => {
  // One node allocates a quarter as fast as four (docs/performance.md, "One node's young generation").
  assert.equal(storageProcessNodeFlags(1), ['--max-semi-space-size=8']);
  assert.equal(storageProcessNodeFlags(2), ['--max-semi-space-size=16']);
  assert.equal(storageProcessNodeFlags(4), ['--max-semi-space-size=16']);
});

test('two storage nodes in one process each serve their own devices on their own ports', async () => {
  const dir = await makeTempDir();
  try {
    const nodes = [await nodeConfig(dir.path, 'node1', join(dir.path, 'n1')), await nodeConfig(dir.path, 'node2', join(dir.path, 'n2'))];
    const running = await runStorageProcess(nodes, { logger: quiet });
    try {
      const [a, b] = running.nodes.map((n) => n.ports.object) as [number, number];
      assert.is.not(a, b);
      const put = await httpRequest(a, 'PUT', '/d1/0/AUTH_a/c/o', { 'X-Timestamp': '1700000000.00000', 'Content-Type': 'text/plain', 'Content-Length': '5' }, 'hello');
      assert.is(put.status, 201);
      assert.is((await httpRequest(a, 'GET', '/d1/0/AUTH_a/c/o')).body.toString(), 'hello');
      assert.is((await httpRequest(b, 'GET', '/d1/0/AUTH_a/c/o')).status, 404, 'the other node has its own device');
      const container = running.nodes[1]?.ports.container as number;
      assert.is((await httpRequest(container, 'PUT', '/d1/0/AUTH_a/c', { 'X-Timestamp': '1700000000.00000' })).status, 201);
    } finally {
      await running.close();
    }
  } finally {
    await dir.remove();
  }
});

/** A container server that records each request and holds its answer until the test releases it. */
async function heldContainerServer(): Promise<{ port: number; seen: { method: string; path: string; verb?: string; body: string; answer: () => void }[]; arrived: () => Promise<void>; close: () => Promise<void> }> {
  const seen: { method: string; path: string; verb?: string; body: string; answer: () => void }[] = [];
  let wake: (() => void) | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const verb = req.headers['x-backend-verb'];
      seen.push({ method: req.method ?? '', path: req.url ?? '', ...(typeof verb === 'string' ? { verb } : {}), body, answer: () => res.writeHead(201, { 'Content-Length': '0' }).end() });
      wake?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    arrived: () => new Promise<void>((resolve) => (wake = resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('the object servers of one process send a container replica their updates together: one in flight, the rest in one UPDATE', async () => {
  const dir = await makeTempDir();
  const container = await heldContainerServer();
  try {
    const nodes = [await nodeConfig(dir.path, 'node1', join(dir.path, 'n1')), await nodeConfig(dir.path, 'node2', join(dir.path, 'n2'))];
    const running = await runStorageProcess(nodes, { logger: quiet });
    try {
      const [a, b] = running.nodes.map((n) => n.ports.object) as [number, number];
      const headers = (at: string): Record<string, string> => ({ 'X-Timestamp': at, 'Content-Type': 'text/plain', 'Content-Length': '5', 'X-Container-Host': `127.0.0.1:${container.port}`, 'X-Container-Device': 'sdc', 'X-Container-Partition': '7' });
      let arrived = container.arrived();
      const first = httpRequest(a, 'PUT', '/d1/0/AUTH_a/c/o1', headers('1700000001.00000'), 'hello');
      await arrived;
      assert.is(container.seen.length, 1);
      assert.is(container.seen[0]?.method, 'PUT', 'the first update goes alone, as Swift sends it');
      // Two more writes, one on each node, while the first update is held.
      const later = [httpRequest(a, 'PUT', '/d1/0/AUTH_a/c/o2', headers('1700000002.00000'), 'hello'), httpRequest(b, 'PUT', '/d1/0/AUTH_a/c/o3', headers('1700000003.00000'), 'hello')];
      // Each is stored (and so waiting for its update) once a GET finds it.
      for (const [port, name] of [[a, 'o2'], [b, 'o3']] as const) {
        while ((await httpRequest(port, 'GET', `/d1/0/AUTH_a/c/${name}`)).status !== 200);
      }
      assert.is(container.seen.length, 1, 'the second node waits behind the first node\'s update to that replica');
      arrived = container.arrived();
      container.seen[0]?.answer();
      assert.is((await first).status, 201);
      await arrived;
      assert.is(container.seen.length, 2);
      const batch = container.seen[1] as (typeof container.seen)[number];
      assert.is(batch.verb, 'UPDATE');
      assert.is(batch.path, '/sdc/7/AUTH_a/c');
      assert.equal((JSON.parse(batch.body) as { name: string }[]).map((r) => r.name).sort(), ['o2', 'o3']);
      batch.answer();
      assert.equal((await Promise.all(later)).map((r) => r.status), [201, 201]);
      assert.is(container.seen.length, 2, 'two requests for three writes of two nodes');
    } finally {
      await running.close();
    }
  } finally {
    await container.close();
    await dir.remove();
  }
});

test('two nodes of one process on the same devices directory are refused before either serves', async () => {
  const dir = await makeTempDir();
  try {
    const shared = join(dir.path, 'devs');
    const nodes = [await nodeConfig(dir.path, 'node1', shared), await nodeConfig(dir.path, 'node2', `${shared}/`)];
    const err = await runStorageProcess(nodes, { logger: quiet }).then(() => undefined, (e: unknown) => e);
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, /node1 and node2 in one process would share it/);
  } finally {
    await dir.remove();
  }
});

test('the all-in-one cluster runs its four nodes in one storage process per two cores', () => {
  assert.equal([1, 2, 3, 4, 5, 8, 64].map((cores) => defaultStorageProcesses(cores)), [1, 1, 1, 2, 2, 4, 4]);
  assert.equal(groupNodes(1), [[1, 2, 3, 4]]);
  assert.equal(groupNodes(2), [[1, 3], [2, 4]]);
  assert.equal(groupNodes(3), [[1, 4], [2], [3]]);
  assert.equal(groupNodes(4), [[1], [2], [3], [4]]);
});

test('the all-in-one proxy runs one worker per two cores (on two cores one worker served more small GETs than two)', () => {
  assert.equal([1, 2, 3, 4, 8, 64].map((cores) => defaultProxyWorkers(cores)), [1, 1, 1, 2, 4, 32]);
});

test.run();
