import type { ConfigOf } from '../../common/config.ts';
import { ConfigError } from '../../common/errors.ts';
import type { tempauthSchema } from '../config.ts';
import { pyQuote } from './url-quote.ts';
import { resellerPrefixes } from './reseller-prefixes.ts';

/** A user of `[tempauth]`. */
export interface TempauthUser {
  readonly account: string;
  readonly user: string;
  readonly key: string;
  /** The groups after the key (`.admin`, `.reseller_admin`, `service`, ...). */
  readonly groups: readonly string[];
  /** The storage URL handed out, with `$HOST` for the host the client asked. */
  readonly url: string;
}

/** `[tempauth]` read as Swift reads it. */
export interface TempauthSettings {
  /** Swift's `reseller_prefixes`: each with its `_` (`AUTH_`, `SERVICE_`), or `''` for none. */
  readonly prefixes: readonly string[];
  /** The first prefix: tokens and the default storage URLs use it. */
  readonly tokenPrefix: string;
  /** Each prefix's `require_group` (`''` when none). */
  readonly requireGroup: ReadonlyMap<string, string>;
  /** By `account:user`. */
  readonly users: ReadonlyMap<string, TempauthUser>;
}

/**
 * Reads `[tempauth]` as Swift's `config_read_reseller_options` and `TempAuth.__init__` do:
 * `reseller_prefix = AUTH, SERVICE` is a list (`''` for the empty prefix), `require_group` holds
 * for every prefix unless `<PREFIX>_require_group` says otherwise, users come from `user_` and
 * `user64_` keys.
 * @throws {ConfigError} for a user key that is not `user_<account>_<user>`.
 */
export function tempauthSettings(config: ConfigOf<typeof tempauthSchema>): TempauthSettings {
  const prefixes = resellerPrefixes(config.reseller_prefix);
  const tokenPrefix = prefixes[0] as string;
  const requireGroup = new Map<string, string>();
  for (const prefix of prefixes) {
    const own = config['*_require_group'][`${prefix === '' ? "''" : prefix}require_group`];
    requireGroup.set(prefix, own !== undefined && own !== '' ? own : config.require_group);
  }
  const users = new Map<string, TempauthUser>();
  const entries = [...Object.entries(config['user_*']).map(([k, v]) => [k, v, false] as const), ...Object.entries(config['user64_*']).map(([k, v]) => [k, v, true] as const)];
  for (const [confKey, value, base64] of entries) {
    const parts = confKey.slice(confKey.indexOf('_') + 1).split('_');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new ConfigError(`tempauth.${confKey}`, value, `expected ${base64 ? 'user64' : 'user'}_<account>_<user>`);
    const [account, user] = base64 ? parts.map(fromBase64) : parts;
    const [key, ...groups] = value.split(/\s+/);
    const last = groups.at(-1);
    const url = last !== undefined && (last.includes('://') || last.includes('$HOST')) ? (groups.pop() as string) : `$HOST/v1/${tokenPrefix}${pyQuote(account as string)}`;
    users.set(`${account}:${user}`, { account: account as string, user: user as string, key: key ?? '', groups, url });
  }
  return { prefixes, tokenPrefix, requireGroup, users };
}

/** A `user64_` name part: base64 without its `=` padding (config parsers would eat it). */
function fromBase64(part: string): string {
  return Buffer.from(part + '='.repeat((4 - (part.length % 4)) % 4), 'base64').toString('utf8');
}
