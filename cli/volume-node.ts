import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Clock, systemClock } from '../common/clock.ts';
import type { ConfigsOf } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { listen } from '../common/http/server.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { FernetKeyRepository } from '../common/token/key-repository.ts';
import { ServiceTokens, serviceTokensOptions } from '../client/service-tokens.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftRecordStore } from '../client/swift-record-store.ts';
import type { VolumeApiDeps } from '../compute/volume/api/deps.ts';
import { GIB } from '../compute/volume/api/deps.ts';
import { GlanceImageApi } from '../compute/image-api.ts';
import { volumeApiRoutes } from '../compute/volume/api/routes.ts';
import { ChunkedBackupEngine } from '../compute/volume/backup/chunked-backup.ts';
import { SwiftBackupObjectStore } from '../compute/volume/backup/swift-object-store.ts';
import { volumeSchema } from '../compute/volume/config.ts';
import { FileVolumeDriver } from '../compute/volume/driver/file.ts';
import { VolumeQuotas } from '../compute/volume/quota.ts';
import { VolumeRecords } from '../compute/volume/records.ts';
import { KeyedLock } from '../common/keyed-lock.ts';
import { SnapshotChains } from '../compute/volume/snapshot-chains.ts';
import { cleanUpAtStart } from '../compute/volume/clean-up-at-start.ts';
import { holdVolumesDir } from '../compute/volume/hold-volumes-dir.ts';
import { sweepSnapshotCopies } from '../compute/volume/sweep-snapshot-copies.ts';
import { VolumeTypes } from '../compute/volume/volume-types.ts';
import { QosSpecs } from '../compute/volume/qos-specs.ts';
import { VolumeServer } from '../compute/volume/server.ts';
import { VolumeWorker } from '../compute/volume/worker.ts';
import { servicePublicUrl } from './service-public-url.ts';
import { untilCluster } from './until-cluster.ts';

export const volumeNodeSchemas = { volume: volumeSchema } as const;
export type VolumeNodeConfig = ConfigsOf<typeof volumeNodeSchemas>;

/**
 * One volume process: Cinder's v3 API on `bind_ip:bind_port`, the file volume driver on
 * `volumes_dir`, backups through the backup engine into each project's account, snapshots'
 * bytes through it into the service's own account, records in the cluster. Tokens are validated locally with identity's key repository and its revocation events
 * (`ServiceTokens`). `bytesPerGiB` is for
 * tests only (small "GiB" volumes).
 */
export async function runVolume(config: VolumeNodeConfig, options: { clock?: Clock; logger?: Logger; bytesPerGiB?: number } = {}): Promise<{ port: number; worker: VolumeWorker; close(): Promise<void> }> {
  const c = config.volume;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: c.log_level, clock, fields: { server: 'volume' } });
  if (c.account_key === '') throw new ConfigError('volume.account_key', '', 'required: the key of the system account user (account_user)');
  // One volume service per directory, before anything in it is touched (the sweep below relies on it).
  const hold = await holdVolumesDir(c.volumes_dir);
  const http = new UndiciBackendClient({ connectTimeoutMs: 2000, nodeTimeoutMs: 60_000, connectionsPerNode: 32 });
  const accountClient = new SwiftClient({ authUrl: c.auth_url, user: c.account_user, key: c.account_key }, { http, clock });
  const records = new VolumeRecords(new SwiftRecordStore(accountClient));
  const types = new VolumeTypes(records.store);
  const worker = new VolumeWorker(logger);
  const resellerClients = new Map<string, SwiftClient>();
  const backupSwiftUrl = c.backup_swift_url || `${new URL(c.auth_url).origin}/v1/AUTH_`;
  const engineOptions = { chunkSizeBytes: c.backup_swift_object_size, shaBlockSizeBytes: c.backup_swift_block_size, compression: c.backup_compression_algorithm, availabilityZone: c.storage_availability_zone, defaultContainer: c.backup_swift_container };
  const hasBackupUser = c.backup_user !== '' && c.backup_key !== '';
  const resellerClient = (project: string): SwiftClient =>
    resellerClients.get(project) ?? (resellerClients.set(project, new SwiftClient({ authUrl: c.auth_url, user: c.backup_user, key: c.backup_key, account: `AUTH_${project}` }, { http, clock })).get(project) as SwiftClient);
  const snapshotStore = new SwiftBackupObjectStore(accountClient);
  const deps: VolumeApiDeps = {
    records,
    driver: new FileVolumeDriver({ dir: c.volumes_dir, defaultFormat: c.nfs_qcow2_volumes ? 'qcow2' : 'raw' }),
    quotas: new VolumeQuotas(
      records.store,
      { volumes: c.quota_volumes, snapshots: c.quota_snapshots, gigabytes: c.quota_gigabytes, backups: c.quota_backups, backup_gigabytes: c.quota_backup_gigabytes, per_volume_gigabytes: c.per_volume_size_limit, groups: c.quota_groups },
      async () => (await types.list()).map((t) => t.name),
    ),
    types,
    qosSpecs: new QosSpecs(records.store),
    backupEngine: (ctx, project) => {
      // Cinder's per_user: the caller's token on their project's account. Another project's
      // account (an imported backup's) only through the reseller credential, when there is one.
      const client = project !== ctx.projectId && hasBackupUser ? resellerClient(project) : new SwiftClient({ preauthUrl: `${backupSwiftUrl}${project}`, preauthToken: ctx.token }, { http, clock });
      return new ChunkedBackupEngine(engineOptions, { store: new SwiftBackupObjectStore(client), clock });
    },
    ...(hasBackupUser
      ? {
          serviceBackups: (project: string) => {
            const store = new SwiftBackupObjectStore(resellerClient(project));
            return { engine: new ChunkedBackupEngine(engineOptions, { store, clock }), store, defaultContainer: c.backup_swift_container };
          },
        }
      : {}),
    // Snapshots' bytes in the service's own account, through the records' client.
    snapshotCopies: { engine: new ChunkedBackupEngine(engineOptions, { store: snapshotStore, clock }), store: snapshotStore, container: c.snapshot_swift_container, chains: new SnapshotChains(records.store, { maxChain: c.snapshot_max_chain }), locks: new KeyedLock() },
    worker,
    ...(c.image_url ? { images: new GlanceImageApi(c.image_url, http) } : {}),
    imageConversionDir: c.image_conversion_dir || join(dirname(c.volumes_dir), 'conversion'),
    clock,
    logger,
    availabilityZone: c.storage_availability_zone,
    host: c.host || `${hostname()}@file#file`,
    newId: () => randomUUID(),
    bytesPerGiB: options.bytesPerGiB ?? GIB,
  };
  // What a dead process left in the volume directory (partial files, qemu-nbd exports holding a
  // volume) goes first: no operation of this process has begun yet, and no other live process
  // holds the directory, so all it finds is a dead one's. A failure is logged, not fatal: the
  // volumes it did not reach fail on their own.
  try {
    const swept = await deps.driver.sweepLeftovers();
    logger.info('swept the volume directory', { volumes_dir: c.volumes_dir, partial_files: swept.partialFiles, stopped_exports: swept.stoppedExports, export_files: swept.exportFiles });
  } catch (err) {
    logger.error('sweeping the volume directory failed', { volumes_dir: c.volumes_dir, err });
  }
  const tokens = new ServiceTokens({ keys: new FernetKeyRepository(c.key_repository, clock), client: accountClient, clock, logger }, serviceTokensOptions(c));
  await tokens.start();
  const validator = tokens.validator;
  // Cinder's init_host: the work a dead process left, before any new work can start.
  let cleanup: Awaited<ReturnType<typeof cleanUpAtStart>>;
  try {
    cleanup = await untilCluster('volume', () => cleanUpAtStart(deps), { clock, logger });
  } catch (err) {
    await tokens.stop();
    await http.close();
    await hold.release();
    throw err;
  }
  if (cleanup.changes.length > 0) logger.info('cleaned up work cut off by a restart', { changes: cleanup.changes });
  let api: VolumeServer | undefined;
  const listener = await listen((req) => (api as VolumeServer).handle(req), { host: c.bind_ip, port: c.bind_port, logger });
  const publicUrl = servicePublicUrl(c, listener.port);
  api = new VolumeServer({ publicUrl, routes: volumeApiRoutes(deps), ...(c.identity_url ? { identityUri: c.identity_url } : {}) }, { validator, logger, clock });
  logger.info('volume listening', { ip: c.bind_ip, port: listener.port, public_url: publicUrl, volumes_dir: c.volumes_dir, pid: process.pid });
  worker.start('clean up at start', async () => {
    const done = await cleanup.rest();
    if (done.length > 0) logger.info('finished work cut off by a restart', { changes: done });
  });
  worker.start('sweep snapshot copies', async () => {
    const removed = await sweepSnapshotCopies(records, deps.driver);
    if (removed.length > 0) logger.info('removed local copies of deleted snapshots', { snapshots: removed });
  });
  return {
    port: listener.port,
    worker,
    close: async () => {
      await listener.close();
      await worker.idle();
      await tokens.stop();
      await http.close();
      await hold.release();
    },
  };
}
