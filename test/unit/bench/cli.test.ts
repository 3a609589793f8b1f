import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type BenchIo, credentialsFromFlags, runBenchCommand } from '../../../bench/cli.ts';
import type { BenchResult } from '../../../bench/result.ts';
import { trivialSwiftHandler } from '../../../bench/trivial-server.ts';
import { systemClock } from '../../../common/clock.ts';
import { type HttpServer, listen } from '../../../common/http/server.ts';
import { nullLogger } from '../../../common/logger.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

function io(): BenchIo & { stdout: string[]; stderr: string[]; progressText: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const progressText: string[] = [];
  return { stdout, stderr, progressText, out: (l) => stdout.push(l), err: (l) => stderr.push(l), progress: { write: (t: string) => progressText.push(t) }, clock: systemClock };
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string; progress: string }> {
  const cap = io();
  const code = await runBenchCommand(args, cap);
  return { code, out: cap.stdout.join('\n'), err: cap.stderr.join('\n'), progress: cap.progressText.join('') };
}

async function trivial(): Promise<HttpServer> {
  return listen(trivialSwiftHandler(), { host: '127.0.0.1', port: 0, logger: nullLogger });
}

test('usage errors exit 2 and say what is wrong', async () => {
  const cases: [string[], RegExp][] = [
    [[], /which scenario\?/],
    [['small', '--auth'], /--auth needs a value|which endpoint/],
    [['small', '--frobnicate', '1'], /unknown flag --frobnicate/],
    [['small', '--verify=yes', '--auth', 'http://x/auth/v1.0', '--user', 'u', '--key', 'k'], /--verify takes no value/],
    [['nope'], /no scenario "nope".*small/],
    [['small'], /which endpoint\? give --auth URL/],
    [['small', '--auth', 'ftp://x'], /must be http:\/\/ or https:\/\//],
    [['small', '--auth', 'http://x/auth/v1.0', '--user', 'u'], /missing --key/],
    [['small', '--auth', 'http://x/v3', '--auth-version', '3', '--user', 'u', '--password', 'p'], /needs --project/],
    [['small', '--auth', 'http://x/v3', '--auth-version', '2', '--user', 'u', '--key', 'p'], /--auth-version "2": must be 1 or 3/],
    [['small', '--storage-url', 'http://x/v1/AUTH_a'], /--storage-url and --token go together/],
    [['small', '--storage-url', 'http://x/v1/AUTH_a', '--token', 't', '--compare-user', 'x'], /--compare-user needs --compare URL/],
    [['small', '--storage-url', 'http://x/v1/AUTH_a', '--token', 't', '--rounds', '0'], /--rounds "0": must be a whole number > 0/],
    [['small', '--storage-url', 'http://x/v1/AUTH_a', '--token', 't', '--concurrency', '0'], /^error: --concurrency: concurrency = "0": must be a whole number/],
    [['small', '--storage-url', 'http://x/v1/AUTH_a', '--token', 't', '--size', 'big'], /^error: --size: size = "big"/],
    [['--selftest', '--verify'], /--verify does not apply/],
    [['small', 'medium'], /one scenario at a time/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(args);
    assert.is(r.code, 2, `${args.join(' ')} -> ${r.err}`);
    assert.match(r.err, pattern, args.join(' '));
  }
});

test('a bad scenario file exits 2 naming the file, field and value', async () => {
  const dir = await makeTempDir('bench-cli-');
  try {
    const file = join(dir.path, 'bad.json');
    await writeFile(file, JSON.stringify({ size: '4KiB', mix: { PUT: 1, GET: 'lots' }, duration: 5 }));
    const r = await run([file, '--storage-url', 'http://x/v1/AUTH_a', '--token', 't']);
    assert.is(r.code, 2);
    assert.is(r.err.split('\n')[0], `error: ${file}: mix.GET = "lots": must be a number >= 0`);
    const yaml = join(dir.path, 'bad.yaml');
    await writeFile(yaml, 'size: 4KiB\nmix: {PUT: 1}\nduration: 5\nconcurency: 3\n');
    const y = await run([yaml, '--storage-url', 'http://x/v1/AUTH_a', '--token', 't']);
    assert.is(y.code, 2);
    assert.match(y.err, /bad\.yaml: concurency = 3: unknown field/);
  } finally {
    await dir.remove();
  }
});

test('--help lists the standard scenarios', async () => {
  const r = await run(['--help']);
  assert.is(r.code, 0);
  assert.match(r.out, /--compare AUTH_URL2/);
  assert.match(r.out, /standard scenarios: .*listing.*small/);
});

test('Keystone credentials from flags, and the second endpoint inheriting the first', () => {
  const flags = new Map([
    ['auth', 'http://ks:5000/v3'], ['auth-version', '3'], ['user', 'demo'], ['password', 'pw'], ['project', 'p1'], ['region', 'R1'],
    ['compare', 'http://ks2:5000/v3'], ['compare-password', 'pw2'],
  ]);
  const a = credentialsFromFlags(flags, '');
  assert.equal(a, { version: 3, authUrl: 'http://ks:5000/v3', user: 'demo', password: 'pw', project: 'p1', domain: 'Default', interface: 'public', region: 'R1' });
  assert.equal(credentialsFromFlags(flags, 'compare-', a), { version: 3, authUrl: 'http://ks2:5000/v3', user: 'demo', password: 'pw2', project: 'p1', domain: 'Default', interface: 'public', region: 'R1' });
  const v1 = credentialsFromFlags(new Map([['auth', 'http://s/auth/v1.0'], ['user', 'a:b'], ['key', 'k'], ['compare', 'http://t/auth/v1.0']]), '');
  assert.equal(credentialsFromFlags(new Map([['compare', 'http://t/auth/v1.0']]), 'compare-', v1), { version: 1, authUrl: 'http://t/auth/v1.0', user: 'a:b', key: 'k' });
});

test('auth refused exits 1', async () => {
  const s = await listen(async () => ({ status: 401 }), { host: '127.0.0.1', port: 0, logger: nullLogger });
  try {
    const r = await run(['small', '--auth', `http://127.0.0.1:${s.port}/auth/v1.0`, '--user', 'u', '--key', 'k', '--no-out']);
    assert.is(r.code, 1);
    assert.match(r.err, /error: auth GET .* status 401/);
  } finally {
    await s.close();
  }
});

test('a run writes the table, the JSON result and the HTML report', async () => {
  const s = await trivial();
  const dir = await makeTempDir('bench-cli-');
  try {
    const out = join(dir.path, 'r.json');
    const html = join(dir.path, 'r.html');
    const r = await run(['small', '--auth', `http://127.0.0.1:${s.port}/auth/v1.0`, '--user', 'u', '--key', 'k', '--count', '200', '--concurrency', '4', '--warmup', '0', '--prefill', '20', '--out', out, '--html', html]);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /^scenario small: concurrency 4/);
    assert.match(r.out, /\nGET +\d+/);
    assert.match(r.err, new RegExp(`results: ${out}`));
    assert.match(r.progress, /\[target run done\]/);
    const result = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
    assert.is(result.tool, 'swiftlet-bench');
    assert.is(result.scenario['count'], 200);
    assert.is(result.targets.length, 1);
    assert.ok(result.targets[0]?.summary.ops.GET);
    assert.ok(existsSync(html));
    assert.match(await readFile(html, 'utf8'), /<svg /);
  } finally {
    await s.close();
    await dir.remove();
  }
});

test('--compare prints the B / A table', async () => {
  const a = await trivial();
  const b = await trivial();
  try {
    const r = await run(['small', '--auth', `http://127.0.0.1:${a.port}/auth/v1.0`, '--user', 'u', '--key', 'k', '--compare', `http://127.0.0.1:${b.port}/auth/v1.0`, '--count', '40', '--concurrency', '2', '--warmup', '0', '--prefill', '10', '--no-out']);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /B \/ A {2}\(A = http:\/\/127\.0\.0\.1:\d+\/v1\/AUTH_bench, B = .*; 2 alternating rounds each\)/);
    assert.match(r.out, /\nGET +[\d.,]+ +[\d.,]+ +[\d.]+x/);
  } finally {
    await a.close();
    await b.close();
  }
});

test('--selftest <scenario> runs it against the in-process server and prints the ceiling', async () => {
  const r = await run(['--selftest', 'small', '--duration', '0.5', '--warmup', '0', '--concurrency', '4', '--prefill', '10']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /client ceiling/);
  assert.match(r.out, /\nsmall +[\d,.]+ +[\d.]+/);
});

test.run();
