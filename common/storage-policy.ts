import { bool, type ConfigOf, oneOf, type Schema, str } from './config.ts';
import { ConfigError, SwiftError } from './errors.ts';

/**
 * Storage policies (Swift's `storage_policy.py`): each container belongs to one policy, and a
 * policy is an object ring (`object.ring.gz` for policy 0, `object-<N>.ring.gz` for N) with
 * its own directories on every device (`objects`, `objects-1`, ...). A cluster declares them
 * as Swift's `swift.conf` does, one `[storage-policy:<index>]` section each, the same on every
 * node:
 *
 * ```ini
 * [storage-policy:0]
 * name = gold
 * aliases = yellow, orange
 * default = yes
 *
 * [storage-policy:1]
 * name = silver
 * ```
 *
 * With no section at all the cluster has one policy, `Policy-0` (every cluster made before
 * policies existed keeps working unchanged).
 */
export const storagePolicySchema = {
  name: str('', { doc: 'the policy name clients give in X-Storage-Policy (letters, digits, -)' }),
  aliases: str('', { doc: 'more names for the same policy, comma separated' }),
  default: bool(false, 'new containers get this policy when the client names none; exactly one policy is the default'),
  deprecated: bool(false, 'no new containers in this policy; existing ones keep working'),
  policy_type: oneOf('replication', ['replication'] as const, 'only replicated policies (Swift\'s erasure coding is not supported)'),
} as const satisfies Schema;

/** The name of policy 0 when none is configured. */
export const LEGACY_POLICY_NAME = 'Policy-0';

const VALID_NAME = /^[-a-zA-Z0-9]+$/;

export interface StoragePolicy {
  readonly index: number;
  /** The primary name (the first of `names`). */
  readonly name: string;
  /** The name and its aliases (Swift's `alias_list`). */
  readonly names: readonly string[];
  readonly isDefault: boolean;
  readonly isDeprecated: boolean;
  readonly policyType: 'replication';
}

/** A policy index that names no policy of this cluster. */
export class UnknownPolicyError extends SwiftError {
  readonly index: string;

  constructor(index: string) {
    super('POLICY_UNKNOWN', `No policy with index ${index}`);
    this.index = index;
  }
}

/**
 * `base` for policy 0, `base-<N>` for policy N (Swift's `get_policy_string`): object
 * directories (`objects-1`), temp and async-pending directories, ring names (`object-1`).
 */
export function policyString(base: string, index: number): string {
  return index === 0 ? base : `${base}-${index}`;
}

/**
 * The cluster's storage policies (Swift's `StoragePolicyCollection`), checked as Swift checks
 * them: unique indexes and names (case-insensitively, aliases included), one default that is
 * not deprecated, a policy 0 whenever there is more than one.
 */
export class StoragePolicies implements Iterable<StoragePolicy> {
  readonly default: StoragePolicy;
  private readonly byIndexMap: ReadonlyMap<number, StoragePolicy>;
  private readonly byNameMap: ReadonlyMap<string, StoragePolicy>;

  private constructor(policies: readonly StoragePolicy[]) {
    const byIndex = new Map<number, StoragePolicy>();
    const byName = new Map<string, StoragePolicy>();
    let def: StoragePolicy | undefined;
    for (const policy of [...policies].sort((a, b) => a.index - b.index)) {
      const where = `storage-policy:${policy.index}`;
      if (byIndex.has(policy.index)) throw new ConfigError(where, undefined, `duplicate index ${policy.index}`);
      for (const name of policy.names) {
        const other = byName.get(name.toUpperCase());
        if (other) throw new ConfigError(`${where}.name`, name, `duplicate name; policy ${other.index} has it`);
        byName.set(name.toUpperCase(), policy);
      }
      if (policy.isDefault) {
        if (def) throw new ConfigError(`${where}.default`, 'yes', `duplicate default; policy ${def.index} is the default`);
        def = policy;
      }
      byIndex.set(policy.index, policy);
    }
    if (!byIndex.has(0)) {
      if (byIndex.size > 0) throw new ConfigError('storage-policy:0', undefined, 'you must specify a storage policy section for policy index 0 in order to define multiple policies');
      const legacy = { index: 0, name: LEGACY_POLICY_NAME, names: [LEGACY_POLICY_NAME], isDefault: false, isDeprecated: false, policyType: 'replication' } as const;
      byIndex.set(0, legacy);
      byName.set(LEGACY_POLICY_NAME.toUpperCase(), legacy);
    }
    if ([...byIndex.values()].every((p) => p.isDeprecated)) throw new ConfigError('storage-policy', undefined, 'unable to find a policy that is not deprecated');
    if (!def) {
      if (byIndex.size > 1) throw new ConfigError('storage-policy', undefined, 'unable to find the default policy: set default = yes in one section');
      const only = byIndex.get(0) as StoragePolicy;
      def = { ...only, isDefault: true };
      byIndex.set(0, def);
      for (const name of def.names) byName.set(name.toUpperCase(), def);
    }
    this.default = def;
    this.byIndexMap = byIndex;
    this.byNameMap = byName;
  }

  /** One policy, `Policy-0` (a cluster with no `[storage-policy:N]` section). */
  static legacy(): StoragePolicies {
    return new StoragePolicies([]);
  }

  /**
   * The policies of a config's `[storage-policy:<index>]` sections.
   * @throws {ConfigError} naming the section and what is wrong with it.
   */
  static fromConfig(sections: Readonly<Record<string, ConfigOf<typeof storagePolicySchema>>>): StoragePolicies {
    return new StoragePolicies(Object.entries(sections).map(([index, section]) => policyFromSection(index, section)));
  }

  /** Policies given directly (tests, tools); checked as config is. */
  static of(policies: readonly { index: number; name: string; aliases?: readonly string[]; default?: boolean; deprecated?: boolean }[]): StoragePolicies {
    return new StoragePolicies(
      policies.map((p) => policyFromSection(String(p.index), { name: p.name, aliases: (p.aliases ?? []).join(', '), default: p.default ?? false, deprecated: p.deprecated ?? false, policy_type: 'replication' })),
    );
  }

  get size(): number {
    return this.byIndexMap.size;
  }

  [Symbol.iterator](): Iterator<StoragePolicy> {
    return this.byIndexMap.values();
  }

  /**
   * The policy of an index as a header carries it (Swift's `get_by_index`): absent or empty
   * means policy 0; anything that is not a known index is undefined.
   */
  byIndex(index: number | string | undefined): StoragePolicy | undefined {
    if (index === undefined || index === '') return this.byIndexMap.get(0);
    const n = typeof index === 'number' ? index : /^\s*\d+\s*$/.test(index) ? Number(index) : NaN;
    return this.byIndexMap.get(n);
  }

  /**
   * The policy of an index header, as object servers and daemons need it.
   * @throws {UnknownPolicyError} (Swift answers 503 `No policy with index N`).
   */
  requireIndex(index: number | string | undefined): StoragePolicy {
    const policy = this.byIndex(index);
    if (!policy) throw new UnknownPolicyError(String(index));
    return policy;
  }

  /** A policy by any of its names, in any case (Swift's `get_by_name`). */
  byName(name: string): StoragePolicy | undefined {
    return this.byNameMap.get(name.toUpperCase());
  }

  /** Primary names by index (the account server's per-policy headers). */
  names(): ReadonlyMap<number, string> {
    return new Map([...this].map((p) => [p.index, p.name]));
  }

  /**
   * `/info`'s `swift.policies` (Swift's `get_policy_info`): every policy that is not
   * deprecated, with `default: true` on the default.
   */
  info(): { name: string; aliases: string; default?: true }[] {
    return [...this].filter((p) => !p.isDeprecated).map((p) => ({ name: p.name, aliases: p.names.join(', '), ...(p.isDefault ? { default: true as const } : {}) }));
  }
}

function policyFromSection(rawIndex: string, section: ConfigOf<typeof storagePolicySchema>): StoragePolicy {
  const where = `storage-policy:${rawIndex}`;
  if (!/^\d+$/.test(rawIndex) || !Number.isSafeInteger(Number(rawIndex))) throw new ConfigError(where, undefined, 'invalid index: a section is [storage-policy:<index>], index 0 or more');
  const index = Number(rawIndex);
  const names: string[] = [];
  const add = (name: string): void => {
    if (name === '') throw new ConfigError(`${where}.name`, name, 'invalid name: a policy needs a name');
    if (!VALID_NAME.test(name)) throw new ConfigError(`${where}.name`, name, 'names are used as HTTP headers and can only hold letters, digits and -');
    if (name.toUpperCase() === LEGACY_POLICY_NAME.toUpperCase() && index !== 0) throw new ConfigError(`${where}.name`, name, `the name ${LEGACY_POLICY_NAME} is reserved for policy index 0`);
    if (names.some((n) => n.toUpperCase() === name.toUpperCase())) throw new ConfigError(`${where}.aliases`, name, 'the name is already assigned to this policy');
    names.push(name);
  };
  add(section.name);
  for (const alias of section.aliases.split(',').map((a) => a.trim()).filter((a) => a !== '')) if (alias !== section.name) add(alias);
  if (section.deprecated && section.default) throw new ConfigError(`${where}.deprecated`, 'yes', 'a deprecated policy can not be the default');
  return { index, name: section.name, names, isDefault: section.default, isDeprecated: section.deprecated, policyType: section.policy_type };
}
