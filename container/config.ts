import { bool, int, list, num, type Schema } from '../common/config.ts';

/**
 * The `[container-server]` section of a storage node's config. Devices, mount_check and
 * bind_ip come from `[storage]` (`common/storage-config.ts`).
 *
 * ```ini
 * [container-server]
 * bind_port = 6201
 * node_timeout = 3
 * ```
 */
export const containerServerSchema = {
  bind_port: int(6201, { min: 0, max: 65535, doc: 'port the container server listens on (0 picks one)' }),
  node_timeout: num(3, { min: 0, doc: 'seconds to wait for an account server to answer an account update (connecting is the backend client\'s conn_timeout)' }),
  allow_versions: bool(false, 'keep X-Versions-Location on containers (legacy versioning; Swift deprecates it)'),
  log_requests: bool(true, 'log one line per request (REPLICATE at debug level)'),
  allowed_sync_hosts: list(['127.0.0.1'], 'hosts a full-URL X-Container-Sync-To may name (realm values, //realm/cluster/a/c, use container-sync-realms.conf instead)'),
  db_fsync: bool(true, 'fsync every database write before answering (a storage server acknowledges only what survives a crash); concurrent updates share one fsync'),
} as const satisfies Schema;
