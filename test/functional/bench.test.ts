import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBenchCommand } from '../../bench/cli.ts';
import type { BenchResult } from '../../bench/result.ts';
import { systemClock } from '../../common/clock.ts';
import { startCluster } from '../helpers/cluster.ts';
import { makeTempDir } from '../helpers/tmpdir.ts';

async function bench(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runBenchCommand(args, { out: (l) => stdout.push(l), err: (l) => stderr.push(l), progress: { write: () => true }, clock: systemClock });
  return { code, out: stdout.join('\n'), err: stderr.join('\n') };
}

test('swiftlet bench against an in-process cluster: a short verified mix, then a small listing run', async () => {
  const c = await startCluster();
  const dir = await makeTempDir('bench-functional-');
  try {
    const auth = ['--auth', `http://127.0.0.1:${c.port}/auth/v1.0`, '--user', 'test:tester', '--key', 'testing'];
    const out = join(dir.path, 'small.json');
    const r = await bench(['small', ...auth, '--count', '300', '--concurrency', '8', '--warmup', '0', '--prefill', '40', '--containers', '2', '--verify', '--out', out, '--html', join(dir.path, 'small.html')]);
    assert.is(r.code, 0, r.err);
    const result = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
    assert.is(result.options.verify, true);
    const t = result.targets[0];
    assert.ok(t);
    assert.is(t.storageUrl, `http://127.0.0.1:${c.port}/v1/AUTH_test`);
    for (const op of ['PUT', 'GET', 'HEAD', 'DELETE'] as const) {
      const s = t.summary.ops[op];
      assert.ok(s && s.ops > 0, `${op} ran`);
      assert.is(s.errors, 0, `${op} errors: ${JSON.stringify(s.errorsByStatus)}`);
      assert.ok((s.latencyMs?.p50 ?? 0) > 0 && (s.latencyMs?.max ?? 0) >= (s.latencyMs?.p99 ?? 0));
    }
    assert.is(t.summary.ops.GET?.bytes, (t.summary.ops.GET?.ops ?? 0) * 4096);
    const total = (['PUT', 'GET', 'HEAD', 'DELETE'] as const).reduce((n, op) => n + (t.summary.ops[op]?.ops ?? 0) + (t.skipped[op] ?? 0), 0);
    assert.is(total, 300);
    assert.ok((t.series.ops.GET?.length ?? 0) >= 1);
    assert.match(r.out, /\nGET +\d+/);

    const listing = await bench(['listing', ...auth, '--objects', '150', '--count', '20', '--concurrency', '4', '--warmup', '0', '--containers', '1', '--cleanup', 'all', '--out', join(dir.path, 'listing.json')]);
    assert.is(listing.code, 0, listing.err);
    const lr = JSON.parse(await readFile(join(dir.path, 'listing.json'), 'utf8')) as BenchResult;
    assert.is(lr.targets[0]?.summary.ops.LIST?.ops, 20);
    assert.is(lr.targets[0]?.summary.ops.LIST?.errors, 0);
    // Everything the runs wrote is gone again.
    const account = await c.request('GET', '/v1/AUTH_test?format=json');
    const names = account.status === 204 ? [] : (JSON.parse(account.body.toString()) as { name: string }[]).map((x) => x.name);
    assert.equal(names.filter((n) => n.startsWith('swiftlet-bench')), []);
  } finally {
    await dir.remove();
    await c.close();
  }
});

test.run();
