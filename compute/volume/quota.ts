import { type RecordStore, RecordExistsError, RecordVersionError } from '../../client/record-store.ts';
import { SwiftError } from '../../common/errors.ts';

/**
 * Cinder's quotas (cinder/quota.py, the DbQuotaDriver): per-project limits with defaults from
 * the config, and per-project usage counters that every create reserves against and every
 * delete gives back.
 *
 * Concurrency: a project's usage is ONE record (`quota_usages/<project>`), changed only by
 * compare-and-swap. A reservation reads it, checks every delta against the limits, and writes
 * it back over the version it read; a writer that lost the race reads the new counts and checks
 * again. So two creates racing for the last volume cannot both pass: the second one's write
 * meets the first one's version, re-reads, and is over quota. This is Cinder's
 * `quota_reserve` (a row lock on quota_usages) with a conditional write in place of the lock.
 */

/** Quotas that count something (ReservableResource in Cinder). */
export const COUNTED = ['volumes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes'] as const;
/** Cinder's per volume type quotas: `<part>_<type name>` (VolumeTypeResource). */
export const TYPE_PARTS = ['volumes', 'gigabytes', 'snapshots'] as const;

/** The limits Cinder's config gives a project that has none of its own (-1: unlimited). */
export interface QuotaDefaults {
  readonly volumes: number;
  readonly snapshots: number;
  readonly gigabytes: number;
  readonly backups: number;
  readonly backup_gigabytes: number;
  readonly per_volume_gigabytes: number;
  readonly groups: number;
}

/** Cinder's defaults (`quota_volumes` = 10, `quota_gigabytes` = 1000...). */
export const CINDER_QUOTA_DEFAULTS: QuotaDefaults = { volumes: 10, snapshots: 10, gigabytes: 1000, backups: 10, backup_gigabytes: 1000, per_volume_gigabytes: -1, groups: 10 };

export const QUOTA_LIMITS = 'quotas';
/** Quota classes' limits (Cinder's `quota_classes`), keyed by class name. */
export const QUOTA_CLASSES = 'quota_classes';
/** The class whose limits are every project's defaults (Cinder's `_DEFAULT_QUOTA_NAME`, `use_default_quota_class`). */
export const DEFAULT_QUOTA_CLASS = 'default';
export const QUOTA_USAGES = 'quota_usages';

interface LimitsRecord {
  readonly project_id: string;
  readonly limits: Record<string, number>;
}

interface ClassLimitsRecord {
  readonly class_name: string;
  readonly limits: Record<string, number>;
}

interface UsageRecord {
  readonly project_id: string;
  readonly in_use: Record<string, number>;
  /**
   * The keys of changes made `once` and not yet settled, written with the counts they changed:
   * a step run again after a restart sees its key and counts nothing twice.
   */
  readonly applied?: readonly string[];
}

/** How a keyed change treats its keys: made once (`apply`), undone once (`cancel`), forgotten (`settle`, all at once). */
type Once = { readonly op: 'apply'; readonly key: string } | { readonly op: 'cancel'; readonly key: string } | { readonly op: 'settle'; readonly keys: readonly string[] };

/** A reservation went over a limit (Cinder's OverQuota): which ones, the limits, the usage before it. */
export class OverQuota extends SwiftError {
  /** Sorted, as Cinder's quota_reserve raises them. */
  readonly overs: readonly string[];
  readonly quotas: Readonly<Record<string, number>>;
  readonly usages: Readonly<Record<string, number>>;

  constructor(overs: string[], quotas: Record<string, number>, usages: Record<string, number>) {
    super('OVER_QUOTA', `Quota exceeded for resources: ${overs.join(', ')}`);
    this.overs = overs;
    this.quotas = quotas;
    this.usages = usages;
  }
}

/** A project's quota as `os-quota-sets?usage=true` shows one. */
export interface QuotaDetail {
  readonly limit: number;
  readonly in_use: number;
  readonly reserved: number;
}

/** Enough conditional-write attempts for many concurrent creates in one project. */
const RESERVE_ATTEMPTS = 100;

export class VolumeQuotas {
  private readonly store: RecordStore;
  private readonly defaults: QuotaDefaults;
  private readonly typeNames: () => Promise<readonly string[]>;

  /** `typeNames`: the volume types there are, each with its own three quotas. */
  constructor(store: RecordStore, defaults: QuotaDefaults, typeNames: () => Promise<readonly string[]>) {
    this.store = store;
    this.defaults = defaults;
    this.typeNames = typeNames;
  }

  /** Every quota name Cinder knows, in its order (global ones, the type ones, groups). */
  async resourceNames(): Promise<string[]> {
    return ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', ...(await this.typeNames()).flatMap((t) => TYPE_PARTS.map((p) => typeResource(p, t))), 'groups'];
  }

  /** Cinder's get_defaults: the `default` class's limits, else the config's values; -1 for a type quota. */
  async defaultLimits(): Promise<Record<string, number>> {
    const [names, set] = await Promise.all([this.resourceNames(), this.ownClassLimits(DEFAULT_QUOTA_CLASS)]);
    const out: Record<string, number> = {};
    for (const name of names) out[name] = set[name] ?? (this.defaults as unknown as Record<string, number>)[name] ?? -1;
    return out;
  }

  /** Cinder's get_class_quotas: the class's own limits, else the defaults. */
  async classLimits(className: string): Promise<Record<string, number>> {
    const [defaults, set] = await Promise.all([this.defaultLimits(), this.ownClassLimits(className)]);
    return { ...defaults, ...pick(set, Object.keys(defaults)) };
  }

  /** Sets some of a quota class's limits (an admin's update). */
  async setClassLimits(className: string, changes: Record<string, number>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.store.get<ClassLimitsRecord>(QUOTA_CLASSES, className);
      const next: ClassLimitsRecord = { class_name: className, limits: { ...cur?.value.limits, ...changes } };
      try {
        if (cur) await this.store.put(QUOTA_CLASSES, className, next, { ifVersion: cur.version });
        else await this.store.create(QUOTA_CLASSES, className, next);
        return;
      } catch (err) {
        if (!(err instanceof RecordVersionError || err instanceof RecordExistsError) || attempt >= RESERVE_ATTEMPTS) throw err;
      }
    }
  }

  private async ownClassLimits(className: string): Promise<Record<string, number>> {
    return (await this.store.get<ClassLimitsRecord>(QUOTA_CLASSES, className))?.value.limits ?? {};
  }

  /** The limits an admin set for the project (only those). */
  async projectLimits(projectId: string): Promise<Record<string, number>> {
    return (await this.store.get<LimitsRecord>(QUOTA_LIMITS, projectId))?.value.limits ?? {};
  }

  /** The project's limit for every quota: its own, else the default. */
  async limits(projectId: string): Promise<Record<string, number>> {
    return { ...(await this.defaultLimits()), ...pick(await this.projectLimits(projectId), await this.resourceNames()) };
  }

  /** What the project uses of each counted quota. */
  async usage(projectId: string): Promise<Record<string, number>> {
    return (await this.store.get<UsageRecord>(QUOTA_USAGES, projectId))?.value.in_use ?? {};
  }

  async detail(projectId: string): Promise<Record<string, QuotaDetail>> {
    const [limits, used] = await Promise.all([this.limits(projectId), this.usage(projectId)]);
    const out: Record<string, QuotaDetail> = {};
    for (const [name, limit] of Object.entries(limits)) out[name] = { limit, in_use: used[name] ?? 0, reserved: 0 };
    return out;
  }

  /** Sets some of the project's limits (an admin's update); returns them all. */
  async setLimits(projectId: string, changes: Record<string, number>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.store.get<LimitsRecord>(QUOTA_LIMITS, projectId);
      const next: LimitsRecord = { project_id: projectId, limits: { ...cur?.value.limits, ...changes } };
      try {
        if (cur) await this.store.put(QUOTA_LIMITS, projectId, next, { ifVersion: cur.version });
        else await this.store.create(QUOTA_LIMITS, projectId, next);
        return;
      } catch (err) {
        if (!(err instanceof RecordVersionError || err instanceof RecordExistsError) || attempt >= RESERVE_ATTEMPTS) throw err;
      }
    }
  }

  /** Drops the project's own limits (back to the defaults). */
  async deleteLimits(projectId: string): Promise<void> {
    await this.store.delete(QUOTA_LIMITS, projectId);
  }

  /**
   * Adds `deltas` to the project's usage if no positive delta takes a limited quota past its
   * limit. @throws {OverQuota} and changes nothing when one would. With `once`, a reservation
   * already made under that key (and not settled) is not made again, nor checked.
   */
  async reserve(projectId: string, deltas: Record<string, number>, once?: string): Promise<void> {
    const limits = await this.limits(projectId);
    await this.change(projectId, (used) => {
      const overs = Object.entries(deltas)
        .filter(([name, delta]) => {
          const limit = limits[name] ?? -1;
          return limit >= 0 && delta >= 0 && limit < delta + (used[name] ?? 0);
        })
        .map(([name]) => name)
        .sort();
      if (overs.length > 0) throw new OverQuota(overs, limits, used);
    }, deltas, once === undefined ? undefined : { key: once, op: 'apply' });
  }

  /** Gives back what a deleted resource (or an undone reservation) held; never below 0. `once`: as `reserve`'s. */
  async release(projectId: string, deltas: Record<string, number>, once?: string): Promise<void> {
    await this.change(projectId, () => {}, negated(deltas), once === undefined ? undefined : { key: once, op: 'apply' });
  }

  /** Undoes the reservation made `once` under `key` (it held `deltas`), if it was made and not settled. */
  async cancel(projectId: string, key: string, deltas: Record<string, number>): Promise<void> {
    await this.change(projectId, () => {}, negated(deltas), { key, op: 'cancel' });
  }

  /** Forgets the keys of changes that will not be run again (their counts stay). */
  async settle(projectId: string, keys: readonly string[]): Promise<void> {
    await this.change(projectId, () => {}, {}, { op: 'settle', keys });
  }

  private async change(projectId: string, check: (used: Record<string, number>) => void, deltas: Record<string, number>, once?: Once): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const cur = await this.store.get<UsageRecord>(QUOTA_USAGES, projectId);
      const applied = cur?.value.applied ?? [];
      const seen = once === undefined ? false : once.op === 'settle' ? once.keys.some((k) => applied.includes(k)) : applied.includes(once.key);
      // Nothing to do: made once already, or nothing to undo or forget.
      if (once !== undefined && (once.op === 'apply' ? seen : !seen)) return;
      const used = { ...cur?.value.in_use };
      if (once?.op !== 'settle') {
        check(used);
        for (const [name, delta] of Object.entries(deltas)) used[name] = Math.max(0, (used[name] ?? 0) + delta);
      }
      const dropped = once === undefined || once.op === 'apply' ? [] : once.op === 'cancel' ? [once.key] : once.keys;
      const keys = once?.op === 'apply' ? [...applied, once.key] : applied.filter((k) => !dropped.includes(k));
      const next: UsageRecord = { project_id: projectId, in_use: used, ...(keys.length > 0 ? { applied: keys } : {}) };
      try {
        if (cur) await this.store.put(QUOTA_USAGES, projectId, next, { ifVersion: cur.version });
        else await this.store.create(QUOTA_USAGES, projectId, next);
        return;
      } catch (err) {
        if (!(err instanceof RecordVersionError || err instanceof RecordExistsError) || attempt >= RESERVE_ATTEMPTS) throw err;
      }
    }
  }
}

/** Several changes' deltas as one (each resource's deltas added). */
export function sumDeltas(parts: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of parts) for (const [k, v] of Object.entries(part)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function negated(deltas: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(deltas).map(([k, v]) => [k, -v]));
}

export function typeResource(part: string, typeName: string): string {
  return `${part}_${typeName}`;
}

/** Cinder's add_volume_type_opts: the type's own quotas move with the global ones. */
export function withTypeQuotas(deltas: Record<string, number>, typeName: string): Record<string, number> {
  const out = { ...deltas };
  for (const part of TYPE_PARTS) if (deltas[part] !== undefined) out[typeResource(part, typeName)] = deltas[part];
  return out;
}

function pick(values: Record<string, number>, names: readonly string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => names.includes(k)));
}
