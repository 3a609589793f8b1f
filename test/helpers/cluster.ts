import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../common/clock.ts';
import { defaultConfig } from '../../common/config.ts';
import { HashPath } from '../../common/hash-path.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { type HttpServer, listen } from '../../common/http/server.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import { RingBuilder } from '../../ring/builder.ts';
import { writeRingFile } from '../../ring/io.ts';
import { Ring } from '../../ring/ring.ts';
import { objectRingName } from '../../ring/ring-set.ts';
import { StoragePolicies } from '../../common/storage-policy.ts';
import { type RunningStorageNode, runStorageNode, type StorageNodeConfig, storageNodeSchemas } from '../../cli/storage-node.ts';
import { proxyNodeSchemas } from '../../cli/proxy-node.ts';
import type { PipelineConfig } from '../../proxy/pipeline.ts';
import { ProxyServer } from '../../proxy/server.ts';
import { httpRequest, type TestResponse } from './http.ts';
import { makeTempDir } from './tmpdir.ts';
import { DiskLocalDataFiles } from '../../object/diskfile/local-data-files.ts';

export interface ClusterNode {
  readonly n: number;
  readonly devices: string;
  readonly device: string;
  ports: { object: number; container: number; account: number };
  running?: RunningStorageNode;
}

/**
 * A whole cluster in this process, on ephemeral ports of 127.0.0.1: `nodes` storage nodes
 * (one device and one zone each), rings with `replicas` replicas, and a proxy with the
 * all-in-one tempauth users (test:tester/testing is admin of AUTH_test; test5:tester5 the service
 * user of SERVICE_ accounts) and versioning. Nodes can be stopped and started again on the same
 * ports, for failover tests.
 */
export interface TestCluster {
  readonly port: number;
  readonly nodes: readonly ClusterNode[];
  readonly proxy: ProxyServer;
  readonly hashPath: HashPath;
  /** The rings; `objects` holds every policy's object ring (`object` is policy 0's). */
  readonly rings: { account: Ring; container: Ring; object: Ring; objects: Map<number, Ring> };
  readonly policies: StoragePolicies;
  /** A token for `account:user` (default test:tester). */
  token(user?: string, key?: string): Promise<string>;
  /** A request to the proxy with test:tester's token (pass `X-Auth-Token: ''` to send none). */
  request(method: string, path: string, headers?: Record<string, string>, body?: Buffer | string): Promise<TestResponse>;
  /**
   * A second proxy on the same rings, secret and config, with caches of its own: what another
   * proxy worker or host sees. `overrides` change its `[proxy-server]` settings.
   */
  anotherProxy(overrides?: Record<string, unknown>): Promise<{ readonly port: number; close(): Promise<void> }>;
  /** One pass of every running node's daemons whose name matches (all when omitted). */
  runDaemons(name?: string | RegExp): Promise<void>;
  stopNode(n: number): Promise<void>;
  startNode(n: number): Promise<void>;
  close(): Promise<void>;
}

const USERS = {
  'user_test_tester': 'testing .admin',
  'user_test2_tester2': 'testing2 .admin',
  'user_test_tester3': 'testing3',
  'user_test5_tester5': 'testing5 service',
  'user_admin_admin': 'admin .admin .reseller_admin',
};

/** A `[storage-policy:N]` section of the test cluster; `replicas` defaults to the cluster's. */
export interface ClusterPolicy {
  readonly name: string;
  readonly aliases?: string;
  readonly default?: boolean;
  readonly deprecated?: boolean;
  readonly replicas?: number;
}

/**
 * `users` adds tempauth users (`user_<account>_<user>` = `<key> [groups]`), e.g. the owner of a
 * system account for the record store's tests. `policies`: `[storage-policy:N]` sections (index →
 * section) for the nodes and the proxy; each gets its object ring with `replicas` of its own
 * (default: the cluster's; default: policy 0 alone). `proxyPort`: the proxy's port (default: any
 * free one); `swiftFiles`: files to write into the swift_dir before anything starts
 * (`container-sync-realms.conf`, ...); `middleware`: the proxy's middleware sections (tempauth's
 * users are the cluster's); `regionOf`: node n's region in the rings (default 1).
 */
export async function startCluster(options: { nodes?: number; replicas?: number; partPower?: number; logger?: Logger; proxy?: Record<string, unknown>; clock?: Clock; users?: Record<string, string>; policies?: Record<number, ClusterPolicy>; proxyPort?: number; swiftFiles?: Record<string, string>; middleware?: Partial<PipelineConfig>; regionOf?: (n: number) => number } = {}): Promise<TestCluster> {
  const nodeCount = options.nodes ?? 4;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: 'error' });
  const dir = await makeTempDir('swiftlet-cluster-');
  for (const [name, text] of Object.entries(options.swiftFiles ?? {})) await writeFile(join(dir.path, name), text);
  const hashSection = { swift_hash_path_prefix: '', swift_hash_path_suffix: 'test-cluster' };
  const hashPath = new HashPath('', 'test-cluster');
  const nodes: ClusterNode[] = [];
  const policySections = Object.fromEntries(
    Object.entries(options.policies ?? {}).map(([index, p]) => [index, { name: p.name, aliases: p.aliases ?? '', default: p.default ?? false, deprecated: p.deprecated ?? false, policy_type: 'replication' as const }]),
  );
  const policies = StoragePolicies.fromConfig(policySections);
  const configFor = (node: ClusterNode): StorageNodeConfig => {
    const base = defaultConfig(storageNodeSchemas);
    return {
      ...base, // every daemon's section, with its defaults
      'swift-hash': hashSection,
      'storage-policy:*': policySections,
      storage: { ...base.storage, devices: node.devices, swift_dir: dir.path, log_level: 'error', run_daemons: false },
      'object-server': { ...base['object-server'], bind_port: node.ports.object, node_timeout: 2 },
      'container-server': { ...base['container-server'], bind_port: node.ports.container },
      'account-server': { ...base['account-server'], bind_port: node.ports.account },
    };
  };
  for (let n = 1; n <= nodeCount; n++) {
    const node: ClusterNode = { n, devices: join(dir.path, `node${n}`), device: `d${n}`, ports: { object: 0, container: 0, account: 0 } };
    await mkdir(join(node.devices, node.device), { recursive: true });
    node.running = await runStorageNode(configFor(node), { logger, clock });
    node.ports = { ...node.running.ports };
    nodes.push(node);
  }
  const build = async (name: string, kind: 'account' | 'container' | 'object', replicas: number): Promise<Ring> => {
    const builder = RingBuilder.create({ partPower: options.partPower ?? 6, replicas, minPartHours: 0 }, systemClock);
    for (const node of nodes) builder.addDevice({ region: options.regionOf?.(node.n) ?? 1, zone: node.n, ip: '127.0.0.1', port: node.ports[kind], device: node.device, weight: 100 });
    builder.rebalance({ seed: 1 });
    // The nodes' daemons load their rings from here when they first run.
    await writeRingFile(join(dir.path, `${name}.ring.gz`), builder.ringData());
    return Ring.fromData(builder.ringData(), hashPath);
  };
  const objects = new Map<number, Ring>();
  for (const policy of policies) objects.set(policy.index, await build(objectRingName(policy.index), 'object', options.policies?.[policy.index]?.replicas ?? options.replicas ?? 3));
  const rings = { account: await build('account', 'account', options.replicas ?? 3), container: await build('container', 'container', options.replicas ?? 3), object: objects.get(0) as Ring, objects };
  await writeFile(join(dir.path, 'swiftlet.conf'), `[swift-hash]\nswift_hash_path_suffix = test-cluster\n`);
  const proxyBase = defaultConfig(proxyNodeSchemas);
  const makeProxy = (overrides: Record<string, unknown> = {}): ProxyServer =>
    new ProxyServer(
      {
        proxy: { ...proxyBase['proxy-server'], swift_dir: dir.path, node_timeout: 2, conn_timeout: 0.5, log_requests: false, recheck_account_existence: 0, recheck_container_existence: 0, ...options.proxy, ...overrides } as typeof proxyBase['proxy-server'],
        // Versioning on, as in the all-in-one cluster.
        middleware: {
          tempauth: { ...proxyBase.tempauth, reseller_prefix: 'AUTH, SERVICE', '*_require_group': { SERVICE_require_group: 'service' }, 'user_*': { ...USERS, ...options.users } },
          versioned_writes: { allow_versioned_writes: true, allow_object_versioning: true },
          ...options.middleware,
        },
        secret: `/${hashSection.swift_hash_path_suffix}`,
        policies,
      },
      { clock, logger, backend: new UndiciBackendClient({ connectTimeoutMs: 500, nodeTimeoutMs: 2000 }), rings, hashPath, localFiles: new DiskLocalDataFiles({ clock, logger }) },
    );
  const proxy = makeProxy();
  const http: HttpServer = await listen(proxy.handle, { host: '127.0.0.1', port: options.proxyPort ?? 0, logger });
  const tokens = new Map<string, string>();
  const cluster: TestCluster = {
    port: http.port,
    nodes,
    proxy,
    hashPath,
    rings,
    policies,
    async token(user = 'test:tester', key?: string) {
      const cached = tokens.get(user);
      if (cached && key === undefined) return cached;
      const name = user.replace(':', '_');
      const secret = key ?? (USERS[`user_${name}` as keyof typeof USERS] ?? '').split(' ')[0] ?? '';
      const res = await httpRequest(http.port, 'GET', '/auth/v1.0', { 'X-Auth-User': user, 'X-Auth-Key': secret });
      const token = res.headers['x-auth-token'] ?? '';
      if (key === undefined) tokens.set(user, token);
      return token;
    },
    async request(method, path, headers = {}, body) {
      const all = { ...headers };
      if (!('X-Auth-Token' in all)) all['X-Auth-Token'] = await cluster.token();
      if (all['X-Auth-Token'] === '') delete all['X-Auth-Token'];
      return httpRequest(http.port, method, path, all, body);
    },
    async anotherProxy(overrides) {
      const other = makeProxy(overrides);
      const server = await listen(other.handle, { host: '127.0.0.1', port: 0, logger });
      return {
        port: server.port,
        async close() {
          await server.close();
          await other.close();
        },
      };
    },
    async runDaemons(name) {
      const wanted = (d: { name: string }): boolean => name === undefined || (typeof name === 'string' ? d.name === name : name.test(d.name));
      for (const node of nodes) {
        for (const daemon of node.running?.daemons ?? []) if (wanted(daemon)) await daemon.runPass();
      }
    },
    async stopNode(n) {
      const node = nodes[n - 1];
      await node?.running?.close();
      if (node) delete node.running;
    },
    async startNode(n) {
      const node = nodes[n - 1];
      if (!node || node.running) return;
      node.running = await runStorageNode(configFor(node), { logger, clock });
    },
    async close() {
      await http.close();
      await proxy.close();
      await Promise.all(nodes.map((node) => node.running?.close()));
      await dir.remove();
    },
  };
  return cluster;
}
