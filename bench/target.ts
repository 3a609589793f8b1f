import type { Clock } from '../common/clock.ts';
import { authenticate, type Credentials } from './auth.ts';
import { ObjectSet } from './object-set.ts';
import type { ProgressLine } from './progress.ts';
import { Recorder } from './recorder.ts';
import type { Scenario } from './scenario.ts';
import { SwiftClient } from './swift-client.ts';

/**
 * One endpoint under test and everything the run keeps about it: its client, the objects
 * it holds for the run, its containers and its samples.
 */
export interface Target {
  /** `A`, `B`, or `target` when not comparing. */
  readonly label: string;
  /** Where auth went (or the storage URL when a token was given); for reports. */
  readonly authUrl: string;
  readonly client: SwiftClient;
  readonly recorder: Recorder;
  readonly objects: ObjectSet;
  readonly containers: readonly string[];
  /** Containers this run created (cleanup deletes only these, unless `cleanup` is `all`). */
  readonly createdContainers: Set<string>;
  /** Prefix of every object name this run writes, unique per run and target. */
  readonly runId: string;
  seq: number;
  /**
   * Gets a new token after a 401 (Keystone tokens expire after an hour by default, longer
   * than some runs). One refresh at a time, and at most one per 10 s, however many requests
   * saw the 401; the 401s themselves still count as errors.
   */
  refreshToken(): Promise<void>;
  /** Client CPU and event-loop use over the measured rounds (see `runner.ts`). */
  readonly clientLoad: { cpuMs: number; wallMs: number; eluActive: number; eluTotal: number };
}

/** What every stage of a run needs from outside: time, randomness, and where to talk. */
export interface BenchDeps {
  readonly clock: Clock;
  /** Values in [0, 1), like `Math.random` (tests pass a seeded one). */
  readonly random: () => number;
  readonly progress: ProgressLine;
  /** Notes for the person running it (stderr). */
  readonly log: (line: string) => void;
  /**
   * Aborted to stop early (Ctrl-C): workers send nothing more, requests in flight finish,
   * setup stops issuing, and the run goes on to its report and cleanup.
   */
  readonly stop?: AbortSignal;
}

export interface TargetOptions {
  readonly insecure?: boolean;
  readonly timeoutMs?: number;
  /** Connections to keep; default the scenario's concurrency. */
  readonly connections?: number;
}

/** Container names of a scenario: `<prefix>-<scenario>-<i>`. */
export function containerNames(scenario: Scenario): string[] {
  return Array.from({ length: scenario.containers }, (_, i) => `${scenario.containerPrefix}-${scenario.name}-${i}`);
}

/**
 * Authenticates and opens a pooled client for one endpoint.
 * @throws {BenchError} `BENCH_AUTH_FAILED` when auth is refused or unreachable.
 */
export async function openTarget(label: string, creds: Credentials, scenario: Scenario, options: TargetOptions, deps: BenchDeps): Promise<Target> {
  const endpoint = await authenticate(creds, options);
  const client = new SwiftClient(endpoint, { connections: options.connections ?? scenario.concurrency, clock: deps.clock, insecure: options.insecure ?? false, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  let refreshing: Promise<void> | undefined;
  let lastRefresh = Number.NEGATIVE_INFINITY;
  const refreshToken = (): Promise<void> => {
    if (creds.version === 'token') return Promise.resolve();
    if (refreshing) return refreshing;
    if (deps.clock.monotonic() - lastRefresh < 10_000) return Promise.resolve();
    deps.log(`[${label}] 401 from the endpoint: authenticating again`);
    refreshing = authenticate(creds, options)
      .then((fresh) => client.setToken(fresh.token))
      .catch((err: unknown) => deps.log(`[${label}] re-authentication failed: ${(err as Error).message}`))
      .finally(() => {
        lastRefresh = deps.clock.monotonic();
        refreshing = undefined;
      });
    return refreshing;
  };
  const stamp = deps.clock.now().toString(36);
  const salt = Math.floor(deps.random() * 36 ** 4).toString(36).padStart(4, '0');
  return {
    label,
    authUrl: creds.version === 'token' ? creds.storageUrl : creds.authUrl,
    client,
    recorder: new Recorder(),
    objects: new ObjectSet(),
    containers: containerNames(scenario),
    createdContainers: new Set(),
    runId: `bench-${stamp}-${salt}-${label.toLowerCase()}`,
    seq: 0,
    refreshToken,
    clientLoad: { cpuMs: 0, wallMs: 0, eluActive: 0, eluTotal: 0 },
  };
}
