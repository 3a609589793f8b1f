import type { ConfigsOf } from '../common/config.ts';
import type { Daemon } from '../common/daemon.ts';
import type { StorageNodeContext } from './node-context.ts';
import { ObjectAuditor, objectAuditorSchema } from './object-auditor.ts';
import { ObjectExpirer, objectExpirerSchema } from './object-expirer.ts';
import { ObjectReplicator, objectReplicatorSchema } from './object-replicator.ts';
import { ObjectUpdater, objectUpdaterSchema } from './object-updater.ts';

/**
 * The object daemons of a storage node (replicator, auditor, updater, expirer): their config
 * sections, and the daemons built from them.
 */
export const objectDaemonSchemas = {
  'object-replicator': objectReplicatorSchema,
  'object-updater': objectUpdaterSchema,
  'object-auditor': objectAuditorSchema,
  'object-expirer': objectExpirerSchema,
} as const;

export function objectDaemons(ctx: StorageNodeContext, config: ConfigsOf<typeof objectDaemonSchemas>): Daemon[] {
  return [
    new ObjectReplicator(ctx, config['object-replicator']),
    new ObjectUpdater(ctx, config['object-updater']),
    new ObjectAuditor(ctx, config['object-auditor'], 'full'),
    new ObjectAuditor(ctx, config['object-auditor'], 'fast'),
    new ObjectExpirer(ctx, config['object-expirer']),
  ];
}
