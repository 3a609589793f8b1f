import type { Clock } from '../common/clock.ts';
import { ConfigError } from '../common/errors.ts';
import type { ConfigOf } from '../common/config.ts';
import type { Device } from '../ring/device.ts';
import type { Ring } from '../ring/ring.ts';
import { readAffinityRank, writeAffinityLocal, writeAffinityNodeCount } from './affinity.ts';
import type { proxyPolicySchema, proxyServerSchema, SortingMethod } from './config.ts';

/** One policy's (or the default's) node order settings, compiled. */
interface Options {
  readonly sortingMethod: SortingMethod;
  readonly readRank: (node: Device) => number;
  readonly isLocal: ((node: Device) => boolean) | undefined;
  readonly localCount: (replicas: number) => number;
  readonly handoffDeleteCount: number | 'auto';
}

/** Where an object DELETE goes under write affinity: more slots than replicas, local handoffs included. */
export interface DeleteNodes {
  readonly slots: number;
  readonly nodes: Iterable<Device>;
}

/**
 * The order a proxy asks nodes in (Swift's `sort_nodes`, `iter_nodes_local_first` and their
 * settings): a read's primaries shuffled, by the fastest recent answer, or by `read_affinity`;
 * an object write's local nodes first under `write_affinity`. Account and container requests,
 * and objects of a policy with no `[proxy-server:policy:N]` section, use `[proxy-server]`'s.
 */
export class NodeOrder {
  private readonly base: Options;
  private readonly byPolicy: ReadonlyMap<number, Options>;
  /** Per node address: its last answer time (ms, to the millisecond) and when that stops counting. */
  private readonly timings = new Map<string, { ms: number; until: number }>();
  private readonly timingExpiryMs: number;
  private readonly deps: { clock: Clock; random?: () => number };
  readonly sortsByTiming: boolean;
  /** Where `read_affinity` is set but `sorting_method` is not `affinity`: "(default)", "policy N" (Swift warns of these at start). */
  readonly unusedReadAffinity: readonly string[];

  /**
   * @param overrides `[proxy-server:policy:N]` sections by N; `policyIndexes` are the cluster's.
   * @throws {ConfigError} an override for no policy, or named other than by index (Swift's words).
   */
  constructor(
    config: ConfigOf<typeof proxyServerSchema>,
    overrides: Readonly<Record<string, ConfigOf<typeof proxyPolicySchema>>>,
    policyIndexes: readonly number[],
    deps: { clock: Clock; random?: () => number },
  ) {
    this.deps = deps;
    this.base = compile(config);
    // A policy's settings: its section's, and [proxy-server]'s for what it leaves out.
    const overridden = Object.entries(overrides).map(([name, override]) => {
      if (!/^\d+$/.test(name)) throw new ConfigError(`proxy-server:policy:${name}`, name, `Override config must refer to policy index: '${name}'`);
      const index = Number(name);
      if (!policyIndexes.includes(index)) throw new ConfigError(`proxy-server:policy:${name}`, name, `No policy found for override config, index: ${index}`);
      return { index, settings: { ...config, ...definedOnly(override) } };
    });
    this.byPolicy = new Map(overridden.map((p) => [p.index, compile(p.settings)]));
    this.timingExpiryMs = config.timing_expiry * 1000;
    this.sortsByTiming = [this.base, ...this.byPolicy.values()].some((o) => o.sortingMethod === 'timing');
    const ignored = (s: Settings): boolean => s.read_affinity !== '' && s.sorting_method !== 'affinity';
    this.unusedReadAffinity = [...(ignored(config) ? ['(default)'] : []), ...overridden.filter((p) => ignored(p.settings)).map((p) => `policy ${p.index}`)];
  }

  /**
   * A read's primaries in the order to ask them (Swift's `sort_nodes`): shuffled first, so that
   * ties (equal timings, equal affinity) fall at random, then sorted by the method.
   */
  sortPrimaries<T extends Device>(nodes: readonly T[], policyIndex?: number): T[] {
    const options = this.options(policyIndex);
    const out = [...nodes];
    const random = this.deps.random ?? Math.random;
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    if (options.sortingMethod === 'timing') {
      const now = this.deps.clock.monotonic();
      const key = (node: Device): number => {
        const t = this.timings.get(node.ip);
        return t && t.until > now ? t.ms : -1;
      };
      out.sort((a, b) => key(a) - key(b));
    } else if (options.sortingMethod === 'affinity') {
      out.sort((a, b) => options.readRank(a) - options.readRank(b));
    }
    return out;
  }

  /** How long a node took to answer (Swift's `set_node_timing`: kept per address, to the millisecond). */
  recordTiming(node: Device, ms: number): void {
    if (!this.sortsByTiming) return;
    this.timings.set(node.ip, { ms: Math.round(ms), until: this.deps.clock.monotonic() + this.timingExpiryMs });
  }

  /**
   * An object write's nodes in order (Swift's `iter_nodes_local_first`): with `write_affinity`,
   * up to `write_affinity_node_count` local nodes (primaries and handoffs) first, then every
   * other node, primaries before handoffs; without it, `undefined` (primaries, then handoffs).
   * Lazy past the local ones: a write takes only the nodes it needs.
   */
  writeOrder(ring: Ring, partition: number, policyIndex?: number): Iterable<Device> | undefined {
    const { isLocal, localCount } = this.options(policyIndex);
    if (!isLocal) return undefined;
    const primaries = ring.getPartNodes(partition);
    const wanted = localCount(primaries.length);
    const preferred: Device[] = [];
    for (const node of allNodes(ring, partition, primaries)) {
      if (preferred.length >= wanted) break;
      if (isLocal(node)) preferred.push(node);
    }
    return preferredThenRest(ring, partition, primaries, preferred);
  }

  /**
   * An object DELETE's nodes under `write_affinity` (Swift's `DELETE`): every primary and
   * `write_affinity_handoff_delete_count` local handoffs (auto: one per primary that is not
   * local), so a delete reaches the local handoffs a recent write may have landed on; the
   * slots grow by as many. `undefined` without write affinity.
   */
  deleteNodes(ring: Ring, partition: number, policyIndex?: number): DeleteNodes | undefined {
    const { isLocal, handoffDeleteCount } = this.options(policyIndex);
    if (!isLocal) return undefined;
    const primaries = ring.getPartNodes(partition);
    const extra = handoffDeleteCount === 'auto' ? primaries.filter((n) => !isLocal(n)).length : handoffDeleteCount;
    const localHandoffs: Device[] = [];
    for (const node of ring.moreNodes(partition)) {
      if (localHandoffs.length >= extra) break;
      if (isLocal(node)) localHandoffs.push(node);
    }
    return { slots: primaries.length + extra, nodes: preferredThenRest(ring, partition, primaries, [...primaries, ...localHandoffs]) };
  }

  private options(policyIndex: number | undefined): Options {
    return (policyIndex === undefined ? undefined : this.byPolicy.get(policyIndex)) ?? this.base;
  }
}

/** A partition's primaries, then its handoffs. */
function* allNodes(ring: Ring, partition: number, primaries: readonly Device[]): Generator<Device> {
  yield* primaries;
  yield* ring.moreNodes(partition);
}

/** `preferred`, then every other node of the partition in ring order (handoffs only as far as asked for). */
function* preferredThenRest(ring: Ring, partition: number, primaries: readonly Device[], preferred: readonly Device[]): Generator<Device> {
  yield* preferred;
  const taken = new Set(preferred.map((n) => n.id));
  for (const node of allNodes(ring, partition, primaries)) if (!taken.has(node.id)) yield node;
}

/** The settings a policy may override, resolved. */
type Settings = Pick<ConfigOf<typeof proxyServerSchema>, keyof typeof proxyPolicySchema>;

function compile(config: Settings): Options {
  return {
    sortingMethod: config.sorting_method,
    readRank: readAffinityRank(config.read_affinity),
    isLocal: writeAffinityLocal(config.write_affinity),
    localCount: writeAffinityNodeCount(config.write_affinity_node_count),
    handoffDeleteCount: config.write_affinity_handoff_delete_count,
  };
}

function definedOnly<T extends object>(value: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
}
