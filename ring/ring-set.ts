import { join } from 'node:path';
import type { Clock } from '../common/clock.ts';
import type { HashPath } from '../common/hash-path.ts';
import { Ring } from './ring.ts';

/** The three rings of a cluster. */
export interface RingSet {
  readonly account: Ring;
  readonly container: Ring;
  readonly object: Ring;
}

/** Loads `account.ring.gz`, `container.ring.gz` and `object.ring.gz` from `swiftDir`. @throws {RingError} */
export function loadRingSet(swiftDir: string, hashPath: HashPath, clock: Clock): RingSet {
  const load = (name: string): Ring => Ring.load(join(swiftDir, `${name}.ring.gz`), hashPath, { clock });
  return { account: load('account'), container: load('container'), object: load('object') };
}
