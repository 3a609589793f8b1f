import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logger.ts';

/**
 * Runs `step` until the cluster lets it through (a proxy starting beside us answers late), for
 * about two minutes; then its error. `what` names the service in the warning.
 */
export async function untilCluster<T>(what: string, step: () => Promise<T>, deps: { clock: Clock; logger: Logger }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= 60) throw err;
      if (attempt === 1 || attempt % 10 === 0) deps.logger.warn(`${what}: the cluster is not answering yet; retrying`, { attempt, err });
      await deps.clock.sleep(Math.min(2000, 200 * attempt));
    }
  }
}
