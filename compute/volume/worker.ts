import type { Logger } from '../../common/logger.ts';

/**
 * The volume service's background work (Cinder's volume and backup managers, in process for
 * now): the API answers 202 at once and a task moves the resource through its statuses.
 * `idle()` resolves when every task started so far has ended, for tests and a clean stop.
 * A task's error is its own business (it records `error` statuses); one that escapes is logged.
 */
export class VolumeWorker {
  private readonly running = new Set<Promise<void>>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  start(name: string, task: () => Promise<void>): void {
    const p: Promise<void> = task()
      .catch((err: unknown) => this.logger.error('volume task failed', { task: name, err }))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
