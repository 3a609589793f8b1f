import type { DeviceDbs } from '../common/db/device-dbs.ts';
import { type BackendClient, backendPath } from '../common/http/backend-client.ts';
import { MISPLACED_OBJECTS_ACCOUNT, reconcilerContainer, reconcilerContentType, reconcilerObjectName } from '../common/misplaced-queue.ts';
import { quorumSize } from '../common/quorum-size.ts';
import type { ReplicationInfo } from '../common/db/replication-info.ts';
import { Timestamp } from '../common/timestamp.ts';
import { CONTAINER_DATADIR, type ContainerBroker, type ContainerDatadir } from '../container/backend.ts';
import { incorrectPolicyIndex } from '../container/policy-index.ts';
import { type DbIdentity, DbReplicator, type RemoteReplicationInfo } from './db-replicator.ts';

/**
 * The container replicator (Swift's `ContainerReplicator`): the database replicator over the
 * container ring and this node's container databases. Config: `[container-replicator]`.
 *
 * After replicating a container it queues the container's rows of other storage policies
 * for the container reconciler (`.misplaced_objects`, see `common/misplaced-queue.ts`), from
 * where it left off last time; the point moves only when a majority of replicas took the
 * database and a majority of the queue's replicas took every row, as in Swift.
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

  /** Swift's `_post_replicate_hook` and `dump_to_reconciler`. */
  protected override async postReplicate(backend: BackendClient, broker: ContainerBroker, info: ReplicationInfo, results: readonly boolean[]): Promise<void> {
    const state = await broker.getInfo();
    if (!state || state.account === MISPLACED_OBJECTS_ACCOUNT) return;
    let point = state.reconciler_sync_point ?? -1;
    if (point >= info.max_row) return;
    // Swift's majority of the other replicas (a one-replica ring has none to wait for).
    const replicated = results.length === 0 || results.filter(Boolean).length >= quorumSize(results.length);
    for (;;) {
      const { rows, last } = await broker.getMisplacedSince(point, this.config.per_diff);
      let queued = true;
      for (const row of rows) {
        const ok = await this.enqueue(backend, state.account, state.container, row.name, row.storage_policy_index, row.created_at, row.deleted ? 'DELETE' : 'PUT');
        if (ok) this.count('misplaced_queued');
        else queued = false;
      }
      if (!queued || !replicated || last === point) return;
      point = last;
      await broker.setReconcilerSyncPoint(point);
      if (rows.length === 0) return;
    }
  }

  /** Swift's `add_to_reconciler_queue`: a row on a majority of the queue container's replicas. */
  private async enqueue(backend: BackendClient, account: string, container: string, object: string, policyIndex: number, createdAt: string, op: 'PUT' | 'DELETE'): Promise<boolean> {
    const timestamp = Timestamp.parse(createdAt);
    const queue = reconcilerContainer(timestamp);
    const name = reconcilerObjectName(policyIndex, account, container, object);
    const ring = this.ctx.rings.container;
    const partition = ring.getPart(MISPLACED_OBJECTS_ACCOUNT, queue);
    const nodes = ring.getPartNodes(partition);
    const headers = { 'X-Size': '0', 'X-Etag': timestamp.internal, 'X-Timestamp': timestamp.internal, 'X-Content-Type': reconcilerContentType(op), 'X-Backend-Storage-Policy-Index': '0' };
    const statuses = await Promise.all(
      nodes.map(async (node) => {
        try {
          const res = await backend.request(node, { method: 'PUT', path: backendPath(node.device, partition, MISPLACED_OBJECTS_ACCOUNT, queue, name), headers });
          await res.body.dump();
          return res.status;
        } catch {
          return 0;
        }
      }),
    );
    return statuses.filter((s) => s >= 200 && s < 300).length >= quorumSize(nodes.length);
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
