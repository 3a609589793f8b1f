/**
 * Where a latency tail can come from inside a process, in numbers that a busy machine bends
 * less than a p99: V8's garbage-collection pauses (each one stops the process's event loop)
 * and the event loop's own delay. A preload: every process of a cluster started under it
 * records both and writes one JSON file per process (`<dir>/<pid>.json`) every 5 s and at exit.
 *
 *   PAUSES_DIR=/tmp/pauses NODE_OPTIONS="--import $PWD/bench/pauses.ts" npm run bench:write-cost -- ...
 *   kill -USR2 <pids>          # start counting afresh (before the phase to look at)
 *   node bench/pauses.ts /tmp/pauses     # one line per process
 *
 * A pause is wall time: on a machine shared with other work it includes the time the
 * collector's thread waited for a core, so compare counts and totals between runs of one
 * sitting, not with a quiet hour's.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, type EventLoopUtilization, monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver, performance } from 'node:perf_hooks';

interface Pauses {
  readonly pid: number;
  readonly role: string;
  /** Seconds counted (since start, or since the last SIGUSR2). */
  readonly seconds: number;
  /** Event-loop delay percentiles, ms (sampled every 5 ms). */
  readonly loopDelayMs: { p50: number; p90: number; p99: number; max: number };
  /** The loop's busy share over the time counted. */
  readonly loopUtilization: number;
  /** Collections by kind: count, total ms, longest ms. */
  readonly gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  /** The ten longest pauses: [ms since counting began, ms, kind]. */
  readonly longest: [number, number, string][];
}

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

function record(dir: string): void {
  mkdirSync(dir, { recursive: true });
  let since = performance.now();
  let utilization: EventLoopUtilization = performance.eventLoopUtilization();
  let pauses: [number, number, string][] = [];
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = KINDS[(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      pauses.push([Math.round(e.startTime - since), Math.round(e.duration * 100) / 100, kind]);
    }
  }).observe({ entryTypes: ['gc'] });
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const write = (): void => {
    const gc: Pauses['gc'] = {};
    for (const [, d, kind] of pauses) {
      const k = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      k.count += 1;
      k.totalMs = Math.round((k.totalMs + d) * 100) / 100;
      k.maxMs = Math.max(k.maxMs, d);
    }
    const out: Pauses = {
      pid: process.pid,
      role: process.argv.slice(2, 4).join(' '),
      seconds: Math.round(performance.now() - since) / 1000,
      loopDelayMs: { p50: ms(delay.percentile(50)), p90: ms(delay.percentile(90)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      loopUtilization: Math.round(performance.eventLoopUtilization(utilization).utilization * 1000) / 1000,
      gc,
      longest: [...pauses].sort((a, b) => b[1] - a[1]).slice(0, 10),
    };
    writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(out)}\n`);
  };
  process.on('SIGUSR2', () => {
    since = performance.now();
    utilization = performance.eventLoopUtilization();
    pauses = [];
    delay.reset();
  });
  setInterval(write, 5000).unref();
  process.on('exit', write);
}

function summary(dir: string): void {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const p = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Pauses;
    const gc = Object.entries(p.gc)
      .map(([k, v]) => `${k} ${v.count}x ${v.totalMs.toFixed(0)} ms (max ${v.maxMs.toFixed(1)})`)
      .join(', ');
    console.log(`${String(p.pid).padEnd(8)} ${p.role.padEnd(16)} ${p.seconds.toFixed(0)} s  loop busy ${(p.loopUtilization * 100).toFixed(0)}%  delay p50/p99/max ${p.loopDelayMs.p50}/${p.loopDelayMs.p99}/${p.loopDelayMs.max} ms  gc: ${gc}`);
  }
}

if (import.meta.main) summary(process.argv[2] ?? '/tmp/pauses');
else record(process.env['PAUSES_DIR'] ?? '/tmp/pauses');
