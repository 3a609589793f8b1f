import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

export interface DaemonDeps {
  clock: Clock;
  logger: Logger;
}

/** What a daemon reports to recon: its passes, and the counts of its last complete pass. */
export interface DaemonReport {
  readonly name: string;
  readonly passes: number;
  /** Wall-clock ms when the last complete pass started. */
  readonly lastPassStartedAt?: number;
  readonly lastPassMs?: number;
  /** The daemon's own counts for that pass (objects replicated, pendings sent, ...). */
  readonly lastPass: Readonly<Record<string, number>>;
  readonly lastError?: string;
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
  /** Counts of the pass in progress; a daemon adds to them with `count()`. */
  private current: Record<string, number> = {};
  private report: Omit<DaemonReport, 'name'> = { passes: 0, lastPass: {} };

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

  /**
   * One pass with its bookkeeping: counts and timing for recon, a log line at the end. This is
   * what the loop and `swiftlet once` run; a failure is recorded and thrown.
   */
  async runPass(signal?: AbortSignal): Promise<void> {
    const startedAt = this.clock.now();
    const began = this.clock.monotonic();
    this.current = {};
    try {
      await this.runOnce(signal);
    } catch (err) {
      this.report = { ...this.report, lastError: (err as Error).message };
      throw err;
    }
    const ms = Math.round(this.clock.monotonic() - began);
    this.report = { passes: this.report.passes + 1, lastPassStartedAt: startedAt, lastPassMs: ms, lastPass: this.current };
    this.logger.info(`${this.name} pass done`, { daemon: this.name, ms, ...this.current });
  }

  /** Adds to a count of the pass in progress (shown in recon as `lastPass`). */
  protected count(name: string, by = 1): void {
    this.current[name] = (this.current[name] ?? 0) + by;
  }

  /** This daemon's recon report. */
  recon(): DaemonReport {
    return { name: this.name, ...this.report };
  }

  /** Runs passes until `signal` aborts. */
  async runForever(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const began = this.clock.monotonic();
      try {
        await this.runPass(signal);
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
