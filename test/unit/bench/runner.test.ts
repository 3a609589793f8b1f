import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BenchError } from '../../../bench/bench-error.ts';
import { ProgressLine } from '../../../bench/progress.ts';
import { buildResult } from '../../../bench/result.ts';
import { runBenchmark, type TargetSpec } from '../../../bench/runner.ts';
import { parseScenario } from '../../../bench/scenario.ts';
import { SwiftClient } from '../../../bench/swift-client.ts';
import type { BenchDeps } from '../../../bench/target.ts';
import { trivialSwiftHandler } from '../../../bench/trivial-server.ts';
import { systemClock } from '../../../common/clock.ts';
import { type Handler, type HttpServer, listen } from '../../../common/http/server.ts';
import { nullLogger } from '../../../common/logger.ts';
import { seededRandom } from '../../../common/seeded-random.ts';

function deps(log: string[] = []): BenchDeps {
  return { clock: systemClock, random: seededRandom(7), progress: new ProgressLine({ write: (t: string) => log.push(t) }, systemClock), log: (l) => log.push(l) };
}

async function server(wrap?: (inner: Handler) => Handler): Promise<HttpServer> {
  const inner = trivialSwiftHandler();
  return listen(wrap ? wrap(inner) : inner, { host: '127.0.0.1', port: 0, logger: nullLogger });
}

function spec(label: string, s: HttpServer): TargetSpec {
  return { label, credentials: { version: 1, authUrl: `http://127.0.0.1:${s.port}/auth/v1.0`, user: 'u', key: 'k' } };
}

async function head(s: HttpServer, path: string): Promise<{ status: number; count: number }> {
  const client = new SwiftClient({ storageUrl: `http://127.0.0.1:${s.port}/v1/AUTH_bench`, token: 't' }, { connections: 1, clock: systemClock });
  try {
    const res = await client.request({ method: 'HEAD', path });
    return { status: res.status, count: Number(res.headers['x-container-object-count'] ?? -1) };
  } finally {
    await client.close();
  }
}

test('a counted run: every issued op is a success, an error or a skip; cleanup removes what it wrote', async () => {
  const s = await server();
  try {
    const scenario = parseScenario({ name: 't1', sizes: [{ size: 100, weight: 1 }, { min: 1000, max: 5000, weight: 1 }], mix: { PUT: 3, GET: 3, HEAD: 1, DELETE: 2, LIST: 1 }, concurrency: 4, count: 300, containers: 2, prefill: 20, listing: { pageSize: 7 } }, 'test');
    const run = await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps());
    const result = buildResult(scenario, run, { verify: false, rounds: 1 });
    const t = result.targets[0];
    assert.ok(t);
    const ops = ['PUT', 'GET', 'HEAD', 'DELETE', 'LIST'] as const;
    const done = ops.reduce((n, op) => n + (t.summary.ops[op]?.ops ?? 0) + (t.summary.ops[op]?.errors ?? 0) + (t.skipped[op] ?? 0), 0);
    assert.is(done, 300);
    assert.is(t.summary.ops.ALL?.errors, 0);
    for (const op of ops) assert.ok((t.summary.ops[op]?.ops ?? 0) > 0, `${op} ran`);
    assert.ok((t.summary.ops.PUT?.bytes ?? 0) > 0);
    assert.ok((t.summary.ops.LIST?.bytes ?? 0) > 0);
    assert.is(t.summary.ops.HEAD?.bytes, 0);
    assert.is(t.rounds.length, 1);
    assert.ok(t.summary.measuredSeconds > 0);
    assert.ok(t.client.eventLoopUtilization > 0 && t.client.eventLoopUtilization <= 1);
    assert.ok(t.storageUrl.endsWith('/v1/AUTH_bench'));
    // The containers were created by the run, so cleanup deleted them (objects first).
    assert.is((await head(s, 'swiftlet-bench-t1-0')).status, 404);
    assert.is((await head(s, 'swiftlet-bench-t1-1')).status, 404);
  } finally {
    await s.close();
  }
});

test('listing: fills with concurrency, keeps the fill, reuses it next time; cleanup all removes it', async () => {
  const s = await server();
  try {
    const doc = { name: 'lst', size: 0, mix: { LIST: 1 }, concurrency: 4, count: 30, containers: 1, listing: { objects: 250, pageSize: 100 } };
    const log: string[] = [];
    const run = await runBenchmark(parseScenario(doc, 't'), [spec('target', s)], { verify: false, rounds: 1 }, deps(log));
    const t = buildResult(parseScenario(doc, 't'), run, { verify: false, rounds: 1 }).targets[0];
    assert.is(t?.summary.ops.LIST?.ops, 30);
    assert.ok(log.some((l) => l.includes('[target fill swiftlet-bench-lst-0] 250/250')), log.join('|'));
    assert.is((await head(s, 'swiftlet-bench-lst-0')).count, 250, 'fill kept');
    // Pages of 100 from 250 names: 100, 100, 50, then over again. Bytes per name: "fill/000000123\n" = 15.
    const bytes = t?.summary.ops.LIST?.bytes ?? 0;
    assert.is(bytes % 15, 0);
    const log2: string[] = [];
    await runBenchmark(parseScenario({ ...doc, cleanup: 'all' }, 't'), [spec('target', s)], { verify: false, rounds: 1 }, deps(log2));
    assert.ok(log2.some((l) => l.includes('already holds 250 objects')), log2.join('|'));
    assert.is((await head(s, 'swiftlet-bench-lst-0')).status, 404, 'cleanup all removed fill and container');
  } finally {
    await s.close();
  }
});

test('a partial fill is completed, not redone', async () => {
  const s = await server();
  const puts: string[] = [];
  const counting = await server((inner) => async (req) => {
    if (req.method === 'PUT') puts.push(req.path);
    return inner(req);
  });
  try {
    const doc = { name: 'part', size: 0, mix: { LIST: 1 }, concurrency: 2, count: 2, containers: 1, listing: { objects: 40, pageSize: 10 }, cleanup: 'none' };
    await runBenchmark(parseScenario({ ...doc, listing: { objects: 25, pageSize: 10 } }, 't'), [spec('target', counting)], { verify: false, rounds: 1 }, deps());
    puts.length = 0;
    await runBenchmark(parseScenario(doc, 't'), [spec('target', counting)], { verify: false, rounds: 1 }, deps());
    assert.is(puts.length, 15, 'only the 15 missing names were written');
  } finally {
    await s.close();
    await counting.close();
  }
});

test('--verify: bodies that are not what was written are md5-mismatch errors', async () => {
  // The trivial server answers GETs with zeros, never the random bytes that were PUT.
  const s = await server();
  try {
    const scenario = parseScenario({ name: 'v', size: 2000, mix: { GET: 1 }, concurrency: 2, count: 20, prefill: 5 }, 't');
    const verified = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: true, rounds: 1 }, deps()), { verify: true, rounds: 1 }).targets[0];
    assert.equal(verified?.summary.ops.GET?.errorsByStatus, { 'md5-mismatch': 20 });
    assert.is(verified?.summary.ops.GET?.ops, 0);
    const plain = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps()), { verify: false, rounds: 1 }).targets[0];
    assert.is(plain?.summary.ops.GET?.ops, 20);
    assert.is(plain?.summary.ops.GET?.errors, 0);
  } finally {
    await s.close();
  }
});

test('failures are counted by status and by reason, and not in latencies', async () => {
  let n = 0;
  const s = await server((inner) => async (req) => {
    if (req.method === 'HEAD' && req.path.split('/').length > 5 && n++ % 2 === 0) return { status: 503 };
    if (req.method === 'GET' && req.path.split('/').length > 5) {
      // A body shorter than the object: the harness must notice.
      const res = await inner(req);
      return { ...res, headers: { ...res.headers, 'Content-Length': 10 }, body: Buffer.alloc(10) };
    }
    return inner(req);
  });
  try {
    const scenario = parseScenario({ name: 'e', size: 100, mix: { HEAD: 1, GET: 1 }, concurrency: 1, count: 40, prefill: 3 }, 't');
    const t = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps()), { verify: false, rounds: 1 }).targets[0];
    const headOps = t?.summary.ops.HEAD;
    assert.ok(headOps);
    assert.ok(headOps.errors > 0);
    assert.equal(Object.keys(headOps.errorsByStatus), ['503']);
    assert.is(headOps.latencyMs?.count, headOps.ops);
    assert.equal(Object.keys(t?.summary.ops.GET?.errorsByStatus ?? {}), ['size-mismatch']);
    assert.is(t?.summary.ops.GET?.ops, 0);
  } finally {
    await s.close();
  }
});

test('latency runs to the last byte: a body that ends 80 ms after its headers takes >= 80 ms', async () => {
  const s = await server((inner) => async (req) => {
    if (req.method !== 'GET' || req.path.split('/').length <= 5) return inner(req);
    const res = await inner(req);
    return {
      ...res,
      body: (async function* () {
        yield Buffer.alloc(50);
        await systemClock.sleep(80);
        yield Buffer.alloc(50);
      })(),
    };
  });
  try {
    const scenario = parseScenario({ name: 'lat', size: 100, mix: { GET: 1 }, concurrency: 2, count: 6, prefill: 2 }, 't');
    const t = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps()), { verify: false, rounds: 1 }).targets[0];
    const l = t?.summary.ops.GET?.latencyMs;
    assert.ok(l, JSON.stringify(t?.summary));
    assert.is(l.count, 6);
    assert.ok(l.min >= 79, `min ${l.min}`);
    assert.ok(l.p50 < 1000, `p50 ${l.p50}`);
  } finally {
    await s.close();
  }
});

test('duration and warm-up: the measured window excludes the warm-up', async () => {
  const s = await server();
  try {
    const scenario = parseScenario({ name: 'd', size: 10, mix: { PUT: 1 }, concurrency: 2, duration: 0.6, warmup: 0.3 }, 't');
    const t = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps()), { verify: false, rounds: 1 }).targets[0];
    const round = t?.rounds[0];
    assert.ok(round);
    assert.is(round.from, 0);
    assert.is(round.measureFrom, 0.3);
    assert.ok(round.to >= 0.9 && round.to < 2, `round ended at ${round.to}`);
    assert.ok(Math.abs((t?.summary.measuredSeconds ?? 0) - (round.to - 0.3)) < 1e-9);
    const series = t?.series.ops.PUT ?? [];
    assert.is(series[0]?.warmup, true);
    const inSeries = series.reduce((n, b) => n + b.ops, 0);
    assert.ok(inSeries > (t?.summary.ops.PUT?.ops ?? 0), 'the series also shows the warm-up');
  } finally {
    await s.close();
  }
});

test('compare: rounds alternate A, B, A, B and the ratios are computed', async () => {
  const a = await server();
  const order: string[] = [];
  const b = await server((inner) => async (req) => {
    if (req.method === 'PUT' && req.path.split('/').length > 5) order.push('B');
    return inner(req);
  });
  try {
    const scenario = parseScenario({ name: 'cmp', size: 10, mix: { PUT: 1 }, concurrency: 1, count: 5 }, 't');
    const log: string[] = [];
    const run = await runBenchmark(scenario, [spec('A', a), spec('B', b)], { verify: false, rounds: 2 }, deps(log));
    const result = buildResult(scenario, run, { verify: false, rounds: 2 });
    assert.is(result.targets.length, 2);
    assert.is(result.targets[0]?.rounds.length, 2);
    assert.is(result.targets[1]?.rounds.length, 2);
    assert.is(result.targets[0]?.summary.ops.PUT?.ops, 10);
    assert.ok(result.comparison);
    assert.equal(result.comparison.map((r) => r.op), ['PUT']);
    assert.ok((result.comparison[0]?.opsPerSecRatio ?? 0) > 0);
    const rounds = log.filter((l) => l.includes('done]')).map((l) => /^\[(\w) (round \d\/2)/.exec(l)?.slice(1).join(' '));
    assert.equal(rounds, ['A round 1/2', 'B round 1/2', 'A round 2/2', 'B round 2/2']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a 401 mid-run (token expired) re-authenticates once and the run goes on', async () => {
  let tokens = 0;
  let valid = '';
  let objectRequests = 0;
  const s = await server((inner) => async (req) => {
    if (req.path === '/auth/v1.0') {
      valid = `AUTH_tk${++tokens}`;
      const res = await inner(req);
      return { ...res, headers: { ...res.headers, 'X-Auth-Token': valid } };
    }
    if (req.headers['x-auth-token'] !== valid) return { status: 401 };
    // The token "expires" after the prefill and a few requests of the run.
    if (req.path.split('/').length > 5 && ++objectRequests === 30) valid = 'expired';
    return inner(req);
  });
  try {
    const scenario = parseScenario({ name: 'tok', size: 10, mix: { GET: 1 }, concurrency: 4, count: 200, prefill: 20 }, 't');
    const log: string[] = [];
    const t = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps(log)), { verify: false, rounds: 1 }).targets[0];
    assert.is(tokens, 2, 'one re-authentication');
    assert.ok(log.some((l) => l.includes('authenticating again')));
    const get = t?.summary.ops.GET;
    assert.ok(get && get.errors > 0 && get.errors < 10, JSON.stringify(get?.errorsByStatus));
    assert.equal(Object.keys(get.errorsByStatus), ['401']);
    assert.is(get.ops + get.errors, 200);
  } finally {
    await s.close();
  }
});

test('stop (Ctrl-C) ends the round early; the results and cleanup still happen', async () => {
  // Stopped once the round has made some PUTs of its own (past the 5 of the prefill), not
  // after a fixed time: on a loaded machine the prefill alone took longer than 400 ms.
  const controller = new AbortController();
  let puts = 0;
  const s = await server((inner) => async (req) => {
    if (req.method === 'PUT' && ++puts === 10) controller.abort();
    return inner(req);
  });
  try {
    const scenario = parseScenario({ name: 'stop', size: 10, mix: { PUT: 1, GET: 1 }, concurrency: 2, duration: 60, prefill: 5 }, 't');
    const d = { ...deps(), stop: controller.signal };
    const started = systemClock.monotonic();
    const t = buildResult(scenario, await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 2 }, d), { verify: false, rounds: 2 }).targets[0];
    assert.ok(systemClock.monotonic() - started < 30_000, 'the 60 s round ended early');
    assert.is(t?.rounds.length, 1, 'the second round is not started');
    assert.ok((t?.summary.ops.PUT?.ops ?? 0) > 0);
    assert.is((await head(s, 'swiftlet-bench-stop-0')).status, 404, 'cleaned up');
  } finally {
    await s.close();
  }
});

test('auth failure stops the run with BENCH_AUTH_FAILED', async () => {
  const s = await server((inner) => async (req) => (req.path === '/auth/v1.0' ? { status: 401 } : inner(req)));
  try {
    const scenario = parseScenario({ name: 'x', size: 10, mix: { PUT: 1 }, count: 1 }, 't');
    const err = await runBenchmark(scenario, [spec('target', s)], { verify: false, rounds: 1 }, deps()).then(() => undefined, (e: unknown) => e);
    assert.instance(err, BenchError);
    assert.is((err as BenchError).code, 'BENCH_AUTH_FAILED');
  } finally {
    await s.close();
  }
});

test.run();
