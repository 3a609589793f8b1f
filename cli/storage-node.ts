import { join } from 'node:path';
import { systemClock, type Clock } from '../common/clock.ts';
import { type ConfigsOf, swiftHashSchema } from '../common/config.ts';
import { claimDevices } from '../common/claim-devices.ts';
import type { DirectoryClaim } from '../common/claim-directory.ts';
import { type HashPath, hashPathFromConfig } from '../common/hash-path.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { type Handler, type HttpServer, listen } from '../common/http/server.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { ContainerSyncRealms } from '../common/container-sync-realms.ts';
import { storageSchema } from '../common/storage-config.ts';
import { StoragePolicies, storagePolicySchema } from '../common/storage-policy.ts';
import { accountServerSchema } from '../account/config.ts';
import { AccountServer } from '../account/server.ts';
import { containerServerSchema } from '../container/config.ts';
import { ContainerServer } from '../container/server.ts';
import { FsAsyncPendingStore } from '../object/async-pending.ts';
import type { ContainerUpdateBatcher } from '../object/container-update-batcher.ts';
import { objectServerSchema } from '../object/config.ts';
import type { AlignedSlabs } from '../object/diskfile/aligned-slabs.ts';
import { FsDiskFileManager, type FsDiskFileOptions, newSlabPool } from '../object/diskfile/fs.ts';
import { DiskFileRouter } from '../object/diskfile/router.ts';
import { levelKvOpener } from '../common/db/level-kv.ts';
import { ObjectServer } from '../object/server.ts';
import { dbDaemons, dbDaemonSchemas } from '../replicator/db-daemons.ts';
import type { StorageNodeContext } from '../replicator/node-context.ts';
import { objectDaemons, objectDaemonSchemas } from '../replicator/object-daemons.ts';
import { deviceNames } from '../replicator/node-facts.ts';
import { StorageNodeMetrics, withMetricsEndpoint } from '../replicator/node-metrics.ts';
import { PlacementCheck } from '../replicator/placement-check.ts';
import { withRecon } from '../replicator/recon.ts';
import { loadRingSet, type RingSet } from '../ring/ring-set.ts';
import type { Daemon } from '../common/daemon.ts';

/** The sections of a storage node's config file. */
export const storageNodeSchemas = {
  'swift-hash': swiftHashSchema,
  'storage-policy:*': storagePolicySchema,
  storage: storageSchema,
  'object-server': objectServerSchema,
  'container-server': containerServerSchema,
  'account-server': accountServerSchema,
  ...objectDaemonSchemas,
  ...dbDaemonSchemas,
} as const;

export type StorageNodeConfig = ConfigsOf<typeof storageNodeSchemas>;

export interface RunningStorageNode {
  readonly ports: { readonly object: number; readonly container: number; readonly account: number };
  readonly object: ObjectServer;
  readonly container: ContainerServer;
  readonly account: AccountServer;
  readonly logger: Logger;
  /** The node's daemons (running on their intervals when `run_daemons` is on). */
  readonly daemons: readonly Daemon[];
  /** Stops the daemons, stops accepting, finishes in-flight requests, closes databases. */
  close(): Promise<void>;
}

/**
 * A storage node: the account, container and object servers for this node's devices, each on
 * its own port, in one process. Leftover temp files from a crash are cleaned before serving.
 */
export interface StorageNodeDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Direct-I/O buffers shared with the other nodes of this process. */
  readonly slabs?: AlignedSlabs;
  /** Container updates shared with the other nodes of this process (see `runStorageProcess`). */
  readonly containerUpdates?: ContainerUpdateBatcher;
}

export async function runStorageNode(config: StorageNodeConfig, deps: StorageNodeDeps = {}): Promise<RunningStorageNode> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger({ level: config.storage.log_level, clock });
  const hashPath = hashPathFromConfig(config['swift-hash']);
  const storage = config.storage;
  // First, before anything reads or cleans the devices: are they another process's?
  const claim = await claimDevices(storage.devices);
  try {
    return await startStorageNode(config, deps, { clock, logger, hashPath, claim });
  } catch (err) {
    await claim.release();
    throw err;
  }
}

async function startStorageNode(config: StorageNodeConfig, deps: StorageNodeDeps, base: { clock: Clock; logger: Logger; hashPath: HashPath; claim: DirectoryClaim }): Promise<RunningStorageNode> {
  const { clock, logger, hashPath } = base;
  const storage = config.storage;
  const backend = new UndiciBackendClient({ connectTimeoutMs: config['object-server'].conn_timeout * 1000 });
  const policies = StoragePolicies.fromConfig(config['storage-policy:*']);
  const slabs = deps.slabs ?? newSlabPool(24);
  const managers = new Map<number, FsDiskFileManager>();
  for (const policy of policies) {
    const manager = new FsDiskFileManager({ devices: storage.devices, mountCheck: storage.mount_check, hashPath, clock, logger: logger.child({ server: 'object' }), reclaimAgeSeconds: config['object-server'].reclaim_age, policyIndex: policy.index, slabs, ...smallObjects(config['object-server'].small_object_max) });
    const removed = await manager.cleanupTempFiles();
    if (removed > 0) logger.info('removed temp files left by a crash', { removed, policy: policy.index });
    managers.set(policy.index, manager);
  }
  const diskFiles = new DiskFileRouter(managers);
  const pendings = new FsAsyncPendingStore({ devices: storage.devices, mountCheck: storage.mount_check });
  const object = new ObjectServer({ storage, objectServer: config['object-server'] }, { clock, logger: logger.child({ server: 'object' }), backend, diskFiles, pendings, hashPath, ...(deps.containerUpdates ? { updates: deps.containerUpdates } : {}) });
  const realms = new ContainerSyncRealms(join(storage.swift_dir, 'container-sync-realms.conf'), { clock, logger });
  const container = new ContainerServer({ storage, containerServer: config['container-server'] }, { clock, logger: logger.child({ server: 'container' }), backend, hashPath, policies, realms });
  const account = new AccountServer({ storage, accountServer: config['account-server'] }, { clock, logger: logger.child({ server: 'account' }), hashPath, policies: policies.names() });
  const metrics = new StorageNodeMetrics(clock);
  const servers: HttpServer[] = [];
  let objectHandler: Handler = metrics.wrap('object', object.handle);
  try {
    // Recon rides on the object port; it needs the daemons, which need the ports: bind first.
    servers.push(await listen((req) => objectHandler(req), { host: storage.bind_ip, port: config['object-server'].bind_port, logger }));
    servers.push(await listen(metrics.wrap('container', container.handle), { host: storage.bind_ip, port: config['container-server'].bind_port, logger }));
    servers.push(await listen(metrics.wrap('account', account.handle), { host: storage.bind_ip, port: config['account-server'].bind_port, logger }));
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  const [o, c, a] = servers as [HttpServer, HttpServer, HttpServer];
  logger.info('storage node listening', { ip: storage.bind_ip, object: o.port, container: c.port, account: a.port, devices: storage.devices });
  // Rings are read when a daemon first needs them: a new cluster may write them after its
  // nodes start, and a ring that changes later is reloaded by the ring itself.
  let rings: RingSet | undefined;
  const context: StorageNodeContext = {
    clock,
    logger,
    backend,
    hashPath,
    get rings() {
      rings ??= loadRingSet(storage.swift_dir, hashPath, clock, policies);
      return rings;
    },
    policies,
    realms,
    bindIp: storage.bind_ip,
    ports: { object: o.port, container: c.port, account: a.port },
    devices: storage.devices,
    mountCheck: storage.mount_check,
    diskFiles,
    pendings,
    containerDbs: container.datadirs,
    accountDbs: account.datadirs,
    placement: new PlacementCheck(hashPath, logger),
  };
  const daemons = [...objectDaemons(context, config), ...dbDaemons(context, config)];
  metrics.watch(context, daemons, storage.swift_dir);
  objectHandler = withMetricsEndpoint(withRecon(metrics.wrap('object', object.handle), context, daemons, storage.swift_dir), () => metrics.registry.metrics());
  if (storage.run_daemons) for (const d of daemons) d.start();
  // Does the data here hash to where it lies under this secret? (An error line if not.)
  void deviceNames(context).then((devices) => context.placement?.sample(diskFiles.get(0), devices)).catch((err: unknown) => logger.warn('placement check failed', { err }));
  return {
    ports: { object: o.port, container: c.port, account: a.port },
    object,
    container,
    account,
    logger,
    daemons,
    close: async () => {
      await Promise.all(daemons.map((d) => d.stop()));
      await Promise.all(servers.map((s) => s.close()));
      await Promise.all([object.close(), container.close(), account.close()]);
      await backend.close();
      await base.claim.release();
    },
  };
}

/** Small objects in each device's database (synced on every batch), unless turned off with 0. */
function smallObjects(maxBytes: number): Pick<FsDiskFileOptions, 'smallObjects'> {
  return maxBytes > 0 ? { smallObjects: { maxBytes, open: levelKvOpener({ sync: true }) } } : {};
}
