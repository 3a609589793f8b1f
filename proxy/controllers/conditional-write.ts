import { BACKEND_IF_MATCH } from '../../common/system-account.ts';
import { type BackendDeps, type BackendReply, firstWorkingNode, makeRequests, type Target } from '../backend-requests.ts';
import { nodeIter } from '../node-iter.ts';
import { bestResponseIndex } from '../quorum.ts';
import { quorumSize } from '../../common/quorum-size.ts';

/** The conditions a system account's write may carry (see `isConditionalWrite`). */
const CONDITIONS = ['if-none-match', BACKEND_IF_MATCH];

/** Whether a system account's write carries a condition (`If-None-Match`, `If-Match`). */
export function isConditionalWrite(headers: Readonly<Record<string, string>>): boolean {
  return CONDITIONS.some((name) => headers[name] !== undefined);
}

/**
 * A conditional write to a system account (a record's create-if-absent or compare-and-swap),
 * decided by one replica: the first node that answers (the first primary when it is up) checks
 * the condition and writes under its per-object lock; only when it accepted do the other slots
 * get the same write, with the same timestamp and without the condition. Sent to every replica
 * at once, two writers could each win on one replica and lose on the others, so that neither
 * succeeds while the replicas hold three different versions (the newest of which replication
 * would then spread); with one judge, exactly one of them wins. The answer is the quorum's, as
 * for any write. What is left: a leader that missed the newest version (it was down) judges by
 * what it has until replication catches it up (docs/decisions.md, "Records in the cluster").
 */
export async function conditionalWrite(deps: BackendDeps, target: Target, request: { method: 'PUT' | 'DELETE'; headersPerSlot: readonly Record<string, string>[]; body?: Buffer }, signal: AbortSignal): Promise<BackendReply> {
  // Ring order whatever sorting_method and write_affinity say: every writer must find the same judge.
  const nodes = nodeIter(target.ring, target.partition, deps.limiter);
  const [leaderHeaders, ...followerHeaders] = request.headersPerSlot;
  if (leaderHeaders === undefined) return { status: 503, headers: {}, body: Buffer.alloc(0) };
  const decided = await firstWorkingNode(deps, nodes, target, { method: request.method, headers: leaderHeaders, ...(request.body ? { body: request.body } : {}) }, signal);
  if (decided.status < 200 || decided.status >= 300 || followerHeaders.length === 0) return decided;
  const unconditional = followerHeaders.map((headers) => {
    const copy = { ...headers };
    for (const name of CONDITIONS) delete copy[name];
    return copy;
  });
  const { replies } = await makeRequests(deps, target, { method: request.method, headersPerSlot: unconditional, ...(request.body ? { body: request.body } : {}) }, signal, nodes);
  const all = [decided, ...replies];
  const index = bestResponseIndex(all.map((r) => r.status), quorumSize(request.headersPerSlot.length));
  if (index === undefined) {
    deps.logger.error('conditional write returning 503: no quorum after the leader accepted', { method: request.method, names: target.names.join('/'), statuses: all.map((r) => r.status).join(',') });
    return { status: 503, headers: {}, body: Buffer.alloc(0) };
  }
  return all[index] as BackendReply;
}
