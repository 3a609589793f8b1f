import type { ConfigsOf } from '../common/config.ts';
import type { Daemon } from '../common/daemon.ts';
import { AccountAuditor } from './account-auditor.ts';
import { AccountReaper } from './account-reaper.ts';
import { AccountReplicator } from './account-replicator.ts';
import { ContainerAuditor } from './container-auditor.ts';
import { ContainerReconciler, containerReconcilerSchema } from './container-reconciler.ts';
import { ContainerSync, containerSyncSchema } from './container-sync.ts';
import { ContainerReplicator } from './container-replicator.ts';
import { ContainerUpdater } from './container-updater.ts';
import { accountAuditorSchema, accountReaperSchema, containerAuditorSchema, containerUpdaterSchema, dbReplicatorSchema } from './db-daemon-config.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * The account and container daemons of a storage node (replicators, container updater,
 * reconciler and sync, auditors, account reaper): their config sections (`replicator/db-daemon-config.ts`), and the
 * daemons built from them.
 */
export const dbDaemonSchemas = {
  'container-replicator': dbReplicatorSchema,
  'account-replicator': dbReplicatorSchema,
  'container-updater': containerUpdaterSchema,
  'container-reconciler': containerReconcilerSchema,
  'container-sync': containerSyncSchema,
  'container-auditor': containerAuditorSchema,
  'account-auditor': accountAuditorSchema,
  'account-reaper': accountReaperSchema,
} as const;

/** The node's account and container daemons, not started. */
export function dbDaemons(ctx: StorageNodeContext, config: ConfigsOf<typeof dbDaemonSchemas>): Daemon[] {
  return [
    new ContainerReplicator(ctx, config['container-replicator']),
    new AccountReplicator(ctx, config['account-replicator']),
    new ContainerUpdater(ctx, config['container-updater']),
    new ContainerReconciler(ctx, config['container-reconciler']),
    new ContainerSync(ctx, config['container-sync']),
    new ContainerAuditor(ctx, config['container-auditor']),
    new AccountAuditor(ctx, config['account-auditor']),
    new AccountReaper(ctx, config['account-reaper']),
  ];
}
