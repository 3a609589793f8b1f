import type { AccountDatadir } from '../account/backend.ts';
import type { Clock } from '../common/clock.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import type { Logger } from '../common/logger.ts';
import type { ContainerDatadir } from '../container/backend.ts';
import type { AsyncPendingStore } from '../object/async-pending.ts';
import type { ContainerSyncRealms } from '../common/container-sync-realms.ts';
import type { StoragePolicies } from '../common/storage-policy.ts';
import type { FsDiskFileManager } from '../object/diskfile/fs.ts';
import type { PlacementCheck } from './placement-check.ts';
import type { DiskFileRouter } from '../object/diskfile/router.ts';
import type { RingSet } from '../ring/ring-set.ts';

/**
 * What a storage node's daemons share with its servers: the same disk-file manager and
 * databases (one process owns a device's stores), the rings, and the node's own identity so a
 * daemon knows which ring devices are local.
 */
export interface StorageNodeContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backend: BackendClient;
  readonly hashPath: HashPath;
  /** The cluster's rings, an object ring per storage policy (`objectRing(rings, index)`). */
  readonly rings: RingSet;
  /** The cluster's storage policies (the same on every node). */
  readonly policies: StoragePolicies;
  /** `container-sync-realms.conf`, for container sync; absent: no realms. */
  readonly realms?: ContainerSyncRealms;
  /** This node's address: ring devices with this ip and these ports are local. */
  readonly bindIp: string;
  readonly ports: { readonly object: number; readonly container: number; readonly account: number };
  /** The devices root (`[storage] devices`). */
  readonly devices: string;
  readonly mountCheck: boolean;
  /** Each storage policy's disk files. */
  readonly diskFiles: DiskFileRouter<FsDiskFileManager>;
  readonly pendings: AsyncPendingStore;
  readonly containerDbs: DeviceDbs<ContainerDatadir>;
  readonly accountDbs: DeviceDbs<AccountDatadir>;
  /** Whether objects hash to where they lie under this node's secret (the auditor feeds it). */
  readonly placement?: PlacementCheck;
}
