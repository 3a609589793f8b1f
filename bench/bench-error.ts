import { SwiftError } from '../common/errors.ts';

/**
 * Errors of the benchmark harness. The CLI maps `BENCH_USAGE` and `BENCH_SCENARIO_INVALID` to
 * exit code 2 (the command line or the file is wrong) and every other code to 1 (the run
 * itself could not go on: authentication refused, endpoint unreachable, setup failed).
 */
export type BenchErrorCode = 'BENCH_USAGE' | 'BENCH_SCENARIO_INVALID' | 'BENCH_AUTH_FAILED' | 'BENCH_SETUP_FAILED' | 'BENCH_REQUEST_FAILED';

/** A failure of the harness itself, with a stable `code`. */
export class BenchError extends SwiftError {
  declare readonly code: BenchErrorCode;

  constructor(code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A scenario file or an override flag has a bad value. `field` is the dotted path inside the
 * scenario (`sizes[1].weight`), `source` the file (or `--flag`) it came from.
 */
export class ScenarioError extends BenchError {
  readonly field: string;
  readonly value: unknown;
  readonly source: string;
  /** What is wrong, without the source, field and value. */
  readonly problem: string;

  constructor(source: string, field: string, value: unknown, problem: string) {
    const shown = value === undefined ? '' : ` = ${shortJson(value)}`;
    super('BENCH_SCENARIO_INVALID', `${source}: ${field}${shown}: ${problem}`);
    this.field = field;
    this.value = value;
    this.source = source;
    this.problem = problem;
  }
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
