import { bool, type Field, int, keysLike, list, num, oneOf, type Schema, str } from '../common/config.ts';
import { readAffinityRank, writeAffinityLocal, writeAffinityNodeCount } from './affinity.ts';

export const SORTING_METHODS = ['shuffle', 'timing', 'affinity'] as const;
export type SortingMethod = (typeof SORTING_METHODS)[number];

/** `sorting_method`, any case (Swift lower-cases it), with Swift's refusal. */
function sortingMethod(def: SortingMethod, doc: string): Field<SortingMethod> {
  return {
    default: def,
    doc,
    parse(raw) {
      const s = String(raw).trim().toLowerCase();
      return (SORTING_METHODS as readonly string[]).includes(s) ? { value: s as SortingMethod } : { problem: `Invalid sorting_method value; must be one of ${SORTING_METHODS.join(', ')}, not '${String(raw).trim()}'` };
    },
  };
}

/** A string setting checked by `check` (which throws Swift's words for a bad one). */
function checked(def: string, check: (s: string) => unknown, doc: string): Field<string> {
  return {
    default: def,
    doc,
    parse(raw) {
      const s = String(raw).trim();
      try {
        check(s);
        return { value: s };
      } catch (err) {
        return { problem: (err as Error).message };
      }
    },
  };
}

/** `write_affinity_handoff_delete_count`: a count, or `auto` (the primaries that are not local). */
function autoCount(doc: string): Field<number | 'auto'> {
  return {
    default: 'auto',
    doc,
    parse(raw) {
      const s = String(raw).trim().toLowerCase();
      if (s === 'auto') return { value: 'auto' };
      return /^\d+$/.test(s) ? { value: Number(s) } : { problem: "expected a count or 'auto'" };
    },
  };
}

/** A setting a `[proxy-server:policy:N]` section may leave out: then `[proxy-server]`'s holds. */
function inherited<T>(field: Field<T>): Field<T | undefined> {
  return { default: undefined, ...(field.doc !== undefined ? { doc: field.doc } : {}), parse: (raw) => field.parse(raw) };
}

/** The proxy's node order settings, which a storage policy may override (Swift's `ProxyOverrideOptions`). */
const nodeOrderFields = {
  sorting_method: sortingMethod('shuffle', 'order in which a read asks the primaries: shuffle (at random), timing (fastest recent answer first), affinity (by read_affinity)'),
  read_affinity: checked('', readAffinityRank, "with sorting_method = affinity, the primaries' priority by place, lower first: e.g. r1z1=100, r1=200 (unnamed places last)"),
  write_affinity: checked('', writeAffinityLocal, 'regions or zones whose nodes take object writes first, handoffs included (e.g. r1 or r1z1, r1z2); replication moves the data to the primaries later; empty: primaries first'),
  write_affinity_node_count: checked('2 * replicas', writeAffinityNodeCount, 'how many local nodes a write with write_affinity tries before the others: N or N * replicas'),
  write_affinity_handoff_delete_count: autoCount('local handoffs an object DELETE also goes to under write_affinity (auto: as many as the primaries that are not local)'),
} as const;

/** The `[proxy-server]` section. */
export const proxyServerSchema = {
  bind_ip: str('127.0.0.1', { nonEmpty: true }),
  bind_port: int(8080, { min: 0, max: 65535 }),
  swift_dir: str('/etc/swiftlet', { doc: 'directory holding the ring files', nonEmpty: true }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  workers: int(0, { min: 0, doc: 'proxy processes sharing the port; 0 = one per core' }),
  conn_timeout: num(0.5, { min: 0, doc: 'seconds to connect to a storage node' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a storage node to answer (and between body chunks)' }),
  post_quorum_timeout: num(0.5, { min: 0, doc: 'seconds stragglers get once a quorum agreed' }),
  client_timeout: num(60, { min: 0, doc: 'seconds a client may pause while sending a body' }),
  recheck_account_existence: num(60, { min: 0, doc: 'seconds account info is cached' }),
  recheck_container_existence: num(60, { min: 0, doc: 'seconds container info is cached' }),
  error_suppression_interval: num(60, { min: 0, doc: 'seconds an error-limited node is skipped' }),
  error_suppression_limit: int(10, { min: 0, doc: 'errors within the interval before a node is skipped' }),
  account_autocreate: bool(true, 'create an account on its first authorized write'),
  allow_account_management: bool(false, 'let reseller admins PUT and DELETE accounts'),
  local_file_reads: bool(true, 'read large object bodies of replicas on this machine from their data files, not through the object server (same user and mounts as the object servers)'),
  put_replay_bytes: int(1024 * 1024, { min: 0, doc: 'bytes of an upload kept to replay to a handoff when a primary fails early' }),
  max_containers_per_account: int(0, { min: 0, doc: '0 = no limit' }),
  log_requests: bool(true, 'log one line per client request'),
  cors_allow_origin: list([], 'origins allowed to make CORS requests to every container, besides each container\'s own'),
  strict_cors_mode: bool(true, 'CORS headers only for origins a container (or cors_allow_origin) allows'),
  cors_expose_headers: list([], 'headers every CORS response exposes to browsers, besides Swift\'s'),
  expose_info: bool(true, 'answer GET /info'),
  admin_key: str('', { doc: 'key of HMAC-signed /info requests that also show the admin section; empty: none' }),
  disallowed_sections: list(['swift.auto_create_account_prefix', 'swift.valid_api_versions'], '/info sections (dotted paths) never shown'),
  ...nodeOrderFields,
  timing_expiry: int(300, { min: 0, doc: 'seconds a node\'s answer time counts for sorting_method = timing' }),
} as const satisfies Schema;

/** `[proxy-server:policy:N]`: the node order settings for the storage policy of index N; what it leaves out is `[proxy-server]`'s. */
export const proxyPolicySchema = {
  sorting_method: inherited(nodeOrderFields.sorting_method),
  read_affinity: inherited(nodeOrderFields.read_affinity),
  write_affinity: inherited(nodeOrderFields.write_affinity),
  write_affinity_node_count: inherited(nodeOrderFields.write_affinity_node_count),
  write_affinity_handoff_delete_count: inherited(nodeOrderFields.write_affinity_handoff_delete_count),
} as const satisfies Schema;

/** The `[tempauth]` section: v1 auth with users in config, as Swift's tempauth middleware. */
export const tempauthSchema = {
  reseller_prefix: str('AUTH', { doc: 'comma-separated; accounts are <prefix>_<name>; the first also prefixes tokens' }),
  require_group: str('', { doc: 'a group an account admin must also be in to act as owner (every prefix)' }),
  '*_require_group': keysLike(str(''), '<PREFIX>_require_group = <group>: require_group for one reseller prefix (e.g. SERVICE_require_group = service)'),
  token_life: int(86_400, { min: 1, doc: 'seconds a token is valid' }),
  'user_*': keysLike(str('', { nonEmpty: true }), 'user_<account>_<user> = <key> [.admin] [.reseller_admin] [.reseller_reader] [<group>...] [<storage url>]'),
  'user64_*': keysLike(str('', { nonEmpty: true }), 'user64_<base64 account>_<base64 user> = ...: names with underscores'),
} as const satisfies Schema;
