import type { AccountBroker, AccountDatadir } from '../account/backend.ts';
import { ACCOUNT_DATADIR } from '../account/backend.ts';
import type { DeviceDbs } from '../common/db/device-dbs.ts';
import { type DbIdentity, DbReplicator } from './db-replicator.ts';

/**
 * The account replicator (Swift's `AccountReplicator`): the database replicator over the
 * account ring and this node's account databases. Config: `[account-replicator]`.
 */
export class AccountReplicator extends DbReplicator<AccountBroker, AccountDatadir> {
  readonly name = 'account-replicator';
  protected readonly serverType = 'account' as const;
  protected readonly datadirName = ACCOUNT_DATADIR;

  protected datadirs(): DeviceDbs<AccountDatadir> {
    return this.ctx.accountDbs;
  }

  protected async identify(broker: AccountBroker): Promise<DbIdentity | undefined> {
    const info = await broker.getInfo();
    return info ? { account: info.account, reclaimable: true } : undefined;
  }
}
