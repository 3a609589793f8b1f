import { applyClaim } from './claims.ts';
import { NOT_ENOUGH_HOSTS, NoValidHost } from './errors.ts';
import { AvailabilityZoneFilter } from './filters/availability-zone-filter.ts';
import { ComputeFilter } from './filters/compute-filter.ts';
import { CoreFilter } from './filters/core-filter.ts';
import { DiskFilter } from './filters/disk-filter.ts';
import type { FilterContext, HostFilter } from './filters/host-filter.ts';
import { ImagePropertiesFilter } from './filters/image-properties-filter.ts';
import { RamFilter } from './filters/ram-filter.ts';
import { ServerGroupAffinityFilter } from './filters/server-group-affinity-filter.ts';
import { ServerGroupAntiAffinityFilter } from './filters/server-group-anti-affinity-filter.ts';
import type { HostState } from './host-state.ts';
import type { RequestSpec } from './request-spec.ts';
import { cpuWeigher } from './weighers/cpu-weigher.ts';
import { diskWeigher } from './weighers/disk-weigher.ts';
import { type HostWeigher, weighHosts } from './weighers/host-weigher.ts';
import { ramWeigher } from './weighers/ram-weigher.ts';
import { serverGroupSoftAffinityWeigher, serverGroupSoftAntiAffinityWeigher } from './weighers/server-group-soft-weighers.ts';

/**
 * The filter scheduler as pure functions (`nova/scheduler/manager.py` select_destinations,
 * `_get_sorted_hosts`): filter the hosts, weigh those left, pick one at random among the
 * `host_subset_size` best, and keep the next best as alternates for when the claim loses a
 * race. Placing several instances claims each on a copy of the states before the next is
 * placed, so they see each other. The store-side claim is `claims.ts`.
 */
export interface SchedulerConfig {
  readonly filters: readonly HostFilter[];
  readonly weighers: readonly HostWeigher[];
  /** Nova's `host_subset_size` (default 1: always the best host). */
  readonly hostSubsetSize: number;
  /** Nova's `max_attempts` (default 3): the chosen host and up to this many minus one alternates. */
  readonly maxAttempts: number;
  /** Nova's `shuffle_best_same_weighed_hosts` (default false). */
  readonly shuffleBestSameWeighedHosts: boolean;
  readonly serviceDownTimeMs?: number;
  /** Draws in [0, 1): injected so tests (and `common/seeded-random.ts`) repeat. */
  readonly random: () => number;
}

/** Nova's filters for what this cloud has (enabled_filters), cheapest first. */
export const DEFAULT_FILTERS: readonly HostFilter[] = [
  ComputeFilter,
  AvailabilityZoneFilter,
  RamFilter,
  DiskFilter,
  CoreFilter,
  ImagePropertiesFilter,
  ServerGroupAntiAffinityFilter,
  ServerGroupAffinityFilter,
];

/**
 * Nova's defaults: the RAM, CPU and disk weighers at 1.0 (spread) and the soft server-group
 * weighers at 1.0, subset 1, 3 attempts.
 */
export function defaultSchedulerConfig(random: () => number): SchedulerConfig {
  return { filters: DEFAULT_FILTERS, weighers: [ramWeigher(), cpuWeigher(), diskWeigher(), serverGroupSoftAffinityWeigher(), serverGroupSoftAntiAffinityWeigher()], hostSubsetSize: 1, maxAttempts: 3, shuffleBestSameWeighedHosts: false, random };
}

/** The hosts every filter passes. */
export function filterHosts(hosts: readonly HostState[], context: FilterContext, filters: readonly HostFilter[]): HostState[] {
  return hosts.filter((host) => filters.every((f) => f.hostPasses(host, context)));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Nova's `_get_sorted_hosts`: the passing hosts best first, the first drawn from the best `host_subset_size`. */
export function sortedHosts(hosts: readonly HostState[], context: FilterContext, config: SchedulerConfig): HostState[] {
  const passing = filterHosts(hosts, context, config.filters);
  if (passing.length === 0) return [];
  let weighed = weighHosts(passing, config.weighers, context.spec);
  const top = weighed[0]?.weight;
  if (config.shuffleBestSameWeighedHosts) {
    const best = weighed.filter((w) => w.weight === top);
    weighed = [...shuffle(best, config.random), ...weighed.slice(best.length)];
  }
  const ordered = weighed.map((w) => w.host);
  const subset = ordered.slice(0, Math.max(1, config.hostSubsetSize));
  const chosen = subset[Math.floor(config.random() * subset.length)] as HostState;
  return [chosen, ...ordered.filter((h) => h !== chosen)];
}

/** Where one instance goes: its host and the alternates to try if the claim there fails. */
export interface Selection {
  readonly instanceUuid: string;
  readonly host: string;
  readonly alternates: readonly string[];
}

function groupHosts(hosts: ReadonlyMap<string, HostState>, spec: RequestSpec): Set<string> {
  const members = new Set(spec.group?.members ?? []);
  const out = new Set<string>();
  if (members.size === 0) return out;
  for (const h of hosts.values()) if (h.instances.some((uuid) => members.has(uuid))) out.add(h.host);
  return out;
}

/**
 * Places every instance of `spec`, or none (Nova's all-or-nothing `_ensure_sufficient_hosts`).
 * @throws {NoValidHost} "No valid host was found. There are not enough hosts available."
 */
export function selectDestinations(hosts: readonly HostState[], spec: RequestSpec, config: SchedulerConfig, nowMs: number): Selection[] {
  const states = new Map(hosts.map((h) => [h.host, h]));
  const group = spec.group === undefined ? undefined : { ...spec.group, members: [...new Set([...spec.group.members, ...spec.instanceUuids])] };
  const full: RequestSpec = group === undefined ? spec : { ...spec, group };
  const selections: Selection[] = [];
  for (const instanceUuid of spec.instanceUuids) {
    const context: FilterContext = { spec: full, instanceUuid, groupHosts: groupHosts(states, full), nowMs, ...(config.serviceDownTimeMs === undefined ? {} : { serviceDownTimeMs: config.serviceDownTimeMs }) };
    const [chosen, ...rest] = sortedHosts([...states.values()], context, config);
    if (chosen === undefined) throw new NoValidHost(NOT_ENOUGH_HOSTS);
    states.set(chosen.host, applyClaim(chosen, { instanceUuid, resources: spec.resources, ...(group === undefined ? {} : { group }) }));
    selections.push({ instanceUuid, host: chosen.host, alternates: rest.slice(0, config.maxAttempts - 1).map((h) => h.host) });
  }
  return selections;
}
