import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Clock } from '../common/clock.ts';
import { aioComputeAgentConfig, aioComputeConfig, DEFAULT_COMPUTE_PORT, setupAioCompute } from './aio-compute.ts';
import { aioIdentityFiles, DEFAULT_IDENTITY_PORT, setupAioIdentity, waitForIdentity } from './aio-identity.ts';
import { aioNetworkConfig, DEFAULT_NETWORK_PORT, setupAioNetwork } from './aio-network.ts';
import { aioImageConfig, DEFAULT_IMAGE_PORT, setupAioImage } from './aio-image.ts';
import { AIO_NODES, aioLayout, setupAio } from './aio-setup.ts';
import { aioVolumeFiles, DEFAULT_VOLUME_PORT, setupAioVolume } from './aio-volume.ts';
import { STORAGE_PROCESS_ENV, storageProcessNodeFlags } from './storage-process-launch.ts';
import { waitForPorts } from './wait-for-ports.ts';

const SWIFTLET = join(import.meta.dirname, 'swiftlet.ts');

interface Managed {
  readonly name: string;
  readonly args: readonly string[];
  /** Node's own flags, before the script (the storage processes': cli/storage-process-launch.ts). */
  readonly nodeFlags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  child?: ChildProcess;
  restarts: number;
}

export interface AioOptions {
  readonly data: string;
  readonly port: number;
  /** The identity service's port (default 5000). */
  readonly identityPort?: number;
  /** The compute API's port (default 8774). */
  readonly computePort?: number;
  /** The network service's port (default 9696). */
  readonly networkPort?: number;
  /** The volume service's port (default 8776). */
  readonly volumePort?: number;
  /** The image service's port (default 9292). */
  readonly imagePort?: number;
  /** First storage port for a new cluster (default 6300). */
  readonly storagePortBase?: number;
  /** Storage nodes start with their daemons idle (probe tests run them with `swiftlet once`). */
  readonly noDaemons?: boolean;
  /** Processes the four storage nodes run in (1-4; default `defaultStorageProcesses()`). */
  readonly storageProcesses?: number;
  /** The proxy's workers; given, it is written into proxy.conf (default for a new cluster: `defaultProxyWorkers()`). */
  readonly proxyWorkers?: number;
  readonly clock: Clock;
  out(line: string): void;
  /** Resolves when the cluster should stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<void>;
}

/**
 * Storage processes for the four nodes: one per two cores, so the nodes and the proxy's
 * workers do not outnumber the cores (on two cores, one process for all four nodes spent a
 * third less storage CPU per small PUT than four processes; docs/decisions.md).
 */
export function defaultStorageProcesses(cores = availableParallelism()): number {
  return Math.max(1, Math.min(AIO_NODES.length, Math.floor(cores / 2)));
}

/**
 * Proxy workers of a new all-in-one cluster: one per two cores, the other half left to the
 * storage processes (above). On two cores one worker served 34-50% more 4 KiB GETs than two at
 * 32 connections, large objects alike (docs/performance.md, "Proxy workers in the aio").
 */
export function defaultProxyWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}

/** Which nodes each storage process runs: node n in process (n - 1) mod `count`. */
export function groupNodes(count: number): number[][] {
  return Array.from({ length: count }, (_, i) => AIO_NODES.filter((n) => (n - 1) % count === i));
}

/**
 * `swiftlet aio`: a whole cluster on 127.0.0.1 in one command. Four storage nodes (in
 * `storageProcesses` processes), a proxy, the identity service (cli/aio-identity.ts), the
 * image service (cli/aio-image.ts), the network service (cli/aio-network.ts), the compute API
 * (cli/aio-compute.ts) and the volume service (cli/aio-volume.ts); each process's pid is in
 * `<data>/run/<name>.pid` (`storage1`.., `proxy`, `identity`, `image`, `network`, `compute`,
 * `volume`), its log in `<data>/log/<name>.log`. A
 * process that dies is started again, as a supervisor would. Stops everything on SIGINT or
 * SIGTERM.
 */
export async function runAio(options: AioOptions): Promise<number> {
  // Listening from the start: a SIGTERM before there was a listener killed this process
  // outright, and the processes it had just launched ran on without it.
  const stopRequested = options.stopSignal ?? untilSignal();
  // A stop while the cluster starts ends the waits at once: a wait left running kept the
  // process alive for minutes after it said "stopped".
  const stop = new AbortController();
  void stopRequested.then(() => stop.abort());
  const layout = aioLayout(resolve(options.data));
  const created = await setupAio(layout, { proxyPort: options.port, clock: options.clock, workers: options.proxyWorkers ?? defaultProxyWorkers(), rewriteWorkers: options.proxyWorkers !== undefined, storagePortBase: options.storagePortBase ?? 6300 });
  const identityPort = options.identityPort ?? DEFAULT_IDENTITY_PORT;
  const networkPort = options.networkPort ?? DEFAULT_NETWORK_PORT;
  await setupAioIdentity(layout, { port: identityPort, proxyPort: options.port, networkPort });
  const identity = aioIdentityFiles(layout);
  await setupAioNetwork(layout, { port: networkPort, proxyPort: options.port, identityPort, keyRepository: identity.keys });
  const volumePort = options.volumePort ?? DEFAULT_VOLUME_PORT;
  const imagePort = options.imagePort ?? DEFAULT_IMAGE_PORT;
  await setupAioImage(layout, { port: imagePort, proxyPort: options.port });
  await setupAioVolume(layout, { port: volumePort, proxyPort: options.port, identityPort, imagePort });
  options.out(created ? `created a new cluster in ${layout.data}` : `using the cluster in ${layout.data}`);
  let stopping = false;
  const groups = groupNodes(options.storageProcesses ?? defaultStorageProcesses());
  const computePort = options.computePort ?? DEFAULT_COMPUTE_PORT;
  await setupAioCompute(layout, { port: computePort, proxyPort: options.port, agents: groups.length, identityPort, networkPort, imagePort, volumePort });
  for (const [i, nodes] of groups.entries()) options.out(`storage${i + 1}: ${nodes.map((n) => `node${n}`).join(' ')}`);
  const managed: Managed[] = [
    ...groups.map((nodes, i) => ({
      name: `storage${i + 1}`,
      args: ['start', 'storage', ...nodes.flatMap((n) => ['--config', layout.nodeConfig(n)]), '--compute-agent', aioComputeAgentConfig(layout, i + 1), ...(options.noDaemons ? ['--no-daemons'] : [])],
      nodeFlags: storageProcessNodeFlags(nodes.length),
      env: STORAGE_PROCESS_ENV,
      restarts: 0,
    })),
    { name: 'proxy', args: ['start', 'proxy', '--config', layout.proxyConfig], restarts: 0 },
    { name: 'identity', args: ['start', 'identity', '--config', identity.config], restarts: 0 },
    { name: 'compute', args: ['start', 'compute', '--config', aioComputeConfig(layout)], restarts: 0 },
    { name: 'network', args: ['start', 'network', '--config', aioNetworkConfig(layout)], restarts: 0 },
    { name: 'volume', args: ['start', 'volume', '--config', aioVolumeFiles(layout).config], restarts: 0 },
    { name: 'image', args: ['start', 'image', '--config', aioImageConfig(layout)], restarts: 0 },
  ];
  const launch = (m: Managed): void => {
    const log = openSync(join(layout.log, `${m.name}.log`), 'a');
    const child = spawn(process.execPath, [...(m.nodeFlags ?? []), SWIFTLET, ...m.args], { stdio: ['ignore', log, log], ...(m.env ? { env: { ...process.env, ...m.env } } : {}) });
    m.child = child;
    void writeFile(join(layout.run, `${m.name}.pid`), `${child.pid}\n`);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      m.restarts += 1;
      options.out(`${m.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting it (restart ${m.restarts})`);
      setTimeout(() => {
        if (!stopping) launch(m);
      }, Math.min(5000, 200 * m.restarts));
    });
  };
  for (const m of managed) if (!stop.signal.aborted) launch(m);

  const ports = [...(await storagePorts(layout.nodeConfig)), options.port];
  // A loaded machine can take longer than 30 s to start four nodes: say so, and keep waiting.
  let ready = await waitForPorts(ports, 30_000, options.clock, stop.signal);
  if (!ready && !stop.signal.aborted) {
    options.out(`not ready after 30 s, still waiting (logs in ${layout.log})`);
    ready = await waitForPorts(ports, 270_000, options.clock, stop.signal);
  }
  // Then the identity service's first bootstrap, through the proxy.
  if (ready) ready = await waitForIdentity(identityPort, 300_000, options.clock, stop.signal);
  // And the image, network, compute and volume services, which need nothing before they answer.
  if (ready) ready = await waitForPorts([imagePort, networkPort, computePort, volumePort], 60_000, options.clock, stop.signal);
  if (stop.signal.aborted && !ready) options.out('asked to stop before the cluster was ready');
  else if (!ready) options.out(`not ready after 300 s: see the logs in ${layout.log}`);
  else {
    options.out(`ready: proxy on http://127.0.0.1:${options.port}, auth URL http://127.0.0.1:${options.port}/auth/v1.0`);
    options.out(`  swift -A http://127.0.0.1:${options.port}/auth/v1.0 -U test:tester -K testing stat`);
    options.out(`identity (Keystone v3) on http://127.0.0.1:${identityPort}/v3; clouds "swiftlet-admin" and "swiftlet-demo" in ${identity.clouds}:`);
    options.out(`  export OS_CLIENT_CONFIG_FILE=${identity.clouds} OS_CLOUD=swiftlet-admin`);
    options.out('  openstack token issue');
    options.out(`compute (Nova v2.1) on http://127.0.0.1:${computePort}/v2.1:  openstack flavor list`);
    options.out(`network (Neutron v2.0) on http://127.0.0.1:${networkPort}: openstack network list`);
    options.out(`volume (Cinder v3) on http://127.0.0.1:${volumePort}/v3: openstack volume create --size 1 v1`);
    options.out(`image (Glance v2) on http://127.0.0.1:${imagePort}: openstack image list`);
  }

  await stopRequested;
  stopping = true;
  options.out('stopping');
  await Promise.all(
    managed.map(async (m) => {
      const child = m.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await unlink(join(layout.run, `${m.name}.pid`)).catch(() => undefined);
    }),
  );
  options.out('stopped');
  return ready ? 0 : 1;
}

/** The storage ports written in the node configs (they may come from another port base). */
async function storagePorts(nodeConfig: (n: number) => string): Promise<number[]> {
  const ports: number[] = [];
  for (const n of AIO_NODES) {
    for (const m of (await readFile(nodeConfig(n), 'utf8')).matchAll(/^bind_port = (\d+)$/gm)) ports.push(Number(m[1]));
  }
  return ports;
}

function untilSignal(): Promise<void> {
  return new Promise((res) => {
    process.once('SIGINT', () => res());
    process.once('SIGTERM', () => res());
  });
}
