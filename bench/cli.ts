import { splitArgs } from '../common/cli-args.ts';
import type { Clock } from '../common/clock.ts';
import type { Credentials } from './auth.ts';
import { BenchError, ScenarioError } from './bench-error.ts';
import { renderHtml } from './report-html.ts';
import { renderReport } from './report-table.ts';
import { buildResult, defaultResultPath, writeReportFile } from './result.ts';
import { runBenchmark, type TargetSpec } from './runner.ts';
import { applyOverrides, loadScenario, type Scenario, type ScenarioOverrides, standardScenarios } from './scenario.ts';
import { ceilingScenarios, measureCeiling, renderCeiling } from './selftest.ts';
import { ProgressLine, type ProgressStream } from './progress.ts';
import { RequestFailed } from './swift-client.ts';
import type { BenchDeps } from './target.ts';

/**
 * `swiftlet bench`: runs a scenario against one endpoint (or two with `--compare`), prints a
 * table per operation, writes the JSON result and, with `--html`, the HTML report. Exit codes:
 * 0 done, 1 the run failed (auth, setup, or not one request succeeded), 2 bad flags or scenario.
 */
export interface BenchIo {
  /** The report (stdout). */
  out(line: string): void;
  /** Notes and errors (stderr). */
  err(line: string): void;
  /** Where the live progress line goes (stderr; rewritten in place when it is a TTY). */
  readonly progress: ProgressStream;
  readonly clock: Clock;
  /** Default `Math.random`. */
  readonly random?: () => number;
  /** Stops the run early (report and cleanup still happen); default: the first Ctrl-C. */
  readonly stop?: AbortSignal;
}

export const USAGE = `usage: swiftlet bench <scenario> [endpoint] [options]
       swiftlet bench --selftest [<scenario>]

  <scenario>   a standard scenario (small, medium, large, mixed, listing: bench/scenarios/)
               or a .json / .yaml file

endpoint, one of:
  --auth URL --user ACCOUNT:USER --key KEY                      v1 auth (tempauth, swauth)
  --auth-version 3 --auth URL --project P --user U --password PW [--domain D] [--region R]
               [--interface public|internal|admin]               Keystone v3 (domain default "Default")
  --storage-url URL --token TOKEN                                 no auth request

compare (the same scenario on a second endpoint, rounds alternating A, B, A, B):
  --compare AUTH_URL2 [--compare-user U] [--compare-key K | --compare-password PW]
               [--compare-auth-version 1|3] [--compare-project P] [--compare-domain D] [--compare-region R]
               (each defaults to the first endpoint's value)
  --compare-storage-url URL --compare-token TOKEN
  --rounds N   rounds per endpoint (default 1; 2 with --compare)

scenario overrides:
  --duration S  --count N  --concurrency N  --containers N  --prefill N  --warmup S
  --objects N   (listing: objects per container)   --size 4KiB   --mix GET:70,PUT:30
  --cleanup run|all|none   --container-prefix P

output and checks:
  --out FILE    JSON result (default bench/results/<scenario>-<time>.json); --no-out to skip
  --html FILE   self-contained HTML report with charts
  --verify      GETs check the MD5 of what they read against the ETag and what was written
  --timeout S   per-request timeout for headers and between body chunks (default 120)
  --insecure    do not check TLS certificates
  --selftest    run against an in-process server that answers at once: the client's ceiling`;

const VALUE_FLAGS = new Set([
  'auth', 'user', 'key', 'password', 'auth-version', 'project', 'domain', 'region', 'interface', 'storage-url', 'token',
  'compare', 'compare-user', 'compare-key', 'compare-password', 'compare-auth-version', 'compare-project', 'compare-domain', 'compare-region', 'compare-interface', 'compare-storage-url', 'compare-token',
  'duration', 'count', 'concurrency', 'containers', 'objects', 'prefill', 'warmup', 'size', 'mix', 'cleanup', 'container-prefix',
  'out', 'html', 'rounds', 'timeout',
]);
const BOOLEAN_FLAGS = new Set(['verify', 'insecure', 'selftest', 'help', 'no-out']);

function usage(message: string): BenchError {
  return new BenchError('BENCH_USAGE', message);
}

function authVersion(raw: string | undefined, flag: string): 1 | 3 | undefined {
  if (raw === undefined) return undefined;
  if (['1', '1.0', 'v1', 'v1.0'].includes(raw)) return 1;
  if (['3', 'v3'].includes(raw)) return 3;
  throw usage(`--${flag} ${JSON.stringify(raw)}: must be 1 or 3`);
}

/**
 * Credentials from flags; `prefix` is `''` or `'compare-'`, and `fallback` gives the first
 * endpoint's values for the second.
 * @throws {BenchError} `BENCH_USAGE` naming the missing or bad flag.
 */
export function credentialsFromFlags(flags: ReadonlyMap<string, string>, prefix: '' | 'compare-', fallback?: Credentials): Credentials {
  const get = (name: string): string | undefined => {
    const v = flags.get(`${prefix}${name}`);
    if (v === '') throw usage(`--${prefix}${name} needs a value`);
    return v;
  };
  const storageUrl = get('storage-url');
  const token = get('token');
  if (storageUrl !== undefined || token !== undefined) {
    if (storageUrl === undefined || token === undefined) throw usage(`--${prefix}storage-url and --${prefix}token go together`);
    checkUrl(storageUrl, `${prefix}storage-url`);
    return { version: 'token', storageUrl, token };
  }
  const authUrl = prefix === '' ? get('auth') : flags.get('compare');
  if (authUrl === undefined || authUrl === '') throw usage(prefix === '' ? 'which endpoint? give --auth URL (with --user and --key), or --storage-url and --token' : '--compare needs the second endpoint\'s auth URL');
  checkUrl(authUrl, prefix === '' ? 'auth' : 'compare');
  const fb = fallback && fallback.version !== 'token' ? fallback : undefined;
  const version = authVersion(get('auth-version'), `${prefix}auth-version`) ?? fb?.version ?? 1;
  const user = get('user') ?? fb?.user;
  const secret = get('key') ?? get('password') ?? (fb ? (fb.version === 1 ? fb.key : fb.password) : undefined);
  if (user === undefined) throw usage(`missing --${prefix}user`);
  if (secret === undefined) throw usage(`missing --${prefix}${version === 1 ? 'key' : 'password'}`);
  if (version === 1) return { version: 1, authUrl, user, key: secret };
  const v3 = fb?.version === 3 ? fb : undefined;
  const project = get('project') ?? v3?.project;
  if (project === undefined) throw usage(`Keystone auth needs --${prefix}project`);
  const region = get('region') ?? v3?.region;
  return {
    version: 3,
    authUrl,
    user,
    password: secret,
    project,
    domain: get('domain') ?? v3?.domain ?? 'Default',
    interface: get('interface') ?? v3?.interface ?? 'public',
    ...(region === undefined ? {} : { region }),
  };
}

function checkUrl(url: string, flag: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`--${flag} ${JSON.stringify(url)}: not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(`--${flag} ${JSON.stringify(url)}: must be http:// or https://`);
}

function overridesFromFlags(flags: ReadonlyMap<string, string>): ScenarioOverrides {
  const o: ScenarioOverrides = {};
  const map: [keyof ScenarioOverrides, string][] = [
    ['duration', 'duration'], ['count', 'count'], ['concurrency', 'concurrency'], ['containers', 'containers'], ['objects', 'objects'],
    ['prefill', 'prefill'], ['warmup', 'warmup'], ['size', 'size'], ['mix', 'mix'], ['cleanup', 'cleanup'], ['containerPrefix', 'container-prefix'],
  ];
  for (const [key, flag] of map) {
    const v = flags.get(flag);
    if (v === '') throw usage(`--${flag} needs a value`);
    if (v !== undefined) o[key] = v;
  }
  return o;
}

function positiveNumber(raw: string | undefined, flag: string, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw usage(`--${flag} ${JSON.stringify(raw)}: must be a ${integer ? 'whole ' : ''}number > 0`);
  return n;
}

/**
 * Runs `swiftlet bench ...`; returns the exit code. Unless `io.stop` is given, the first
 * Ctrl-C stops the run early but still reports and cleans up (exit 130); a second one quits.
 */
export async function runBenchCommand(argv: readonly string[], io: BenchIo): Promise<number> {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    io.err('\nstopping: requests in flight finish, then the report and cleanup (Ctrl-C again to quit now, leaving objects behind)');
  };
  if (!io.stop) process.on('SIGINT', onSigint);
  try {
    const code = await benchCommand(argv, { ...io, stop: io.stop ?? controller.signal });
    return controller.signal.aborted || io.stop?.aborted ? 130 : code;
  } catch (err) {
    if (err instanceof ScenarioError || (err instanceof BenchError && err.code === 'BENCH_USAGE')) {
      io.err(`error: ${err.message}`);
      if (!(err instanceof ScenarioError)) io.err('(swiftlet bench --help for usage)');
      return 2;
    }
    if (err instanceof BenchError || err instanceof RequestFailed) {
      io.err(`error: ${err.message}${err instanceof RequestFailed ? ` (${err.code})` : ''}`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function benchCommand(argv: readonly string[], io: BenchIo): Promise<number> {
  const { positional, flags } = splitArgs(argv, VALUE_FLAGS);
  if (flags.has('help') || positional[0] === 'help') {
    io.out(USAGE);
    io.out(`\nstandard scenarios: ${(await standardScenarios()).join(', ')}`);
    return 0;
  }
  for (const name of flags.keys()) {
    if (!VALUE_FLAGS.has(name) && !BOOLEAN_FLAGS.has(name)) throw usage(`unknown flag --${name}`);
    if (BOOLEAN_FLAGS.has(name) && flags.get(name) !== '') throw usage(`--${name} takes no value`);
  }
  if (positional.length > 1) throw usage(`one scenario at a time (got ${positional.map((p) => JSON.stringify(p)).join(', ')})`);
  const overrides = overridesFromFlags(flags);
  const timeoutSeconds = positiveNumber(flags.get('timeout'), 'timeout', false);
  const progress = new ProgressLine(io.progress, io.clock);
  const deps: BenchDeps = {
    clock: io.clock,
    random: io.random ?? Math.random,
    progress,
    log: (line) => {
      progress.clear();
      io.err(line);
    },
    ...(io.stop ? { stop: io.stop } : {}),
  };
  const timeoutMs = timeoutSeconds === undefined ? {} : { timeoutMs: timeoutSeconds * 1000 };
  if (flags.has('selftest')) {
    if (flags.has('verify')) throw usage('--verify does not apply to --selftest (its server does not keep object bodies)');
    const scenarios = positional[0] === undefined ? ceilingScenarios(overrides) : [applyOverrides(await loadScenario(positional[0]), overrides)];
    const rows = await measureCeiling(scenarios, deps, positional[0] === undefined ? undefined : (text) => io.out(text));
    io.out(renderCeiling(rows));
    return 0;
  }
  if (positional[0] === undefined) throw usage(`which scenario? one of ${(await standardScenarios()).join(', ')}, or a .json/.yaml file`);
  const scenario: Scenario = applyOverrides(await loadScenario(positional[0]), overrides);
  const a = credentialsFromFlags(flags, '');
  const comparing = flags.has('compare') || flags.has('compare-storage-url');
  const specs: TargetSpec[] = comparing ? [{ label: 'A', credentials: a }, { label: 'B', credentials: credentialsFromFlags(flags, 'compare-', a) }] : [{ label: 'target', credentials: a }];
  if (!comparing) {
    const stray = [...flags.keys()].find((f) => f.startsWith('compare-'));
    if (stray) throw usage(`--${stray} needs --compare URL (or --compare-storage-url)`);
  }
  const rounds = positiveNumber(flags.get('rounds'), 'rounds', true) ?? (comparing ? 2 : 1);
  const verify = flags.has('verify');
  const outPath = flags.has('no-out') ? undefined : flags.get('out') || defaultResultPath(scenario.name, io.clock.now());
  const htmlPath = flags.get('html');
  if (htmlPath === '') throw usage('--html needs a file name');
  io.err(`scenario ${scenario.name}: ${describe(scenario)}`);
  const run = await runBenchmark(scenario, specs, { verify, rounds, insecure: flags.has('insecure'), ...timeoutMs }, deps);
  const result = buildResult(scenario, run, { verify, rounds });
  io.out(renderReport(result));
  if (outPath !== undefined) {
    await writeReportFile(outPath, `${JSON.stringify(result, null, 2)}\n`);
    io.err(`results: ${outPath}`);
  }
  if (htmlPath !== undefined) {
    await writeReportFile(htmlPath, renderHtml(result));
    io.err(`report: ${htmlPath}`);
  }
  const dead = result.targets.find((t) => Object.values(t.summary.ops).every((s) => s.ops === 0));
  if (dead) {
    io.err(`error: no request to ${dead.label} succeeded in the measured time`);
    return 1;
  }
  return 0;
}

/** One line saying what the scenario will do. */
function describe(s: Scenario): string {
  const mix = Object.entries(s.mix)
    .filter(([, w]) => w > 0)
    .map(([op, w]) => `${op} ${w}`)
    .join(', ');
  const limit = [s.durationSeconds === null ? '' : `${s.durationSeconds} s`, s.count === null ? '' : `${s.count} ops`].filter(Boolean).join(' or ');
  return `${mix}; concurrency ${s.concurrency}; ${limit}${s.warmupSeconds ? ` after ${s.warmupSeconds} s warm-up` : ''}; ${s.containers} container(s)${s.prefill ? `; prefill ${s.prefill}` : ''}${s.listing.objects ? `; listing fill ${s.listing.objects.toLocaleString('en-US')} objects/container` : ''}`;
}
