import type { Clock } from '../../common/clock.ts';
import { ManualClock } from './manual-clock.ts';

/** A CommandIo that keeps what a command prints. */
export function captureIo(clock: Clock = new ManualClock()): { out: (l: string) => void; err: (l: string) => void; clock: Clock; stdout: string[]; stderr: string[]; text(): string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    clock,
    stdout,
    stderr,
    text: () => stdout.join('\n'),
  };
}
