import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../common/clock.ts';
import { RingBuilder } from '../ring/builder.ts';
import { writeBuilderFile, writeRingFile } from '../ring/io.ts';
import { objectRingName } from '../ring/ring-set.ts';

/** The all-in-one cluster's shape: four storage nodes, each its own zone with one device. */
export const AIO_NODES = [1, 2, 3, 4] as const;

/** The default first storage port: node n uses 63n0 (object), 63n1 (container), 63n2 (account); SAIO uses 62nX. */
export const DEFAULT_STORAGE_PORT_BASE = 6300;

/** Ports of storage node `n` (1-4) for a port base. */
export function aioPorts(n: number, portBase = DEFAULT_STORAGE_PORT_BASE): { object: number; container: number; account: number } {
  const base = portBase + n * 10;
  return { object: base, container: base + 1, account: base + 2 };
}

export interface AioLayout {
  readonly data: string;
  readonly etc: string;
  readonly run: string;
  readonly log: string;
  nodeConfig(n: number): string;
  devices(n: number): string;
  readonly proxyConfig: string;
}

export function aioLayout(data: string): AioLayout {
  const etc = join(data, 'etc');
  return {
    data,
    etc,
    run: join(data, 'run'),
    log: join(data, 'log'),
    nodeConfig: (n) => join(etc, `node${n}.conf`),
    devices: (n) => join(data, 'nodes', `node${n}`),
    proxyConfig: join(etc, 'proxy.conf'),
  };
}

/**
 * The all-in-one cluster's storage policies, as Swift's SAIO has them: `gold` (policy 0, the
 * default, 3 replicas) and `silver` (policy 1, 2 replicas), in `swiftlet.conf` (the cluster's
 * file every node and the proxy read). A cluster made before policies keeps its configs (one
 * policy, `Policy-0`).
 */
export const AIO_POLICIES = [
  { index: 0, name: 'gold', aliases: 'yellow, orange', default: true, replicas: 3 },
  { index: 1, name: 'silver', aliases: '', default: false, replicas: 2 },
] as const;

function policySections(): string[] {
  return AIO_POLICIES.flatMap((p) => [`[storage-policy:${p.index}]`, `name = ${p.name}`, ...(p.aliases ? [`aliases = ${p.aliases}`] : []), ...(p.default ? ['default = yes'] : []), '']);
}

/**
 * Tempauth of the all-in-one cluster (DESIGN.md; Swift's SAIO and the users its functional
 * tests expect): `SERVICE_` accounts are reached with a user's token plus the service user's
 * (test5:tester5) `X-Service-Token`; test6:tester6 is the tests' reseller admin.
 */
const TEMPAUTH = [
  'reseller_prefix = AUTH, SERVICE',
  'SERVICE_require_group = service',
  'user_test_tester = testing .admin',
  'user_test2_tester2 = testing2 .admin',
  'user_test_tester3 = testing3',
  'user_test5_tester5 = testing5 service',
  'user_test6_tester6 = testing6 .reseller_admin',
  'user_admin_admin = admin .admin .reseller_admin',
];

/**
 * Creates the all-in-one cluster's configs, devices and rings under `data` on first start;
 * later starts reuse them. Returns whether anything was created. `proxyPort` rewrites the
 * proxy's port on every start; `storagePortBase` only applies when the cluster is created (the
 * rings hold the ports); `workers` is the proxy's for a new cluster, and with `rewriteWorkers`
 * (given on the command line) replaces an existing cluster's too.
 */
export async function setupAio(layout: AioLayout, options: { proxyPort: number; clock: Clock; workers: number; rewriteWorkers?: boolean; storagePortBase: number }): Promise<boolean> {
  await mkdir(layout.etc, { recursive: true });
  await mkdir(layout.run, { recursive: true });
  await mkdir(layout.log, { recursive: true });
  const created = !existsSync(join(layout.etc, 'swiftlet.conf'));
  if (created) {
    const suffix = randomBytes(16).toString('hex');
    await writeFile(join(layout.etc, 'swiftlet.conf'), ['[swift-hash]', `swift_hash_path_suffix = ${suffix}`, '', ...policySections()].join('\n'));
    for (const n of AIO_NODES) {
      const ports = aioPorts(n, options.storagePortBase);
      await mkdir(join(layout.devices(n), `d${n}`), { recursive: true });
      await writeFile(layout.nodeConfig(n), [
        '[swift-hash]', `swift_hash_path_suffix = ${suffix}`, '',
        '[storage]', `devices = ${layout.devices(n)}`, 'mount_check = false', 'bind_ip = 127.0.0.1', `swift_dir = ${layout.etc}`, '',
        '[object-server]', `bind_port = ${ports.object}`, '',
        '[container-server]', `bind_port = ${ports.container}`, '',
        '[account-server]', `bind_port = ${ports.account}`, '',
      ].join('\n'));
    }
    await writeFile(layout.proxyConfig, [
      '[swift-hash]', `swift_hash_path_suffix = ${suffix}`, '',
      '[proxy-server]', 'bind_ip = 127.0.0.1', `bind_port = ${options.proxyPort}`, `workers = ${options.workers}`, `swift_dir = ${layout.etc}`, 'allow_account_management = true', '',
      '[container_sync]', 'current = //swiftlet/aio', '',
      '[tempauth]', ...TEMPAUTH, '',
      // <container>.<account>.localhost names a container (browsers and curl resolve *.localhost here).
      '[domain_remap]', 'storage_domain = localhost', '',
      '[versioned_writes]', 'allow_versioned_writes = true', 'allow_object_versioning = true', '',
    ].join('\n'));
    // Container sync within the cluster (and, with more clusters listed, between them), as
    // Swift's SAIO sets it up: one realm, this cluster its endpoint.
    await writeFile(join(layout.etc, 'container-sync-realms.conf'), ['[swiftlet]', `key = ${randomBytes(16).toString('hex')}`, `cluster_aio = http://127.0.0.1:${options.proxyPort}/v1/`, ''].join('\n'));
    const rings: { name: string; kind: 'account' | 'container' | 'object'; replicas: number }[] = [
      { name: 'account', kind: 'account', replicas: 3 },
      { name: 'container', kind: 'container', replicas: 3 },
      ...AIO_POLICIES.map((p) => ({ name: objectRingName(p.index), kind: 'object' as const, replicas: p.replicas })),
    ];
    for (const { name, kind, replicas } of rings) {
      const builder = RingBuilder.create({ partPower: 10, replicas, minPartHours: 1 }, options.clock);
      for (const n of AIO_NODES) builder.addDevice({ region: 1, zone: n, ip: '127.0.0.1', port: aioPorts(n, options.storagePortBase)[kind], device: `d${n}`, weight: 100 });
      builder.rebalance({ seed: 1 });
      await writeBuilderFile(join(layout.etc, `${name}.builder`), builder.toData());
      await writeRingFile(join(layout.etc, `${name}.ring.gz`), builder.ringData());
    }
  }
  // The proxy port is a start option; keep the config in step with it.
  const proxy = await readFile(layout.proxyConfig, 'utf8');
  let updated = proxy.replace(/^bind_port = \d+$/m, `bind_port = ${options.proxyPort}`);
  if (options.rewriteWorkers) updated = updated.replace(/^workers = \d+$/m, `workers = ${options.workers}`);
  if (updated !== proxy) await writeFile(layout.proxyConfig, updated);
  const realmsPath = join(layout.etc, 'container-sync-realms.conf');
  const realms = await readFile(realmsPath, 'utf8').catch(() => undefined);
  const movedRealms = realms?.replace(/^cluster_aio = http:\/\/127\.0\.0\.1:\d+\/v1\/$/m, `cluster_aio = http://127.0.0.1:${options.proxyPort}/v1/`);
  if (realms !== undefined && movedRealms !== realms) await writeFile(realmsPath, movedRealms as string);
  return created;
}
