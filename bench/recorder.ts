import { OPS, type OpName } from './scenario.ts';

/** One round on a recorder's timeline, in ms: warm-up `[from, measureFrom)`, measured `[measureFrom, to)`. */
export interface RoundWindow {
  readonly from: number;
  readonly measureFrom: number;
  to: number;
}

/** The samples of one operation, successes and failures apart. */
export class OpSamples {
  count = 0;
  start = new Float64Array(1024);
  latency = new Float64Array(1024);
  bytes = new Float64Array(1024);
  errorCount = 0;
  errorTime = new Float64Array(64);
  readonly errorKey: string[] = [];

  /** Appends a success: start on the timeline (ms), latency (ms), body bytes. */
  push(start: number, latency: number, bytes: number): void {
    if (this.count === this.start.length) {
      this.start = grow(this.start);
      this.latency = grow(this.latency);
      this.bytes = grow(this.bytes);
    }
    this.start[this.count] = start;
    this.latency[this.count] = latency;
    this.bytes[this.count] = bytes;
    this.count++;
  }

  /** Appends a failure: start on the timeline (ms) and its reason. */
  pushError(time: number, key: string): void {
    if (this.errorCount === this.errorTime.length) this.errorTime = grow(this.errorTime);
    this.errorTime[this.errorCount] = time;
    this.errorKey.push(key);
    this.errorCount++;
  }
}

function grow(a: Float64Array): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(a.length * 2);
  bigger.set(a);
  return bigger;
}

/**
 * Everything measured against one target, sample by sample. Each finished request is one
 * sample: when it started, how long it took (send to last byte, in ms) and how many body bytes
 * it moved; failed requests are kept apart with their reason (`503`, `ECONNRESET`,
 * `md5-mismatch`). Samples live in typed arrays that double as they fill, so recording does
 * not allocate per request and millions of samples cost 24 bytes each.
 *
 * Time is a timeline of its own, in ms: rounds run back to back on it even when, in
 * `--compare` mode, another target's round ran in between, so charts show measured time only.
 * A round is `[from, measureFrom)` of warm-up, then `[measureFrom, to)` measured; a sample
 * counts in the results when it *started* in a measured window.
 */
export class Recorder {
  readonly ops: Readonly<Record<OpName, OpSamples>>;
  readonly rounds: RoundWindow[] = [];
  /** Monotonic ms that timeline 0 corresponds to, for the round in progress. */
  private base = 0;
  private cursor = 0;
  /** Running totals for the progress line (all samples, warm-up included). */
  totalOps = 0;
  totalErrors = 0;
  totalBytes = 0;
  /** Operations not sent because there was no object to read or delete, by operation. */
  readonly skipped: Record<OpName, number> = { PUT: 0, GET: 0, HEAD: 0, DELETE: 0, LIST: 0 };

  constructor() {
    const ops = {} as Record<OpName, OpSamples>;
    for (const op of OPS) ops[op] = new OpSamples();
    this.ops = ops;
  }

  /** Starts a round at monotonic time `mono`, continuing the timeline where the last one ended. */
  startRound(mono: number, warmupMs: number): void {
    this.base = mono - this.cursor;
    this.rounds.push({ from: this.cursor, measureFrom: this.cursor + warmupMs, to: Number.POSITIVE_INFINITY });
  }

  /** Ends the current round at monotonic time `mono` (when its last request finished). */
  endRound(mono: number): void {
    const round = this.rounds.at(-1);
    if (!round) return;
    round.to = Math.max(round.measureFrom, mono - this.base);
    this.cursor = round.to;
  }

  /** Timeline ms for monotonic time `mono` in the current round. */
  at(mono: number): number {
    return mono - this.base;
  }

  /** Where the timeline ends (the end of the last finished round). */
  get end(): number {
    return this.cursor;
  }

  /** Records a successful request that started at monotonic `startMono` and ended at `endMono`. */
  record(op: OpName, startMono: number, endMono: number, bytes: number): void {
    this.ops[op].push(startMono - this.base, endMono - startMono, bytes);
    this.totalOps++;
    this.totalBytes += bytes;
  }

  /** Records a failed request; `key` is its status (`"503"`) or failure (`"ECONNRESET"`). */
  recordError(op: OpName, startMono: number, key: string): void {
    this.ops[op].pushError(startMono - this.base, key);
    this.totalErrors++;
  }

  /** Whether timeline time `t` is inside a measured window. */
  measured(t: number): boolean {
    for (const r of this.rounds) if (t >= r.measureFrom && t < r.to) return true;
    return false;
  }

  /** Total measured seconds over all rounds. */
  get measuredSeconds(): number {
    return this.rounds.reduce((sum, r) => sum + Math.max(0, (Number.isFinite(r.to) ? r.to : this.cursor) - r.measureFrom), 0) / 1000;
  }
}
