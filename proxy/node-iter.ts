import type { Device } from '../ring/device.ts';
import type { Ring } from '../ring/ring.ts';
import type { ErrorLimiter } from './error-limiter.ts';

/** A node to send to: a primary (with its replica index) or a handoff. */
export interface ProxyNode extends Device {
  /** Replica index for a primary; undefined for a handoff. */
  readonly index?: number;
  readonly handoff: boolean;
}

/**
 * The nodes to try for a partition, in order: primaries, then handoffs, at most
 * `requestNodeCount` in all (Swift's `request_node_count`, 2 × replicas), skipping nodes the
 * error limiter has benched. One iterator may be shared by parallel requests: each `next()`
 * hands a node to exactly one of them. `preferred` primaries come before the other primaries.
 */
export function* nodeIter(ring: Ring, partition: number, limiter: ErrorLimiter, requestNodeCount = 2 * ring.replicas, preferred?: (node: Device) => boolean): Generator<ProxyNode> {
  let given = 0;
  const primaries = ring.getPartNodes(partition);
  // Preferred primaries (a read's replicas on this machine) go first, the others keep their order.
  const ordered = preferred ? preferredFirst(primaries, preferred) : primaries;
  for (const node of ordered) {
    if (given >= requestNodeCount) return;
    if (limiter.isLimited(node)) continue;
    given++;
    yield { ...node, handoff: false };
  }
  for (const node of ring.moreNodes(partition)) {
    if (given >= requestNodeCount) return;
    if (limiter.isLimited(node)) continue;
    given++;
    yield { ...node, handoff: true };
  }
}

/** `nodes` with those `preferred` says yes to first, each group in its order; one call per node. */
function preferredFirst<T extends Device>(nodes: readonly T[], preferred: (node: Device) => boolean): T[] {
  const first: T[] = [];
  const rest: T[] = [];
  for (const node of nodes) (preferred(node) ? first : rest).push(node);
  return [...first, ...rest];
}
