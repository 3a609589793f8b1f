import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createLogger } from '../common/logger.ts';
import { loadComputeAgentConfig, loadComputeConfig, loadIdentityConfig, loadImageConfig, loadNetworkConfig, loadProxyConfig, loadStorageNodeConfig, loadVolumeConfig } from './node-config.ts';
import { serveWorkerMetrics } from './proxy-metrics.ts';
import { relayInfoForgets } from './proxy-worker-peers.ts';
import { nodeName } from './node-name.ts';

/** The roles that are one service process each, run from one config file until a signal. */
// Each role's code is imported only by the process that runs it (see cli/swiftlet.ts).
const SERVICE_ROLES: Readonly<Record<string, (path: string) => Promise<{ close(): Promise<void> }>>> = {
  identity: async (path: string) => (await import('./identity-node.ts')).runIdentity(loadIdentityConfig(path)),
  image: async (path: string) => (await import('./image-node.ts')).runImage(loadImageConfig(path)),
  network: async (path: string) => (await import('./network-node.ts')).runNetwork(loadNetworkConfig(path)),
  compute: async (path: string) => (await import('./compute-node.ts')).runCompute(loadComputeConfig(path)),
  'compute-agent': async (path: string) => (await import('./compute-agent-node.ts')).runComputeAgent(loadComputeAgentConfig(path)),
  volume: async (path: string) => (await import('./volume-node.ts')).runVolume(loadVolumeConfig(path)),
};

/**
 * `swiftlet start storage|proxy|identity|image|network|compute|compute-agent|volume --config FILE`: runs one role of a real node until SIGTERM or
 * SIGINT, then stops cleanly. A proxy with several workers forks them here; each serves the
 * same port, and a worker that dies is replaced. Storage takes `--config` more than once to
 * run several nodes in one process (the all-in-one cluster on a small machine). `noDaemons`
 * keeps a storage node's daemons idle whatever its config says; they then run only through
 * `swiftlet once`.
 */
export async function start(role: string | undefined, configPaths: readonly string[], out: { err(line: string): void }, options: { noDaemons?: boolean; computeAgent?: string } = {}): Promise<number> {
  const [configPath] = configPaths;
  if (configPath === undefined) {
    out.err('usage: swiftlet start storage|proxy|identity|image|network|compute|compute-agent|volume --config FILE');
    return 2;
  }
  if (role === 'storage') {
    const nodes = configPaths.map((path) => {
      const config = loadStorageNodeConfig(path);
      return { name: nodeName(path), config: options.noDaemons ? { ...config, storage: { ...config.storage, run_daemons: false } } : config };
    });
    const running = await (await import('./storage-process.ts')).runStorageProcess(nodes);
    // The all-in-one cluster's compute hosts run in its storage processes.
    const agent = options.computeAgent === undefined ? undefined : await (await import('./compute-agent-node.ts')).runComputeAgent(loadComputeAgentConfig(options.computeAgent));
    await untilSignal();
    await agent?.close();
    await running.close();
    return 0;
  }
  if (role === 'proxy') {
    if (configPaths.length > 1) {
      out.err('swiftlet start proxy: one --config only');
      return 2;
    }
    const config = loadProxyConfig(configPath);
    const wanted = config['proxy-server'].workers || availableParallelism();
    const { runProxy } = await import('./proxy-node.ts');
    if (wanted <= 1) {
      const proxy = await runProxy(config);
      await untilSignal();
      await proxy.close();
      return 0;
    }
    if (cluster.isPrimary) return superviseWorkers(wanted, config['proxy-server'].log_level);
    const proxy = await runProxy(config, { reusePort: true, workerMetrics: true });
    await untilSignal();
    await proxy.close();
    // The IPC channel to the primary would keep this worker alive.
    cluster.worker?.disconnect();
    return 0;
  }
  const service = role !== undefined && Object.hasOwn(SERVICE_ROLES, role) ? SERVICE_ROLES[role] : undefined;
  if (service) {
    if (configPaths.length > 1) {
      out.err(`swiftlet start ${role}: one --config only`);
      return 2;
    }
    const running = await service(configPath);
    await untilSignal();
    await running.close();
    return 0;
  }
  out.err(`unknown role ${JSON.stringify(role)}: expected storage, proxy, identity, image, network, compute, compute-agent or volume`);
  return 2;
}

async function superviseWorkers(count: number, level: 'debug' | 'info' | 'warn' | 'error'): Promise<number> {
  const logger = createLogger({ level, fields: { server: 'proxy-supervisor' } });
  let stopping = false;
  serveWorkerMetrics();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn('proxy worker died; starting another', { pid: worker.process.pid, code, signal });
    cluster.fork();
  });
  relayInfoForgets();
  for (let i = 0; i < count; i++) cluster.fork();
  await untilSignal();
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  await Promise.all(workers.map((w) => new Promise((resolve) => {
    w.once('exit', resolve);
    w.kill('SIGTERM');
  })));
  return 0;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}
