/** A majority of `nodeCount` replicas (Swift's `quorum_size`): 2 of 3, 3 of 5, 1 of 1. */
export function quorumSize(nodeCount: number): number {
  return Math.floor(nodeCount / 2) + 1;
}
