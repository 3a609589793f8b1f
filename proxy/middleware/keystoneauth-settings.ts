import { bool, type ConfigOf, int, keysLike, type Schema, str } from '../../common/config.ts';
import { resellerPrefixes } from './reseller-prefixes.ts';

/**
 * `[keystoneauth]`: Swift 2.30's `[filter:keystoneauth]` keys and defaults, and the few
 * `[filter:authtoken]` settings a proxy that validates tokens on its own needs instead of a
 * Keystone URL (the key repository, how often to read revocation events, where they are).
 */
export const keystoneauthSchema = {
  reseller_prefix: str('AUTH', { doc: 'comma-separated; a project owns <prefix>_<project_id> under each' }),
  operator_roles: str('admin, swiftoperator', { doc: 'roles that make a project member the owner of its accounts (every prefix)' }),
  '*_operator_roles': keysLike(str(''), '<PREFIX>_operator_roles: operator_roles for one reseller prefix'),
  service_roles: str('', { doc: 'roles an X-Service-Token must also have for a user to own the account (every prefix)' }),
  '*_service_roles': keysLike(str(''), '<PREFIX>_service_roles: service_roles for one reseller prefix (e.g. SERVICE_service_roles = service)'),
  project_reader_roles: str('', { doc: 'roles that may read (GET, HEAD) their project\'s accounts' }),
  '*_project_reader_roles': keysLike(str(''), '<PREFIX>_project_reader_roles: project_reader_roles for one reseller prefix'),
  reseller_admin_role: str('ResellerAdmin', { doc: 'a role that owns every account' }),
  system_reader_roles: str('', { doc: 'roles that may read (GET, HEAD) every account' }),
  allow_overrides: bool(true, 'let a middleware before auth (tempurl, formpost) authorize a request'),
  is_admin: bool(false, 'no longer supported by Swift; a warning when set'),
  default_domain_id: str('default', { doc: 'the domain whose users and projects may be named in container ACLs' }),
  allow_names_in_acls: bool(true, 'match project and user names (default domain only) in container ACLs'),
  key_repository: str('', { doc: "the identity service's Fernet key repository (a copy of it); empty: Keystone tokens are not accepted" }),
  identity_account: str('AUTH_.identity', { doc: "the identity service's system account, where its revocation events and names are" }),
  revocation_poll_interval: int(2, { min: 1, doc: 'seconds between reads of new revocation events' }),
  token_expiration: int(3600, { min: 1, doc: "the identity service's [token] expiration: how far back revocation events matter" }),
  token_cache_time: int(300, { min: 0, doc: 'seconds a user or project name read for an ACL is kept (keystonemiddleware\'s token_cache_time)' }),
} as const satisfies Schema;

export type KeystoneauthConfig = ConfigOf<typeof keystoneauthSchema>;

/** The roles of one reseller prefix (Swift's `account_rules[prefix]`), lower-case. */
export interface PrefixRoles {
  readonly operatorRoles: readonly string[];
  readonly serviceRoles: readonly string[];
  readonly projectReaderRoles: readonly string[];
}

/** `[keystoneauth]` read as Swift's `KeystoneAuth.__init__` reads it. */
export interface KeystoneauthSettings {
  /** Each with its `_` (`AUTH_`, `SERVICE_`), or `''`, in the configured order. */
  readonly prefixes: readonly string[];
  readonly rules: ReadonlyMap<string, PrefixRoles>;
  /** Lower-case. */
  readonly resellerAdminRole: string;
  readonly systemReaderRoles: ReadonlySet<string>;
  readonly allowOverrides: boolean;
  readonly defaultDomainId: string;
  readonly allowNamesInAcls: boolean;
}

/**
 * Swift's `config_read_reseller_options`: `reseller_prefix` is a list (`''` for none), each
 * role option holds for every prefix unless `<PREFIX>_<option>` is set; roles are
 * comma-separated and compared lower-case.
 */
export function keystoneauthSettings(config: KeystoneauthConfig): KeystoneauthSettings {
  const prefixes = resellerPrefixes(config.reseller_prefix);
  const rules = new Map<string, PrefixRoles>();
  for (const prefix of prefixes) {
    const name = prefix === '' ? "''" : prefix;
    const option = (key: 'operator_roles' | 'service_roles' | 'project_reader_roles'): string[] => {
      const own = config[`*_${key}`][`${name}${key}`];
      return roleList(own !== undefined && own !== '' ? own : config[key]);
    };
    rules.set(prefix, { operatorRoles: option('operator_roles'), serviceRoles: option('service_roles'), projectReaderRoles: option('project_reader_roles') });
  }
  return {
    prefixes,
    rules,
    resellerAdminRole: config.reseller_admin_role.toLowerCase(),
    systemReaderRoles: new Set(roleList(config.system_reader_roles)),
    allowOverrides: config.allow_overrides,
    defaultDomainId: config.default_domain_id,
    allowNamesInAcls: config.allow_names_in_acls,
  };
}

function roleList(value: string): string[] {
  return value
    .toLowerCase()
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
}
