import type { Device } from '../ring/device.ts';
import type { Ring, RingNode } from '../ring/ring.ts';
import type { ErrorLimiter } from './error-limiter.ts';

/** A node to send to: a primary (with its replica index) or a handoff. */
export interface ProxyNode extends Device {
  /** Replica index for a primary; undefined for a handoff. */
  readonly index?: number;
  readonly handoff: boolean;
}

export interface NodeIterOptions {
  /** At most this many nodes in all (Swift's `request_node_count`, 2 × replicas). */
  readonly requestNodeCount?: number;
  /** The primaries in the order to ask them (a read's `sort_nodes`); ring order without it. */
  readonly sort?: <T extends Device>(primaries: readonly T[]) => T[];
  /** Primaries this says yes to (a read's replicas on this machine) before the others. */
  readonly preferred?: (node: Device) => boolean;
  /** Every node to try, in order, in place of primaries then handoffs (a write's local nodes first). */
  readonly order?: Iterable<Device>;
}

/**
 * The nodes to try for a partition, in order: primaries, then handoffs, at most
 * `requestNodeCount` in all, skipping nodes the error limiter has benched. One iterator may be
 * shared by parallel requests: each `next()` hands a node to exactly one of them.
 */
export function* nodeIter(ring: Ring, partition: number, limiter: ErrorLimiter, options: NodeIterOptions = {}): Generator<ProxyNode> {
  const requestNodeCount = options.requestNodeCount ?? 2 * ring.replicas;
  const primaries = ring.getPartNodes(partition);
  let given = 0;
  for (const node of options.order ?? primariesThenHandoffs(ring, partition, primaries, options)) {
    if (given >= requestNodeCount) return;
    if (limiter.isLimited(node)) continue;
    given++;
    const primary = primaries.find((p) => p.id === node.id);
    yield primary ? { ...node, index: primary.index, handoff: false } : { ...node, handoff: true };
  }
}

/** The primaries, sorted and then `preferred` ones first, then the handoffs. */
function* primariesThenHandoffs(ring: Ring, partition: number, primaries: readonly RingNode[], options: NodeIterOptions): Generator<Device> {
  const sorted = options.sort ? options.sort(primaries) : primaries;
  yield* options.preferred ? preferredFirst(sorted, options.preferred) : sorted;
  yield* ring.moreNodes(partition);
}

/** `nodes` with those `preferred` says yes to first, each group in its order; one call per node. */
function preferredFirst<T extends Device>(nodes: readonly T[], preferred: (node: Device) => boolean): T[] {
  const first: T[] = [];
  const rest: T[] = [];
  for (const node of nodes) (preferred(node) ? first : rest).push(node);
  return [...first, ...rest];
}
