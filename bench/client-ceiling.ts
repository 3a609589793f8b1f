/**
 * The harness's own ceiling: small GETs, small PUTs and 1 MiB objects against an in-process
 * server that answers at once (the same as `swiftlet bench --selftest`).
 *
 *   npm run bench:ceiling [-- --duration 5 --concurrency 64]
 *
 * Numbers are for notes, never asserted by tests.
 */
import { splitArgs } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { runBenchCommand } from './cli.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['duration', 'concurrency']));
const args = ['--selftest', ...[...flags].flatMap(([k, v]) => [`--${k}`, v])];
process.exitCode = await runBenchCommand(args, {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  progress: process.stderr,
  clock: systemClock,
});
