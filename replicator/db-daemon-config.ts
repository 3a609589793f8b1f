import { int, num, type Schema } from '../common/config.ts';

/**
 * The config sections of the account and container daemons of a storage node. Defaults are
 * Swift's, except the container updater's interval (30 s, not 300: an all-in-one cluster should
 * show true account counts soon after writes). Connection timeouts are the node's backend
 * client's (`[object-server] conn_timeout`); each daemon's `node_timeout` bounds every request
 * it makes.
 *
 * ```ini
 * [container-replicator]
 * interval = 30
 * concurrency = 8
 * reclaim_age = 604800
 *
 * [container-updater]
 * interval = 30
 *
 * [account-reaper]
 * delay_reaping = 0
 * ```
 */

/** `[container-replicator]` and `[account-replicator]` (Swift's `db_replicator` options). */
export const dbReplicatorSchema = {
  interval: num(30, { min: 0, doc: 'seconds from the start of one replication pass to the start of the next' }),
  concurrency: int(8, { min: 1, doc: 'databases replicated at once' }),
  databases_per_second: num(50, { min: 0, doc: 'most databases started per second (0: no limit)' }),
  per_diff: int(1000, { min: 1, max: 10_000, doc: 'rows sent per merge_items request' }),
  max_diffs: int(100, { min: 1, doc: 'most merge_items requests per database and replica in one pass; a replica further behind catches up over several passes, unless it is so far behind that the whole database is sent' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a replica to answer a REPLICATE request' }),
  reclaim_age: num(604_800, { min: 0, doc: 'seconds a deleted row (or a deleted, empty database) is kept before it is purged' }),
  handoff_delete: int(0, { min: 0, doc: 'a handoff database is removed once this many primaries have it (0: all of them)' }),
} as const satisfies Schema;

/** `[container-updater]` (Swift's `container-updater` options). */
export const containerUpdaterSchema = {
  interval: num(30, { min: 0, doc: 'seconds from the start of one update sweep to the start of the next' }),
  concurrency: int(4, { min: 1, doc: 'containers reported at once' }),
  containers_per_second: num(50, { min: 0, doc: 'most containers looked at per second (0: no limit)' }),
  node_timeout: num(3, { min: 0, doc: 'seconds to wait for an account server to answer a report' }),
  account_suppression_time: num(60, { min: 0, doc: 'seconds to skip an account\'s containers after a report to it failed' }),
} as const satisfies Schema;

/** `[container-auditor]` (Swift's `container-auditor` options, plus the full check). */
export const containerAuditorSchema = {
  interval: num(1800, { min: 0, doc: 'seconds from the start of one audit pass to the start of the next' }),
  containers_per_second: num(200, { min: 0, doc: 'most databases audited per second (0: no limit)' }),
  full_check_interval: num(86_400, { min: 0, doc: 'seconds between passes that also recount every database from its rows (0: every pass)' }),
} as const satisfies Schema;

/** `[account-auditor]` (Swift's `account-auditor` options, plus the full check). */
export const accountAuditorSchema = {
  interval: num(1800, { min: 0, doc: 'seconds from the start of one audit pass to the start of the next' }),
  accounts_per_second: num(200, { min: 0, doc: 'most databases audited per second (0: no limit)' }),
  full_check_interval: num(86_400, { min: 0, doc: 'seconds between passes that also recount every database from its rows (0: every pass)' }),
} as const satisfies Schema;

/** `[account-reaper]` (Swift's `account-reaper` options). */
export const accountReaperSchema = {
  interval: num(3600, { min: 0, doc: 'seconds from the start of one reaper pass to the start of the next' }),
  concurrency: int(25, { min: 1, doc: 'containers (and, within each, objects) deleted at once' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a container or object server to answer' }),
  delay_reaping: num(0, { min: 0, doc: 'seconds to wait after an account is deleted before its data is removed (time to undelete)' }),
  reap_warn_after: num(2_592_000, { min: 0, doc: 'warn about an account still not empty this many seconds after its deletion (plus delay_reaping)' }),
} as const satisfies Schema;
