import { DEFAULT_QUOTAS, NETWORK_QUOTAS, type QuotaClassRecord, type QuotaName, type QuotaRecord, T } from './records.ts';
import type { ComputeStore } from './store.ts';

export type QuotaLimits = Record<QuotaName, number>;

/** The class whose limits are every project's defaults (Nova's `_DEFAULT_QUOTA_NAME`). */
export const DEFAULT_QUOTA_CLASS = 'default';

/** What the API hides from 2.57 on: personality went with it. */
export const PERSONALITY_QUOTAS: readonly QuotaName[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** nova.conf's defaults and nova-network's unlimited four. */
export const CONFIGURED_QUOTAS: QuotaLimits = { ...DEFAULT_QUOTAS, ...NETWORK_QUOTAS };

/** A quota class's limits: what an admin set for it over the configured defaults (DbQuotaDriver's get_class_quotas). */
export async function classLimits(store: ComputeStore, className: string): Promise<QuotaLimits> {
  const set = await store.get<QuotaClassRecord>(T.quotaClasses, className);
  return { ...CONFIGURED_QUOTAS, ...set?.limits };
}

/** Every project's defaults: the `default` class's limits (DbQuotaDriver's get_defaults). */
export function defaultLimits(store: ComputeStore): Promise<QuotaLimits> {
  return classLimits(store, DEFAULT_QUOTA_CLASS);
}

/** A project's limits: the defaults with what an admin set for it (-1: unlimited). */
export async function quotaLimits(store: ComputeStore, projectId: string): Promise<QuotaLimits> {
  const [defaults, set] = await Promise.all([defaultLimits(store), store.get<QuotaRecord>(T.quotas, projectId)]);
  return { ...defaults, ...set?.limits };
}

/** What a project's servers use of the counted quotas (Nova counts instances, cores and ram). */
export interface QuotaUsage {
  readonly instances: number;
  readonly cores: number;
  readonly ram: number;
}

export function exceeds(limit: number, used: number, requested: number): boolean {
  return limit >= 0 && used + requested > limit;
}
