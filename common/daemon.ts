import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

export interface DaemonDeps {
  clock: Clock;
  logger: Logger;
}

/**
 * The base of every background daemon (replicators, auditors, updaters, expirer): a concrete
 * daemon only says what one pass does (`runOnce`) and how long to rest between passes.
 * `runForever` loops until `stop()`; a failing pass is logged and the loop goes on, as Swift's
 * daemons do. Tests and `swiftlet once` call `runOnce` directly.
 */
export abstract class Daemon {
  /** Name in logs and recon, e.g. `object-replicator`. */
  abstract readonly name: string;
  protected readonly clock: Clock;
  protected readonly logger: Logger;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(deps: DaemonDeps) {
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  /** One full pass. `signal` aborts when `stop()` is called mid-pass; honour it between steps. */
  abstract runOnce(signal?: AbortSignal): Promise<void>;

  /** Milliseconds from the start of one pass to the start of the next. */
  protected abstract intervalMs(): number;

  /** Starts the loop in the background. */
  start(): void {
    if (this.loop) return;
    this.controller = new AbortController();
    this.loop = this.runForever(this.controller.signal);
  }

  /** Runs passes until `signal` aborts. */
  async runForever(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const began = this.clock.monotonic();
      try {
        await this.runOnce(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.logger.error(`${this.name} pass failed`, { daemon: this.name, err });
      }
      const rest = Math.max(0, this.intervalMs() - (this.clock.monotonic() - began));
      try {
        await this.clock.sleep(rest, signal);
      } catch {
        break; // aborted while resting
      }
    }
  }

  /** Asks the loop to stop and waits for the current pass to end. */
  async stop(): Promise<void> {
    this.controller?.abort(new Error(`${this.name} stopping`));
    await this.loop;
    this.loop = undefined;
    this.controller = undefined;
  }
}
