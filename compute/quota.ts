import { DEFAULT_QUOTAS, type QuotaName, type QuotaRecord, T } from './records.ts';
import type { ComputeStore } from './store.ts';

export type QuotaLimits = Record<QuotaName, number>;

/** A project's limits: Nova's defaults with what an admin set for it (-1: unlimited). */
export async function quotaLimits(store: ComputeStore, projectId: string): Promise<QuotaLimits> {
  const set = await store.get<QuotaRecord>(T.quotas, projectId);
  return { ...DEFAULT_QUOTAS, ...set?.limits };
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
