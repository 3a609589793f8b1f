import { BenchError } from './bench-error.ts';
import type { BodySource } from './body-source.ts';
import { every } from './progress.ts';
import type { Scenario } from './scenario.ts';
import { type SwiftClient, RequestFailed } from './swift-client.ts';
import type { BenchDeps, Target } from './target.ts';

/**
 * Before and after the measured rounds: creating the containers, filling them for listing
 * scenarios, writing the prefill objects that GET/HEAD/DELETE start from, and cleaning up.
 * All of it runs with the scenario's concurrency, so filling 100,000 objects takes minutes,
 * not hours. None of it is measured.
 */

/** Runs `fn(0..total-1)` with at most `workers` calls in flight; stops issuing when `stop` aborts. */
export async function concurrently(total: number, workers: number, fn: (i: number) => Promise<void>, stop?: AbortSignal): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(0, Math.min(workers, total)) }, async () => {
      while (next < total && !stop?.aborted) await fn(next++);
    }),
  );
}

/** Name of the i-th listing-fill object: sorted like the numbers, and stable across runs. */
export function fillName(i: number): string {
  return `fill/${String(i).padStart(9, '0')}`;
}

const RETRIES = 3;

async function setupRequest(target: Target, what: string, send: () => Promise<{ status: number }>, ok: (status: number) => boolean, deps: BenchDeps): Promise<number> {
  let last = '';
  for (let attempt = 1; attempt <= RETRIES; attempt++) {
    try {
      const res = await send();
      if (ok(res.status)) return res.status;
      last = `status ${res.status}`;
      if (res.status === 401 || res.status === 403) break; // retrying will not help
    } catch (err) {
      if (!(err instanceof RequestFailed)) throw err;
      last = err.code;
    }
    await deps.clock.sleep(200 * attempt);
  }
  throw new BenchError('BENCH_SETUP_FAILED', `[${target.label}] ${what} failed: ${last}`);
}

/** PUTs one object of `size` bytes; with `verify` the ETag is sent so the endpoint checks it. */
export async function putObject(target: Target, container: string, name: string, size: number, bodies: BodySource, verify: boolean, deps: BenchDeps): Promise<void> {
  await setupRequest(
    target,
    `PUT ${container}/${name}`,
    () => {
      const body = bodies.body(size);
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(size) };
      if (verify) headers['etag'] = bodies.md5(size);
      return target.client.request({ method: 'PUT', path: `${container}/${name}`, headers, body });
    },
    (s) => s === 201 || s === 200 || s === 202,
    deps,
  );
}

/** Every object name in `container` starting with `prefix`, page by page. */
export async function listNames(client: SwiftClient, container: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  let marker = '';
  for (;;) {
    const query = `limit=10000&prefix=${encodeURIComponent(prefix)}&marker=${encodeURIComponent(marker)}`;
    const res = await client.request({ method: 'GET', path: container, query, mode: 'text' });
    if (res.status === 204 || res.status === 404) return names;
    if (res.status !== 200) throw new BenchError('BENCH_SETUP_FAILED', `listing ${container}: status ${res.status}`);
    const page = (res.text ?? '').split('\n').filter((n) => n !== '');
    names.push(...page);
    if (page.length < 10000) return names;
    marker = page[page.length - 1] as string;
  }
}

/** Runs `work` while showing `[label phase] done/total (rate/s)`. */
async function withProgress(target: Target, phase: string, total: number, deps: BenchDeps, work: (tick: () => void) => Promise<void>): Promise<void> {
  let done = 0;
  const started = deps.clock.monotonic();
  const line = (): string => {
    const seconds = Math.max(1e-3, (deps.clock.monotonic() - started) / 1000);
    return `[${target.label} ${phase}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${Math.round(done / seconds).toLocaleString('en-US')}/s)`;
  };
  const stop = every(deps.clock, 1000, () => deps.progress.update(line()));
  try {
    await work(() => done++);
  } finally {
    stop();
  }
  deps.progress.done(line());
}

/**
 * Creates missing containers, fills them for listing (resuming a partial fill), and writes
 * the prefill objects.
 * @throws {BenchError} `BENCH_SETUP_FAILED` when a request keeps failing.
 */
export async function prepareTarget(target: Target, scenario: Scenario, bodies: BodySource, verify: boolean, deps: BenchDeps): Promise<void> {
  await concurrently(target.containers.length, scenario.concurrency, async (i) => {
    const container = target.containers[i] as string;
    const head = await target.client.request({ method: 'HEAD', path: container });
    if (head.status >= 200 && head.status < 300) return;
    if (head.status !== 404) throw new BenchError('BENCH_SETUP_FAILED', `[${target.label}] HEAD container ${container}: status ${head.status}`);
    await setupRequest(target, `PUT container ${container}`, () => target.client.request({ method: 'PUT', path: container }), (s) => s === 201 || s === 202, deps);
    target.createdContainers.add(container);
  });
  if (scenario.listing.objects > 0) {
    for (const container of target.containers) if (!deps.stop?.aborted) await fillContainer(target, container, scenario, bodies, verify, deps);
  }
  if (scenario.prefill > 0 && !deps.stop?.aborted) {
    await withProgress(target, 'prefill', scenario.prefill, deps, (tick) =>
      concurrently(scenario.prefill, scenario.concurrency, async (i) => {
        const container = target.containers[i % target.containers.length] as string;
        const name = `${target.runId}/${target.seq++}`;
        const size = scenario.sizes.pick(deps.random);
        await putObject(target, container, name, size, bodies, verify, deps);
        target.objects.add(container, name, size);
        tick();
      }, deps.stop),
    );
  }
}

async function fillContainer(target: Target, container: string, scenario: Scenario, bodies: BodySource, verify: boolean, deps: BenchDeps): Promise<void> {
  const want = scenario.listing.objects;
  const head = await target.client.request({ method: 'HEAD', path: container });
  const count = Number(head.headers['x-container-object-count'] ?? 0);
  if (count >= want) {
    deps.log(`[${target.label}] ${container} already holds ${count.toLocaleString('en-US')} objects (>= ${want.toLocaleString('en-US')}); not filling`);
    return;
  }
  // A fill cut short earlier left some names behind; PUT only the missing ones.
  const existing = count > 0 ? new Set(await listNames(target.client, container, 'fill/')) : new Set<string>();
  const missing: number[] = [];
  for (let i = 0; i < want; i++) if (!existing.has(fillName(i))) missing.push(i);
  await withProgress(target, `fill ${container}`, missing.length, deps, (tick) =>
    concurrently(missing.length, scenario.concurrency, async (k) => {
      await putObject(target, container, fillName(missing[k] as number), scenario.sizes.pick(deps.random), bodies, verify, deps);
      tick();
    }, deps.stop),
  );
}

/**
 * Deletes what the run wrote (`run`), or also the listing fill and the containers (`all`).
 * Failures here are reported, not thrown: the results are already measured.
 */
export async function cleanupTarget(target: Target, scenario: Scenario, deps: BenchDeps): Promise<void> {
  if (scenario.cleanup === 'none') {
    deps.log(`[${target.label}] cleanup none: left ${target.objects.size.toLocaleString('en-US')} objects in ${target.containers.join(', ')}`);
    return;
  }
  const victims: { container: string; name: string }[] = target.objects.drain();
  if (scenario.cleanup === 'all') {
    for (const container of target.containers) {
      for (const name of await listNames(target.client, container).catch(() => [] as string[])) {
        if (!name.startsWith(`${target.runId}/`)) victims.push({ container, name });
      }
    }
  }
  let failed = 0;
  if (victims.length > 0) {
    await withProgress(target, 'cleanup', victims.length, deps, (tick) =>
      concurrently(victims.length, scenario.concurrency, async (i) => {
        const v = victims[i] as { container: string; name: string };
        const res = await target.client.request({ method: 'DELETE', path: `${v.container}/${v.name}` }).catch(() => ({ status: 0 }));
        if (res.status !== 404 && (res.status < 200 || res.status >= 300)) failed++;
        tick();
      }),
    );
  }
  const keepFill = scenario.cleanup === 'run' && scenario.listing.objects > 0;
  const containers = scenario.cleanup === 'all' ? target.containers : keepFill ? [] : target.containers.filter((c) => target.createdContainers.has(c));
  for (const container of containers) {
    // Container listings can lag object DELETEs (Swift updates them asynchronously): retry 409.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await target.client.request({ method: 'DELETE', path: container }).catch(() => ({ status: 0 }));
      if (res.status === 404 || (res.status >= 200 && res.status < 300)) break;
      if (attempt === 5) {
        failed++;
        deps.log(`[${target.label}] could not delete container ${container} (status ${res.status}); remove it by hand`);
      } else await deps.clock.sleep(500 * attempt);
    }
  }
  if (failed > 0) deps.log(`[${target.label}] cleanup: ${failed} deletes failed`);
  if (keepFill) deps.log(`[${target.label}] kept ${target.containers.length} filled container(s) (${target.containers.join(', ')}) for the next listing run; --cleanup all removes them`);
}
