import { performance } from 'node:perf_hooks';
import type { Credentials } from './auth.ts';
import { BodySource } from './body-source.ts';
import { roundOrder } from './compare.ts';
import { every, formatProgress } from './progress.ts';
import { OPS, type OpName, type Scenario } from './scenario.ts';
import { cleanupTarget, prepareTarget } from './setup.ts';
import { pickIndex } from './sizes.ts';
import { RequestFailed, type SwiftResponse } from './swift-client.ts';
import { type BenchDeps, openTarget, type Target, type TargetOptions } from './target.ts';

/** How a round runs. */
export interface RoundOptions {
  /** GETs hash the body and compare it with the ETag and with what was written. */
  readonly verify: boolean;
  /** Shown in the progress line, e.g. `round 2/4`. */
  readonly phase: string;
}

interface Worker {
  /** Where each container's listing goes on from (the last name of the previous page). */
  readonly markers: Map<string, string>;
  listTurn: number;
}

function ok(status: number): boolean {
  return status >= 200 && status < 300;
}

function unquote(etag: string | string[] | undefined): string | undefined {
  const v = Array.isArray(etag) ? etag[0] : etag;
  return v?.replace(/^"|"$/g, '');
}

/** Sends one operation for a worker and records it. */
async function execute(op: OpName, target: Target, scenario: Scenario, bodies: BodySource, worker: Worker, options: RoundOptions, deps: BenchDeps): Promise<void> {
  const { client, recorder, objects, containers } = target;
  const random = deps.random;
  let start = 0;
  const send = async (request: Parameters<typeof client.request>[0]): Promise<SwiftResponse | undefined> => {
    start = deps.clock.monotonic();
    try {
      const res = await client.request(request);
      if (res.status === 401) void target.refreshToken();
      return res;
    } catch (err) {
      if (!(err instanceof RequestFailed)) throw err;
      recorder.recordError(op, start, err.code);
      return undefined;
    }
  };
  switch (op) {
    case 'PUT': {
      const container = containers[Math.floor(random() * containers.length)] as string;
      const name = `${target.runId}/${target.seq++}`;
      const size = scenario.sizes.pick(random);
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(size) };
      if (options.verify) headers['etag'] = bodies.md5(size);
      const res = await send({ method: 'PUT', path: `${container}/${name}`, headers, body: bodies.body(size) });
      if (!res) return;
      if (!ok(res.status)) return recorder.recordError(op, start, String(res.status));
      recorder.record(op, start, res.endMono, size);
      objects.add(container, name, size);
      return;
    }
    case 'GET':
    case 'HEAD': {
      const o = objects.pickForRead(random);
      if (!o) return skip(op, target, deps);
      try {
        const res = await send({ method: op, path: `${o.container}/${o.name}`, mode: op === 'GET' && options.verify ? 'md5' : 'count' });
        if (!res) return;
        if (!ok(res.status)) return recorder.recordError(op, start, String(res.status));
        if (op === 'GET') {
          if (res.bytes !== o.size) return recorder.recordError(op, start, 'size-mismatch');
          if (options.verify) {
            const expected = bodies.md5(o.size);
            const etag = unquote(res.headers['etag']);
            if (res.md5 !== expected) return recorder.recordError(op, start, 'md5-mismatch');
            if (etag !== undefined && etag !== expected) return recorder.recordError(op, start, 'etag-mismatch');
          }
        }
        recorder.record(op, start, res.endMono, res.bytes);
      } finally {
        objects.release(o);
      }
      return;
    }
    case 'DELETE': {
      const o = objects.takeForDelete(random);
      if (!o) return skip(op, target, deps);
      const res = await send({ method: 'DELETE', path: `${o.container}/${o.name}` });
      if (!res) return objects.restore(o);
      if (!ok(res.status)) {
        if (res.status !== 404) objects.restore(o);
        return recorder.recordError(op, start, String(res.status));
      }
      recorder.record(op, start, res.endMono, 0);
      return;
    }
    case 'LIST': {
      const container = containers[worker.listTurn++ % containers.length] as string;
      const marker = worker.markers.get(container) ?? '';
      const limit = scenario.listing.pageSize;
      const res = await send({ method: 'GET', path: container, query: `limit=${limit}${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`, mode: 'lines' });
      if (!res) return;
      if (!ok(res.status)) return recorder.recordError(op, start, String(res.status));
      // A short page is the end of the container: the next listing starts over.
      worker.markers.set(container, (res.lines ?? 0) >= limit ? (res.lastLine ?? '') : '');
      recorder.record(op, start, res.endMono, res.bytes);
      return;
    }
  }
}

async function skip(op: OpName, target: Target, deps: BenchDeps): Promise<void> {
  target.recorder.skipped[op]++;
  // Yield to the event loop so a worker with nothing to read does not spin synchronously.
  await deps.clock.sleep(1);
}

/**
 * The measured part of a run. `concurrency` workers each loop: pick an operation by the mix's
 * weights, send it, wait for the last byte, record it, repeat (a closed loop, as ssbench and
 * swift-bench do: the offered load is what the endpoint can absorb at that concurrency). A
 * round ends when its duration has passed or its operation count has been issued; requests
 * in flight then finish and are counted, and the round's measured time runs to the last one.
 *
 * Runs one round against one target: warm-up, then the measured part.
 */
export async function runRound(target: Target, scenario: Scenario, bodies: BodySource, options: RoundOptions, deps: BenchDeps): Promise<void> {
  const { clock } = deps;
  const weights = new Float64Array(OPS.length);
  let total = 0;
  OPS.forEach((op, i) => {
    total += scenario.mix[op];
    weights[i] = total;
  });
  const recorder = target.recorder;
  const warmupMs = scenario.warmupSeconds * 1000;
  const startMono = clock.monotonic();
  const measureFrom = startMono + warmupMs;
  const deadline = scenario.durationSeconds === null ? Number.POSITIVE_INFINITY : measureFrom + scenario.durationSeconds * 1000;
  const count = scenario.count;
  let issued = 0;
  recorder.startRound(startMono, warmupMs);
  const cpu0 = process.threadCpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const ops0 = recorder.totalOps;
  const errors0 = recorder.totalErrors;
  const bytes0 = recorder.totalBytes;
  let lastOps = ops0;
  let lastTick = startMono;
  const stopTicker = every(clock, 1000, () => {
    const now = clock.monotonic();
    const elapsed = (now - startMono) / 1000;
    const warming = now < measureFrom;
    deps.progress.update(
      formatProgress({
        label: target.label,
        phase: warming ? 'warm-up' : options.phase,
        elapsedSeconds: elapsed,
        totalSeconds: scenario.durationSeconds === null ? null : scenario.durationSeconds + scenario.warmupSeconds,
        // With a count, show how many of the counted operations have been sent.
        ops: count === null || warming ? recorder.totalOps - ops0 : Math.min(issued, count),
        totalOps: warming ? null : count,
        errors: recorder.totalErrors - errors0,
        opsPerSec: (recorder.totalOps - ops0) / Math.max(1e-3, elapsed),
        recentOpsPerSec: (recorder.totalOps - lastOps) / Math.max(1e-3, (now - lastTick) / 1000),
        mbPerSec: (recorder.totalBytes - bytes0) / 1e6 / Math.max(1e-3, elapsed),
      }),
    );
    lastOps = recorder.totalOps;
    lastTick = now;
  });
  const runWorker = async (): Promise<void> => {
    const worker: Worker = { markers: new Map(), listTurn: Math.floor(deps.random() * target.containers.length) };
    for (;;) {
      const now = clock.monotonic();
      if (now >= deadline || deps.stop?.aborted) return;
      if (count !== null && now >= measureFrom && issued++ >= count) return;
      const op = OPS[pickIndex(weights, total, deps.random())] as OpName;
      await execute(op, target, scenario, bodies, worker, options, deps);
    }
  };
  try {
    await Promise.all(Array.from({ length: scenario.concurrency }, runWorker));
  } finally {
    stopTicker();
  }
  const endMono = clock.monotonic();
  recorder.endRound(endMono);
  const cpu = process.threadCpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  target.clientLoad.cpuMs += (cpu.user + cpu.system) / 1000;
  target.clientLoad.wallMs += endMono - startMono;
  target.clientLoad.eluActive += elu.active;
  target.clientLoad.eluTotal += elu.idle + elu.active;
  const seconds = (endMono - startMono) / 1000;
  deps.progress.done(
    formatProgress({
      label: target.label,
      phase: `${options.phase} done`,
      elapsedSeconds: seconds,
      totalSeconds: null,
      ops: recorder.totalOps - ops0,
      totalOps: null,
      errors: recorder.totalErrors - errors0,
      opsPerSec: (recorder.totalOps - ops0) / Math.max(1e-3, seconds),
      recentOpsPerSec: (recorder.totalOps - lastOps) / Math.max(1e-3, (endMono - lastTick) / 1000),
      mbPerSec: (recorder.totalBytes - bytes0) / 1e6 / Math.max(1e-3, seconds),
    }),
  );
}

/** One endpoint to run against. */
export interface TargetSpec {
  readonly label: string;
  readonly credentials: Credentials;
}

export interface BenchmarkOptions extends TargetOptions {
  readonly verify: boolean;
  /** Rounds per target; with two targets they alternate A, B, A, B... */
  readonly rounds: number;
}

export interface BenchmarkRun {
  readonly targets: readonly Target[];
  /** Wall-clock ms (clock.now) when the run started and ended. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/**
 * A whole run: authenticate every target, prepare them, run the rounds (alternating between
 * targets), clean up.
 * @throws {BenchError} when auth or setup fails; cleanup and closing happen regardless.
 */
export async function runBenchmark(scenario: Scenario, specs: readonly TargetSpec[], options: BenchmarkOptions, deps: BenchDeps): Promise<BenchmarkRun> {
  const startedAt = deps.clock.now();
  const bodies = new BodySource(scenario.sizes.maxSize);
  const targets: Target[] = [];
  const prepared: Target[] = [];
  try {
    for (const spec of specs) targets.push(await openTarget(spec.label, spec.credentials, scenario, options, deps));
    for (const target of targets) {
      prepared.push(target);
      await prepareTarget(target, scenario, bodies, options.verify, deps);
    }
    const order = roundOrder(targets.length, options.rounds);
    const perTarget = new Map<number, number>();
    for (const t of order) {
      if (deps.stop?.aborted) break;
      const n = (perTarget.get(t) ?? 0) + 1;
      perTarget.set(t, n);
      const phase = options.rounds > 1 ? `round ${n}/${options.rounds}` : 'run';
      await runRound(targets[t] as Target, scenario, bodies, { verify: options.verify, phase }, deps);
    }
  } finally {
    for (const target of prepared) {
      await cleanupTarget(target, scenario, deps).catch((err: unknown) => deps.log(`[${target.label}] cleanup failed: ${(err as Error).message}`));
    }
    for (const target of targets) await target.client.close();
  }
  return { targets, startedAt, finishedAt: deps.clock.now() };
}
