import type { Clock } from '../common/clock.ts';

/**
 * The live progress line on stderr. On a terminal it is rewritten in place every second; when
 * stderr is a file or pipe (CI logs) a full line is written every `logEveryMs` instead, so logs
 * stay readable.
 */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressSnapshot {
  /** `A`, `B`, or the target's name. */
  readonly label: string;
  /** `warm-up`, `run`, `round 2/4`, `prefill`, `fill`... */
  readonly phase: string;
  readonly elapsedSeconds: number;
  /** Planned seconds, when the round has a duration. */
  readonly totalSeconds: number | null;
  readonly ops: number;
  /** Planned operations, when the round has a count. */
  readonly totalOps: number | null;
  readonly errors: number;
  /** Average since the phase began. */
  readonly opsPerSec: number;
  /** Over the last second. */
  readonly recentOpsPerSec: number;
  readonly mbPerSec: number;
}

/** One progress line, e.g. `[A run] 12s/30s  41,230 ops  3,436 ops/s (now 3,502)  13.4 MB/s  0 errors`. */
export function formatProgress(s: ProgressSnapshot): string {
  const time = s.totalSeconds === null ? `${s.elapsedSeconds.toFixed(0)}s` : `${s.elapsedSeconds.toFixed(0)}s/${s.totalSeconds.toFixed(0)}s`;
  const ops = s.totalOps === null ? `${int(s.ops)} ops` : `${int(s.ops)}/${int(s.totalOps)} ops`;
  return `[${s.label} ${s.phase}] ${time}  ${ops}  ${int(s.opsPerSec)} ops/s (now ${int(s.recentOpsPerSec)})  ${s.mbPerSec.toFixed(1)} MB/s  ${int(s.errors)} error${s.errors === 1 ? '' : 's'}`;
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export class ProgressLine {
  private readonly stream: ProgressStream;
  private readonly clock: Clock;
  private readonly logEveryMs: number;
  private lastLogged = Number.NEGATIVE_INFINITY;
  private shown = false;

  constructor(stream: ProgressStream, clock: Clock, logEveryMs = 5000) {
    this.stream = stream;
    this.clock = clock;
    this.logEveryMs = logEveryMs;
  }

  /** Shows `text` (in place on a TTY; at most every `logEveryMs` otherwise). */
  update(text: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\u001b[2K${text}`);
      this.shown = true;
      return;
    }
    const now = this.clock.monotonic();
    if (now - this.lastLogged < this.logEveryMs) return;
    this.lastLogged = now;
    this.stream.write(`${text}\n`);
  }

  /** Clears the line on a TTY so another message can be written (the next update redraws it). */
  clear(): void {
    if (this.stream.isTTY && this.shown) {
      this.stream.write('\r\u001b[2K');
      this.shown = false;
    }
  }

  /** Ends the line: on a TTY the last text stays, followed by a newline; elsewhere `text` is logged. */
  done(text?: string): void {
    if (this.stream.isTTY) {
      if (text !== undefined) this.stream.write(`\r\u001b[2K${text}`);
      if (this.shown || text !== undefined) this.stream.write('\n');
      this.shown = false;
    } else if (text !== undefined) this.stream.write(`${text}\n`);
    this.lastLogged = Number.NEGATIVE_INFINITY;
  }
}

/**
 * Calls `tick` every `ms` until the returned function is called (which does not call `tick`
 * again). Time comes from `clock.sleep`, so tests can drive it.
 */
export function every(clock: Clock, ms: number, tick: () => void): () => void {
  const controller = new AbortController();
  void (async () => {
    for (;;) {
      try {
        await clock.sleep(ms, controller.signal);
      } catch {
        return;
      }
      if (controller.signal.aborted) return;
      tick();
    }
  })();
  return () => controller.abort();
}
