import type { HostWeigher } from './host-weigher.ts';

/** Nova's DiskWeigher: more free disk weighs more (`free_disk_mb`; `disk_weight_multiplier`, default 1.0: spread). */
export function diskWeigher(multiplier = 1.0): HostWeigher {
  return { name: 'DiskWeigher', multiplier, minval: 0, weigh: (h) => (h.total.diskGiB - h.reserved.diskGiB - h.used.diskGiB) * 1024 };
}
