import { OverQuota } from '../quota.ts';
import { CinderError } from './cinder-error.ts';

/** Cinder's QuotaError: 413 with `Retry-After: 0` (cinder/exception.py). */
function quotaError(message: string): CinderError {
  return new CinderError(413, message, { 'Retry-After': '0' });
}

/**
 * Cinder's quota_utils.process_reserve_over_quota: the first quota over its limit (sorted by
 * name) picks the error. A gigabytes quota gives VolumeSizeExceedsAvailableQuota (or, for
 * backups, VolumeBackupSizeExceedsAvailableQuota); the resource's own count its LimitExceeded.
 */
export function overQuotaError(err: OverQuota, resource: 'volumes' | 'snapshots' | 'backups', size: number): CinderError {
  const consumed = (name: string): number => err.usages[name] ?? 0;
  for (const over of err.overs) {
    const quota = err.quotas[over] ?? -1;
    if (over.includes('gigabytes')) {
      if (resource === 'backups') return quotaError(`Requested backup exceeds allowed Backup gigabytes quota. Requested ${size}G, quota is ${quota}G and ${consumed(over)}G has been consumed.`);
      return quotaError(`Requested volume or snapshot exceeds allowed ${over} quota. Requested ${size}G, quota is ${quota}G and ${consumed(over)}G has been consumed.`);
    }
    if (over.includes(resource)) {
      if (resource === 'volumes') return quotaError(`Maximum number of volumes allowed (${quota}) exceeded for quota '${over}'.`);
      if (resource === 'snapshots') return quotaError(`Maximum number of snapshots allowed (${quota}) exceeded`);
      return quotaError(`Maximum number of backups allowed (${quota}) exceeded`);
    }
  }
  return quotaError(`Unexpected over quota on ${err.overs.join(', ')}.`);
}

/** Cinder's VolumeSizeExceedsLimit, for a volume bigger than `per_volume_gigabytes`. */
export function sizeExceedsLimit(size: number, limit: number): CinderError {
  return quotaError(`Requested volume size ${size}G is larger than maximum allowed limit ${limit}G.`);
}

/**
 * Runs `reserve`, turning an OverQuota into Cinder's 413 for `resource`.
 */
export async function reserveOrRefuse(reserve: () => Promise<void>, resource: 'volumes' | 'snapshots' | 'backups', size: number): Promise<void> {
  try {
    await reserve();
  } catch (err) {
    if (err instanceof OverQuota) throw overQuotaError(err, resource, size);
    throw err;
  }
}
