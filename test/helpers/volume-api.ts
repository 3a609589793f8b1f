import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { systemClock } from '../../common/clock.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { fernetEncrypt } from '../../common/token/fernet.ts';
import { FernetKeyRepository, fernetSetup, loadFernetKeys } from '../../common/token/key-repository.ts';
import { RevocationList } from '../../common/token/revocation.ts';
import { encodeTokenPayload, newAuditId } from '../../common/token/token-payload.ts';
import { TokenValidator } from '../../common/token/token-validator.ts';
import { MemoryRecordStore } from '../../client/memory-record-store.ts';
import type { ImageApi } from '../../compute/image-api.ts';
import { ChunkedBackupEngine } from '../../compute/volume/backup/chunked-backup.ts';
import { MemoryBackupObjectStore } from '../../compute/volume/backup/memory-object-store.ts';
import type { BackupObjectStore } from '../../compute/volume/backup/object-store.ts';
import { KeyedLock } from '../../common/keyed-lock.ts';
import { SnapshotChains } from '../../compute/volume/snapshot-chains.ts';
import { cleanUpAtStart, type StartCleanupChange } from '../../compute/volume/clean-up-at-start.ts';
import type { VolumeApiDeps } from '../../compute/volume/api/deps.ts';
import { volumeApiRoutes } from '../../compute/volume/api/routes.ts';
import { MemoryVolumeDriver } from '../../compute/volume/driver/memory.ts';
import type { VolumeDriver } from '../../compute/volume/driver/types.ts';
import { CINDER_QUOTA_DEFAULTS, VolumeQuotas } from '../../compute/volume/quota.ts';
import { VolumeRecords } from '../../compute/volume/records.ts';
import { VolumeTypes } from '../../compute/volume/volume-types.ts';
import { QosSpecs } from '../../compute/volume/qos-specs.ts';
import { VolumeServer } from '../../compute/volume/server.ts';
import { VolumeWorker } from '../../compute/volume/worker.ts';
import { httpRequest } from './http.ts';
import { makeTempDir } from './tmpdir.ts';

/**
 * A project-scoped Fernet token from the key repository `keys`, as identity would issue it
 * (roles: member, and admin when asked, or exactly `roleNames`; an hour left unless `expiresAt`).
 */
export function mintToken(keys: string, user: string, project: string, admin = false, other: { roleNames?: readonly string[]; expiresAt?: number } = {}): string {
  const names = other.roleNames ?? ['member', ...(admin ? ['admin'] : [])];
  const roles = names.map((name) => ({ id: `r-${name}`, name }));
  const expiresAt = other.expiresAt ?? Math.floor(systemClock.now() / 1000) * 1000 + 3_600_000;
  const payload = { userId: user, userDomainId: 'default', methods: ['password'], scope: { kind: 'project' as const, projectId: project, domainId: 'default' }, expiresAt, auditIds: [newAuditId()], roles };
  return fernetEncrypt(loadFernetKeys(keys)[0] as Buffer, encodeTokenPayload(payload), systemClock.now() / 1000);
}

/** The test API's GiB: 1 MiB, so a "1 GiB" volume backs up in milliseconds. */
const ENGINE_OPTIONS = { chunkSizeBytes: 64 * 1024, shaBlockSizeBytes: 8 * 1024 };

/** The key of `stores` holding the snapshots' objects (the volume service's own account). */
export const SNAPSHOT_ACCOUNT = '.volume';

export const UNIT = 1024 * 1024;

export interface TestVolumeApi {
  readonly port: number;
  readonly driver: VolumeDriver;
  readonly worker: VolumeWorker;
  /** The service's records, for tests that lose one on purpose. */
  readonly records: VolumeRecords;
  /** The backup objects of each project's account. */
  readonly stores: Map<string, MemoryBackupObjectStore>;
  /** What its start cleaned up (Cinder's init_host), the part after listening once `worker.idle()`. */
  cleanedUp(): StartCleanupChange[];
  /** Stops answering without waiting for its work: a process that died mid-operation (its tasks are left hanging). */
  abandon(): Promise<void>;
  /** A project-scoped token (roles: member, plus admin when asked, or exactly `other.roleNames`). */
  token(user: string, project: string, admin?: boolean, other?: { roleNames?: readonly string[]; expiresAt?: number }): string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read Cinder's JSON freely
  request(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Record<string, string>; json: any }>;
  close(): Promise<void>;
}

/**
 * The volume API in this process on an ephemeral port, over twins: records in memory, the
 * memory volume driver, a memory backup store per project (its "account"), and tokens made
 * with a key repository of its own. The API's GiB is `UNIT` (1 MiB) and backup chunks are
 * 64 KiB with 8 KiB blocks, so a "1 GiB" volume is 16 chunks. `images`: the image service
 * (a fake Glance) for volumes from images and uploads. `keys`: another service's key
 * repository (identity's), so its tokens work here; `driver`: a volume driver other than memory;
 * `cluster`: another test API's records and backup objects (what a volume service started on
 * another node finds in the cluster); `records`, `snapshotStore`: records and snapshot objects
 * somewhere else (a real cluster); snapshots' objects are otherwise `stores.get(SNAPSHOT_ACCOUNT)`.
 * `availabilityZone`: Cinder's `storage_availability_zone` (nova).
 */
export async function startVolumeApi(
  options: { images?: ImageApi; keys?: string; driver?: VolumeDriver; cluster?: Pick<TestVolumeApi, 'records' | 'stores'>; records?: VolumeRecords; snapshotStore?: BackupObjectStore; snapshotMaxChain?: number; host?: string; availabilityZone?: string } = {},
): Promise<TestVolumeApi> {
  const dir = await makeTempDir('volume-api-keys-');
  const keys = options.keys ?? join(dir.path, 'fernet-keys');
  if (options.keys === undefined) fernetSetup(keys);
  const logger = createLogger({ level: 'error', sink: () => {} });
  const driver = options.driver ?? new MemoryVolumeDriver();
  const worker = new VolumeWorker(logger);
  const stores = options.cluster?.stores ?? new Map<string, MemoryBackupObjectStore>();
  const storeOf = (project: string): MemoryBackupObjectStore => {
    let s = stores.get(project);
    if (!s) stores.set(project, (s = new MemoryBackupObjectStore()));
    return s;
  };
  const records = options.cluster?.records ?? options.records ?? new VolumeRecords(new MemoryRecordStore());
  const types = new VolumeTypes(records.store);
  const snapshotStore = options.snapshotStore ?? storeOf(SNAPSHOT_ACCOUNT);
  const deps: VolumeApiDeps = {
    records,
    driver,
    quotas: new VolumeQuotas(records.store, CINDER_QUOTA_DEFAULTS, async () => (await types.list()).map((t) => t.name)),
    types,
    qosSpecs: new QosSpecs(records.store),
    backupEngine: (_ctx, project) => new ChunkedBackupEngine(ENGINE_OPTIONS, { store: storeOf(project), clock: systemClock }),
    serviceBackups: (project) => ({ engine: new ChunkedBackupEngine(ENGINE_OPTIONS, { store: storeOf(project), clock: systemClock }), store: storeOf(project), defaultContainer: 'volumebackups' }),
    snapshotCopies: { engine: new ChunkedBackupEngine(ENGINE_OPTIONS, { store: snapshotStore, clock: systemClock }), store: snapshotStore, container: 'volume_snapshots', chains: new SnapshotChains(records.store, { maxChain: options.snapshotMaxChain ?? 8 }), locks: new KeyedLock() },
    worker,
    ...(options.images ? { images: options.images } : {}),
    clock: systemClock,
    logger,
    availabilityZone: options.availabilityZone ?? 'nova',
    // Another node's API over the same cluster is another host: its start cleans up only its own.
    host: options.host ?? (options.cluster ? 'other-host@file#file' : 'test-host@file#file'),
    newId: () => randomUUID(),
    bytesPerGiB: UNIT,
  };
  const validator = new TokenValidator(new FernetKeyRepository(keys, systemClock), new RevocationList(), systemClock);
  const cleanup = await cleanUpAtStart(deps);
  const server = new VolumeServer({ publicUrl: '', routes: volumeApiRoutes(deps) }, { validator, logger, clock: systemClock });
  const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
  const cleanedLater: StartCleanupChange[] = [];
  worker.start('clean up at start', async () => {
    cleanedLater.push(...(await cleanup.rest()));
  });
  return {
    cleanedUp: () => [...cleanup.changes, ...cleanedLater],
    abandon: () => http.close(),
    port: http.port,
    driver,
    worker,
    records,
    stores,
    token: (user, project, admin = false, other = {}) => mintToken(keys, user, project, admin, other),
    async request(method, path, token, body, headers = {}) {
      const all: Record<string, string> = { Accept: 'application/json', ...headers };
      if (token !== '') all['X-Auth-Token'] = token;
      let text: string | undefined;
      if (body !== undefined) {
        text = JSON.stringify(body);
        all['Content-Type'] = 'application/json';
      }
      const res = await httpRequest(http.port, method, path, all, text);
      const s = res.body.toString();
      return { status: res.status, headers: res.headers, json: s === '' ? undefined : JSON.parse(s) };
    },
    async close() {
      await worker.idle();
      await http.close();
      await dir.remove();
    },
  };
}
