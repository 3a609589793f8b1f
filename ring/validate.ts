import type { Device } from './device.ts';
import { NONE_DEV } from './rebalance.ts';

/**
 * Problems in a partition table, in words (empty when it is sound): replicas with no device,
 * devices that do not exist, and one device holding two replicas of a partition although
 * there are enough devices to keep them apart.
 */
export function validateTable(devices: readonly (Device | null)[], table: readonly Uint16Array[], replicas: number, partPower: number): string[] {
  const problems: string[] = [];
  const parts = 2 ** partPower;
  if (table.length !== replicas) problems.push(`table has ${table.length} replica rows, expected ${replicas}`);
  const live = devices.filter((d): d is Device => d !== null);
  const withWeight = live.filter((d) => d.weight > 0).length;
  let unassigned = 0;
  let missing = 0;
  let doubled = 0;
  for (const row of table) if (row.length !== parts) problems.push(`a replica row has ${row.length} partitions, expected ${parts}`);
  const seen = new Set<number>();
  for (let p = 0; p < parts; p++) {
    seen.clear();
    for (const row of table) {
      const id = row[p];
      if (id === undefined) continue;
      if (id === NONE_DEV) {
        unassigned++;
        continue;
      }
      if (!devices[id]) missing++;
      if (seen.has(id)) doubled++;
      seen.add(id);
    }
  }
  if (unassigned) problems.push(`${unassigned} replica assignments have no device`);
  if (missing) problems.push(`${missing} replica assignments name a device that does not exist`);
  if (doubled && withWeight >= replicas) problems.push(`${doubled} partitions have two replicas on one device`);
  return problems;
}
