import { bool, int, type Schema } from '../common/config.ts';

/**
 * The `[account-server]` section of a storage node's config. Devices, mount_check and
 * bind_ip come from `[storage]` (`common/storage-config.ts`).
 *
 * ```ini
 * [account-server]
 * bind_port = 6202
 * ```
 */
export const accountServerSchema = {
  bind_port: int(6202, { min: 0, max: 65535, doc: 'port the account server listens on (0 picks one)' }),
  log_requests: bool(true, 'log one line per request (REPLICATE at debug level)'),
  db_fsync: bool(true, 'fsync every database write before answering (a storage server acknowledges only what survives a crash); concurrent updates share one fsync'),
} as const satisfies Schema;
