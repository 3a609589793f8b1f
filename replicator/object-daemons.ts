import type { ConfigsOf } from '../common/config.ts';
import type { Daemon } from '../common/daemon.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * The object daemons of a storage node (replicator, auditor, updater, expirer): their config
 * sections, and the daemons built from them.
 */
export const objectDaemonSchemas = {} as const;

export function objectDaemons(_ctx: StorageNodeContext, _config: ConfigsOf<typeof objectDaemonSchemas>): Daemon[] {
  return [];
}
