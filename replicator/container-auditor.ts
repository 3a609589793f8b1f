import type { ConfigOf } from '../common/config.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import type { RowSchema } from '../common/db/row-schema.ts';
import { CONTAINER_DATADIR, type ContainerBroker, type ContainerDatadir } from '../container/backend.ts';
import { OBJECT_ROW_SCHEMA, type ObjectRow } from '../common/db/object-row.ts';
import type { containerAuditorSchema } from './db-daemon-config.ts';
import { DbAuditor } from './db-auditor.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * The container auditor (Swift's `ContainerAuditor`): the database auditor over this node's
 * container databases. Config: `[container-auditor]`.
 */
export class ContainerAuditor extends DbAuditor<ObjectRow, ContainerBroker, ContainerDatadir> {
  readonly name = 'container-auditor';
  protected readonly datadirName = CONTAINER_DATADIR;
  protected readonly schema: RowSchema<ObjectRow> = OBJECT_ROW_SCHEMA;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof containerAuditorSchema>) {
    super(ctx, { interval: config.interval, perSecond: config.containers_per_second, fullCheckInterval: config.full_check_interval });
  }

  protected datadirs(): DeviceDbs<ContainerDatadir> {
    return this.ctx.containerDbs;
  }

  protected override checkOwnRecord(record: Readonly<Record<string, unknown>>): string | undefined {
    if (typeof record['container'] !== 'string' || record['container'] === '') return 'record has no container';
    const policy = record['storage_policy_index'];
    if (typeof policy !== 'number' || !Number.isSafeInteger(policy) || policy < 0) return 'record has no storage policy index';
    for (const name of ['reported_object_count', 'reported_bytes_used']) {
      const v = record[name];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return `record ${name} is ${JSON.stringify(v)}`;
    }
    return undefined;
  }
}
