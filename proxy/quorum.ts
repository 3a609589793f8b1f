import { quorumSize } from '../common/quorum-size.ts';

/**
 * Swift's quorum rules, as pure functions (table-tested in test/unit/proxy/quorum.test.ts).
 * A status class (1xx, 2xx, 3xx, 4xx) wins when a quorum of replicas answered in it; 5xx never
 * wins, so a write whose replicas mostly failed is a 503.
 */

const CLASSES = [100, 200, 300, 400] as const;

/** Whether `statuses` already decide the outcome. */
export function haveQuorum(statuses: readonly number[], nodeCount: number, quorum = quorumSize(nodeCount)): boolean {
  if (statuses.length < quorum) return false;
  return CLASSES.some((hundred) => statuses.filter((s) => s >= hundred && s < hundred + 100).length >= quorum);
}

/**
 * Which response to return (Swift's `best_response`): in the first class that reached quorum,
 * the highest status (404 over 204 never happens: they are different classes; 409 over 404
 * does). `undefined` means no class reached quorum: answer 503.
 */
export function bestResponseIndex(statuses: readonly number[], quorum = quorumSize(statuses.length)): number | undefined {
  for (const hundred of CLASSES) {
    const inClass = statuses.filter((s) => s >= hundred && s < hundred + 100);
    if (inClass.length >= quorum) return statuses.indexOf(Math.max(...inClass));
  }
  return undefined;
}
