import type { ConfigsOf } from '../common/config.ts';
import type { Daemon } from '../common/daemon.ts';
import type { StorageNodeContext } from './node-context.ts';

/**
 * The account and container daemons of a storage node (replicators, container updater,
 * auditors, account reaper): their config sections, and the daemons built from them.
 */
export const dbDaemonSchemas = {} as const;

export function dbDaemons(_ctx: StorageNodeContext, _config: ConfigsOf<typeof dbDaemonSchemas>): Daemon[] {
  return [];
}
