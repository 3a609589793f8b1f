import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIO_NODES, aioLayout, aioPorts, type AioLayout, setupAio } from '../cli/aio-setup.ts';
import { accepts } from '../cli/wait-for-ports.ts';
import { systemClock } from '../common/clock.ts';
import { HashPath } from '../common/hash-path.ts';
import { backendPath, UndiciBackendClient } from '../common/http/backend-client.ts';
import { loadRingSet, type RingSet } from '../ring/ring-set.ts';
import { freePort, freePortBase } from './free-port.ts';
import { httpRequest, type TestResponse } from './http-request.ts';

const SWIFTLET = join(import.meta.dirname, '../cli/swiftlet.ts');

/** Where a device is served (a ring node or a handoff). */
type DeviceAddress = { readonly ip: string; readonly port: number; readonly device: string };

/**
 * A cluster of real processes for probe tests: the all-in-one layout (4 storage nodes, one
 * device each, 3 replicas) with every node a `swiftlet start storage --no-daemons` process and
 * one proxy process. Nodes can be killed (SIGKILL) and started again; daemons run only through
 * `swiftlet once`, the operator's command; replicas are checked directly on the storage nodes.
 */
export interface ProbeCluster {
  readonly layout: AioLayout;
  readonly proxyPort: number;
  readonly hashPath: HashPath;
  /** Loads the rings as they are on disk now. */
  rings(): RingSet;
  /** A request through the proxy as test:tester. */
  request(method: string, path: string, headers?: Record<string, string>, body?: Buffer | string): Promise<TestResponse>;
  /** A request straight to a storage node's device (`/device/partition/names...`). */
  direct(node: DeviceAddress, method: string, partition: number, names: readonly string[], headers?: Record<string, string>): Promise<TestResponse>;
  /** One request to every primary of an account, container or object, in ring order. */
  onPrimaries(method: string, names: readonly string[], headers?: Record<string, string>): Promise<(TestResponse & { node: number })[]>;
  /** Each container primary's object names (a direct, paged listing), in ring order. */
  listings(account: string, container: string): Promise<{ node: number; names: string[] | undefined }[]>;
  /** Which aio node (1-4) serves a ring node, by its port. */
  nodeOf(node: DeviceAddress): number;
  kill(n: number): Promise<void>;
  start(n: number): Promise<void>;
  /** Restarts every process (they load new rings at once). */
  restartAll(): Promise<void>;
  /** `swiftlet <args> --data DIR`: its exit code and output. */
  swiftlet(args: readonly string[]): Promise<{ code: number; output: string }>;
  /** `swiftlet once <daemon> --data DIR`; rejects with its output when it fails. */
  once(daemon: string): Promise<string>;
  close(): Promise<void>;
}

export interface ProbeOptions {
  /** Let the nodes' daemons run on their own, at their config's intervals (default: only `once`). */
  readonly daemons?: boolean;
  /** More INI for every node's config (e.g. daemon intervals). */
  readonly nodeConfig?: string;
}

export async function startProbeCluster(options: ProbeOptions = {}): Promise<ProbeCluster> {
  const path = await mkdtemp(join(tmpdir(), 'swiftlet-probe-'));
  const dir = { path, remove: () => rm(path, { recursive: true, force: true }) };
  const layout = aioLayout(dir.path);
  const proxyPort = await freePort();
  const portBase = await freePortBase();
  await setupAio(layout, { proxyPort, clock: systemClock, workers: 1, storagePortBase: portBase });
  // Swift's auditor rate limits (20 objects/s) protect production disks; a probe wants the
  // verdict now (unless the caller configures the nodes itself).
  for (const n of AIO_NODES) {
    await appendFile(layout.nodeConfig(n), options.nodeConfig ?? '\n[object-auditor]\nfiles_per_second = 100000\nbytes_per_second = 1000000000000\nfast_files_per_second = 100000\n');
  }
  const suffix = /swift_hash_path_suffix = (\S+)/.exec(await readFile(join(layout.etc, 'swiftlet.conf'), 'utf8'))?.[1] ?? '';
  const hashPath = new HashPath('', suffix);
  const backend = new UndiciBackendClient({ nodeTimeoutMs: 10_000 });
  const children = new Map<string, ChildProcess>();

  const launch = async (name: string, args: string[], ports: number[]): Promise<void> => {
    const log = openSync(join(layout.log, `${name}.log`), 'a');
    const child = spawn(process.execPath, [SWIFTLET, ...args], { stdio: ['ignore', log, log] });
    children.set(name, child);
    for (const port of ports) {
      // Generous: a loaded machine takes long to start a node; this only catches one that never listens.
      const deadline = Date.now() + 120_000;
      while (!(await accepts(port))) {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${join(layout.log, `${name}.log`)}`);
        if (Date.now() > deadline) throw new Error(`${name} did not listen on ${port}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const stop = async (name: string, signal: NodeJS.Signals): Promise<void> => {
    const child = children.get(name);
    children.delete(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  const startNode = (n: number): Promise<void> => {
    const p = aioPorts(n, portBase);
    return launch(`node${n}`, ['start', 'storage', ...(options.daemons ? [] : ['--no-daemons']), '--config', layout.nodeConfig(n)], [p.object, p.container, p.account]);
  };
  const startProxy = (): Promise<void> => launch('proxy', ['start', 'proxy', '--config', layout.proxyConfig], [proxyPort]);
  const startAll = async (): Promise<void> => {
    await Promise.all(AIO_NODES.map((n) => startNode(n)));
    await startProxy();
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all([...children.keys()].map((name) => stop(name, 'SIGTERM')));
  };

  try {
    await startAll();
  } catch (err) {
    await stopAll();
    await dir.remove();
    throw err;
  }
  let token = '';
  const authorize = async (): Promise<void> => {
    const auth = await httpRequest(proxyPort, 'GET', '/auth/v1.0', { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' });
    token = auth.headers['x-auth-token'] ?? '';
  };
  await authorize();

  const cluster: ProbeCluster = {
    layout,
    proxyPort,
    hashPath,
    rings: () => loadRingSet(layout.etc, hashPath, systemClock),
    request: (method, path, headers = {}, body) => httpRequest(proxyPort, method, path, { 'X-Auth-Token': token, ...headers }, body),
    async direct(node, method, partition, names, headers = {}) {
      const res = await backend.request(node, { method, path: backendPath(node.device, partition, ...names), headers });
      return { status: res.status, headers: { ...res.headers }, body: await res.body.bytes() };
    },
    async onPrimaries(method, names, headers = {}) {
      const ring = names.length === 3 ? cluster.rings().object : names.length === 2 ? cluster.rings().container : cluster.rings().account;
      const { partition, nodes } = ring.getNodes(names[0] as string, names[1], names[2]);
      return Promise.all(nodes.map(async (node) => ({ ...(await cluster.direct(node, method, partition, names, headers)), node: cluster.nodeOf(node) })));
    },
    async listings(account, container) {
      const { partition, nodes } = cluster.rings().container.getNodes(account, container);
      return Promise.all(nodes.map(async (node) => {
        const names: string[] = [];
        for (;;) {
          const marker = names.length ? `?format=json&marker=${encodeURIComponent(names[names.length - 1] as string)}` : '?format=json';
          const res = await backend.request(node, { method: 'GET', path: backendPath(node.device, partition, account, container), query: marker.slice(1) });
          if (res.status !== 200) {
            await res.body.dump();
            return { node: cluster.nodeOf(node), names: res.status === 204 ? names : undefined };
          }
          const page = (await res.body.json()) as { name: string }[];
          if (page.length === 0) return { node: cluster.nodeOf(node), names };
          names.push(...page.map((row) => row.name));
        }
      }));
    },
    nodeOf(node) {
      const n = AIO_NODES.find((i) => Object.values(aioPorts(i, portBase)).includes(node.port));
      if (n === undefined) throw new Error(`no aio node serves port ${node.port}`);
      return n;
    },
    kill: (n) => stop(`node${n}`, 'SIGKILL'),
    start: startNode,
    async restartAll() {
      await stopAll();
      await startAll();
    },
    swiftlet(args) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [SWIFTLET, ...args, '--data', layout.data], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        child.on('close', (code) => resolve({ code: code ?? 1, output }));
      });
    },
    async once(daemon) {
      const { code, output } = await cluster.swiftlet(['once', daemon]);
      if (code !== 0) throw new Error(`swiftlet once ${daemon} exited ${code}:\n${output}`);
      return output;
    },
    async close() {
      await stopAll();
      await backend.close();
      // KEEP_PROBE=1 keeps the nodes' data and logs for a look after a failure.
      if (process.env.KEEP_PROBE) console.error(`kept ${dir.path}`);
      else await dir.remove();
    },
  };
  return cluster;
}
