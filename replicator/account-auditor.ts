import type { AccountBroker, AccountDatadir } from '../account/backend.ts';
import { ACCOUNT_DATADIR } from '../account/backend.ts';
import { CONTAINER_ROW_SCHEMA, type ContainerRow } from '../account/container-row.ts';
import type { ConfigOf } from '../common/config.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import type { RowSchema } from '../common/db/row-schema.ts';
import type { accountAuditorSchema } from './db-daemon-config.ts';
import { DbAuditor } from './db-auditor.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * The account auditor (Swift's `AccountAuditor`): the database auditor over this node's
 * account databases; its full check is Swift's "per-policy stats add up" check and more.
 * Config: `[account-auditor]`.
 */
export class AccountAuditor extends DbAuditor<ContainerRow, AccountBroker, AccountDatadir> {
  readonly name = 'account-auditor';
  protected readonly datadirName = ACCOUNT_DATADIR;
  protected readonly schema: RowSchema<ContainerRow> = CONTAINER_ROW_SCHEMA;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof accountAuditorSchema>) {
    super(ctx, { interval: config.interval, perSecond: config.accounts_per_second, fullCheckInterval: config.full_check_interval });
  }

  protected datadirs(): DeviceDbs<AccountDatadir> {
    return this.ctx.accountDbs;
  }
}
