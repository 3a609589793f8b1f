import type { DeviceDbs } from '../common/db/device-dbs.ts';
import type { ReplicationInfo } from '../common/db/replication-info.ts';
import { Timestamp } from '../common/timestamp.ts';
import { CONTAINER_DATADIR, type ContainerBroker, type ContainerDatadir } from '../container/backend.ts';
import { incorrectPolicyIndex } from '../container/policy-index.ts';
import { type DbIdentity, DbReplicator, type RemoteReplicationInfo } from './db-replicator.ts';

/**
 * The container replicator (Swift's `ContainerReplicator`): the database replicator over the
 * container ring and this node's container databases. Config: `[container-replicator]`.
 */
export class ContainerReplicator extends DbReplicator<ContainerBroker, ContainerDatadir> {
  readonly name = 'container-replicator';
  protected readonly serverType = 'container' as const;
  protected readonly datadirName = CONTAINER_DATADIR;

  protected datadirs(): DeviceDbs<ContainerDatadir> {
    return this.ctx.containerDbs;
  }

  /** A deleted container may go once the account has its final stats (Swift's `report_up_to_date`). */
  protected async identify(broker: ContainerBroker): Promise<DbIdentity | undefined> {
    const info = await broker.getInfo();
    if (!info) return undefined;
    const reported =
      info.reported_put_timestamp === info.put_timestamp &&
      info.reported_delete_timestamp === info.delete_timestamp &&
      info.reported_object_count === info.object_count &&
      info.reported_bytes_used === info.bytes_used;
    return { account: info.account, container: info.container, reclaimable: reported };
  }

  /** Swift's container `_handle_sync_response`: the remote's policy index when its claim is better, and its timestamps. */
  protected override async handleSyncAnswer(broker: ContainerBroker, info: ReplicationInfo, remote: RemoteReplicationInfo): Promise<void> {
    await super.handleSyncAnswer(broker, info, remote);
    const local = { ...info, storage_policy_index: info.storage_policy_index ?? 0 };
    if (incorrectPolicyIndex(local, remote)) {
      await broker.setStoragePolicyIndex(remote.storage_policy_index as number, Timestamp.fromMillis(this.clock.now()));
    }
    if (info.created_at !== remote.created_at || info.put_timestamp !== remote.put_timestamp || info.delete_timestamp !== remote.delete_timestamp) {
      await broker.mergeTimestamps(remote.created_at, remote.put_timestamp, remote.delete_timestamp);
    }
  }
}
