/**
 * Swift's affinity settings (`swift/common/utils/config.py`), read as Swift reads them:
 * `read_affinity = r1z1=100, r1=200` ranks nodes by region and zone for reads, and
 * `write_affinity = r1, r2z1` says which nodes are local for writes.
 */

/** Where a node is: its region and zone in the ring. */
export interface Placed {
  readonly region: number;
  readonly zone: number;
}

/** Past every configured priority (Swift's 2^32, "a big number"). */
const UNRANKED = 4_294_967_296;

/**
 * `read_affinity`: a node's priority, lower first; a node no piece names is last. The pieces'
 * order does not matter, only their priorities; empty ranks every node alike.
 * @throws {Error} "Invalid affinity value: '...'" (Swift's words)
 */
export function readAffinityRank(text: string): (node: Placed) => number {
  const value = text.trim();
  if (value === '') return () => 0;
  const matchers = value.split(',').map((piece) => {
    const m = /^r(\d+)(?:z(\d+))?=(\d+)$/.exec(piece.trim());
    if (!m) throw new Error(`Invalid affinity value: '${value}'`);
    return { region: Number(m[1]), zone: m[2] === undefined ? undefined : Number(m[2]), priority: Number(m[3]) };
  });
  matchers.sort((a, b) => a.priority - b.priority);
  return (node) => {
    for (const m of matchers) if (m.region === node.region && (m.zone === undefined || m.zone === node.zone)) return m.priority;
    return UNRANKED;
  };
}

/**
 * `write_affinity`: whether a node is local; `undefined` when the setting is empty (no write
 * affinity: every write goes to the primaries first).
 * @throws {Error} "Invalid write-affinity value: '...'" (Swift's words)
 */
export function writeAffinityLocal(text: string): ((node: Placed) => boolean) | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  const matchers = value.split(',').map((piece) => {
    const m = /^r(\d+)(?:z(\d+))?$/.exec(piece.trim());
    if (!m) throw new Error(`Invalid write-affinity value: '${value}'`);
    return { region: Number(m[1]), zone: m[2] === undefined ? undefined : Number(m[2]) };
  });
  return (node) => matchers.some((m) => m.region === node.region && (m.zone === undefined || m.zone === node.zone));
}

/**
 * `write_affinity_node_count`: `N` or `N * replicas` (Swift's default `2 * replicas`), as a
 * function of the ring's replica count.
 * @throws {Error} "Invalid write_affinity_node_count value: '...'" (Swift's words)
 */
export function writeAffinityNodeCount(text: string): (replicas: number) => number {
  const words = text.trim().toLowerCase().split(/\s+/);
  const n = /^\d+$/.test(words[0] ?? '') ? Number(words[0]) : Number.NaN;
  if (words.length === 1 && Number.isSafeInteger(n)) return () => n;
  if (words.length === 3 && words[1] === '*' && words[2] === 'replicas' && Number.isSafeInteger(n)) return (replicas) => n * replicas;
  throw new Error(`Invalid write_affinity_node_count value: '${words.join(' ')}'`);
}
