import { type Clock, systemClock } from '../common/clock.ts';
import { type ConfigsOf, swiftHashSchema } from '../common/config.ts';
import { hashPathFromConfig } from '../common/hash-path.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { listen } from '../common/http/server.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { StoragePolicies, storagePolicySchema } from '../common/storage-policy.ts';
import { loadRingSet } from '../ring/ring-set.ts';
import { workerMetricsText } from './proxy-metrics.ts';
import { proxyPolicySchema, proxyServerSchema } from '../proxy/config.ts';
import { pipelineSchemas } from '../proxy/pipeline.ts';
import { ProxyServer } from '../proxy/server.ts';
import { workerInfoPeers } from './proxy-worker-peers.ts';
import { DiskLocalDataFiles } from '../object/diskfile/local-data-files.ts';

/** The sections of a proxy's config file. */
export const proxyNodeSchemas = {
  'swift-hash': swiftHashSchema,
  'storage-policy:*': storagePolicySchema,
  'proxy-server': proxyServerSchema,
  'proxy-server:policy:*': proxyPolicySchema,
  ...pipelineSchemas,
} as const;

export type ProxyNodeConfig = ConfigsOf<typeof proxyNodeSchemas>;

/**
 * One proxy process: the Swift API on `bind_ip:bind_port`. With `reusePort`, several of these
 * (workers) share the port and the kernel spreads connections over them.
 */
export async function runProxy(config: ProxyNodeConfig, options: { clock?: Clock; logger?: Logger; reusePort?: boolean; workerMetrics?: boolean } = {}): Promise<{ port: number; server: ProxyServer; close(): Promise<void> }> {
  const clock = options.clock ?? systemClock;
  const p = config['proxy-server'];
  const logger = options.logger ?? createLogger({ level: p.log_level, clock, fields: { server: 'proxy' } });
  const hash = config['swift-hash'];
  const workers = workerInfoPeers();
  const policies = StoragePolicies.fromConfig(config['storage-policy:*']);
  const server = new ProxyServer(
    { proxy: p, policyOverrides: config['proxy-server:policy:*'], middleware: config, secret: `${hash.swift_hash_path_prefix}/${hash.swift_hash_path_suffix}`, policies },
    {
      clock,
      logger,
      backend: new UndiciBackendClient({ connectTimeoutMs: p.conn_timeout * 1000, nodeTimeoutMs: p.node_timeout * 1000 }),
      rings: loadRingSet(p.swift_dir, hashPathFromConfig(hash), clock, policies),
      hashPath: hashPathFromConfig(hash),
      localFiles: new DiskLocalDataFiles({ clock, logger }),
      ...(workers ? { infoPeers: workers.peers } : {}),
      ...(options.workerMetrics ? { metricsText: () => workerText() } : {}),
    },
  );
  workers?.forgetWith((account, container) => server.context.info.forget(account, container));
  // One of several workers: /metrics answers with all of theirs, gathered by the supervisor.
  const workerText = options.workerMetrics ? workerMetricsText(server.metrics.registry) : () => server.metrics.registry.metrics();
  const http = await listen(server.handle, { host: p.bind_ip, port: p.bind_port, logger, reusePort: options.reusePort ?? false });
  logger.info('proxy listening', { ip: p.bind_ip, port: http.port, pid: process.pid });
  return {
    port: http.port,
    server,
    close: async () => {
      await http.close();
      await server.close();
    },
  };
}
