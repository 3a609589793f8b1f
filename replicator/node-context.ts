import type { AccountDatadir } from '../account/backend.ts';
import type { Clock } from '../common/clock.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import type { Logger } from '../common/logger.ts';
import type { ContainerDatadir } from '../container/backend.ts';
import type { AsyncPendingStore } from '../object/async-pending.ts';
import type { FsDiskFileManager } from '../object/diskfile/fs.ts';
import type { Ring } from '../ring/ring.ts';
import type { PlacementCheck } from './placement-check.ts';

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
  readonly rings: { readonly account: Ring; readonly container: Ring; readonly object: Ring };
  /** This node's address: ring devices with this ip and these ports are local. */
  readonly bindIp: string;
  readonly ports: { readonly object: number; readonly container: number; readonly account: number };
  /** The devices root (`[storage] devices`). */
  readonly devices: string;
  readonly mountCheck: boolean;
  readonly diskFiles: FsDiskFileManager;
  readonly pendings: AsyncPendingStore;
  readonly containerDbs: DeviceDbs<ContainerDatadir>;
  readonly accountDbs: DeviceDbs<AccountDatadir>;
  /** Whether objects hash to where they lie under this node's secret (the auditor feeds it). */
  readonly placement?: PlacementCheck;
}
