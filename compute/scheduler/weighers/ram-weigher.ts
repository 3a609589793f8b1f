import type { HostState } from '../host-state.ts';
import type { HostWeigher } from './host-weigher.ts';

/** Nova's host free RAM (`free_ram_mb`): total less the reserve and the instances' use. */
export function freeRamMiB(host: HostState): number {
  return host.total.memoryMiB - host.reserved.memoryMiB - host.used.memoryMiB;
}

/** Nova's RAMWeigher: more free RAM weighs more (`ram_weight_multiplier`, default 1.0: spread). */
export function ramWeigher(multiplier = 1.0): HostWeigher {
  return { name: 'RAMWeigher', multiplier, minval: 0, weigh: freeRamMiB };
}
