import { ClaimFailed, NOT_ENOUGH_HOSTS, NoValidHost } from './errors.ts';
import { capacity, fits, type HostState, RESOURCE_NAMES, type Resources } from './host-state.ts';
import type { ServerGroup } from './request-spec.ts';

/**
 * Claims: what stops two concurrent boots from overcommitting a host. A claim is applied to
 * the host's *current* state and fails if it no longer fits (placement's allocation check);
 * the store then writes the new state only if nobody wrote since it was read (a conditional
 * write: placement's resource provider generation, here the record's version). A boot that
 * loses the race reads again and re-applies, so it either still fits or moves on to the next
 * host the scheduler sorted for it.
 */
export interface Claim {
  readonly instanceUuid: string;
  readonly resources: Resources;
  /** An anti-affinity group is checked again here, against the host as it is now. */
  readonly group?: ServerGroup;
}

function add(a: Resources, b: Resources, sign: 1 | -1): Resources {
  return { vcpus: a.vcpus + sign * b.vcpus, memoryMiB: a.memoryMiB + sign * b.memoryMiB, diskGiB: a.diskGiB + sign * b.diskGiB };
}

/**
 * The host's state with the claim's resources in use and its instance on it (generation + 1).
 * Applying a claim the host already holds returns the state unchanged, so a retried claim is
 * never counted twice.
 * @throws {ClaimFailed} a resource no longer fits, or the group already has its share here.
 */
export function applyClaim(host: HostState, claim: Claim): HostState {
  if (host.instances.includes(claim.instanceUuid)) return host;
  for (const resource of RESOURCE_NAMES) {
    const amount = claim.resources[resource];
    if (!fits(host, resource, amount)) {
      throw new ClaimFailed(host.host, `${amount} requested, ${host.used[resource]} of ${capacity(host, resource)} used (total ${host.total[resource]})`, resource);
    }
  }
  const group = claim.group;
  if (group?.policy === 'anti-affinity') {
    // Members as the claim knew them, and those the host itself says joined the group: the
    // second covers a member that joined after this boot read the group's list.
    const members = new Set(group.members);
    const max = group.rules?.max_server_per_host ?? 1;
    const here = host.instances.filter((uuid) => members.has(uuid) || host.instanceGroups?.[uuid] === group.uuid).length;
    if (here >= max) throw new ClaimFailed(host.host, `server group ${group.uuid} already has ${max} member(s) on the host`);
  }
  const instanceGroups = group === undefined ? host.instanceGroups : { ...host.instanceGroups, [claim.instanceUuid]: group.uuid };
  return { ...host, used: add(host.used, claim.resources, 1), instances: [...host.instances, claim.instanceUuid], ...(instanceGroups === undefined ? {} : { instanceGroups }), generation: host.generation + 1 };
}

/** The host's state without the claim (an instance deleted or moved); unchanged if it holds none. */
export function releaseClaim(host: HostState, claim: Claim): HostState {
  if (!host.instances.includes(claim.instanceUuid)) return host;
  const out: HostState = { ...host, used: add(host.used, claim.resources, -1), instances: host.instances.filter((u) => u !== claim.instanceUuid), generation: host.generation + 1 };
  if (host.instanceGroups?.[claim.instanceUuid] === undefined) return out;
  const { [claim.instanceUuid]: _gone, ...instanceGroups } = host.instanceGroups;
  return { ...out, instanceGroups };
}

/** Where host states live (the record store later): reads carry a version, writes are conditional on it. */
export interface HostStateStore {
  read(host: string): Promise<{ readonly state: HostState; readonly version: string }>;
  /** Writes `state` if the record is still at `version`; false if someone wrote meanwhile. */
  writeIfUnchanged(host: string, version: string, state: HostState): Promise<boolean>;
}

/** How often one host is re-read after losing a write race before the next host is tried. */
export const CLAIM_RETRIES = 10;

/**
 * One compare-and-swap of a host's state: `step` applied to the state as stored and written if
 * nobody wrote since it was read. The new state, or undefined when the write lost the race (the
 * caller reads again, or weighs the hosts again). A step that changes nothing writes nothing.
 * @throws whatever `step` throws ({ClaimFailed}: the claim no longer fits).
 */
export async function swapHostState(store: HostStateStore, host: string, step: (state: HostState) => HostState): Promise<HostState | undefined> {
  const { state, version } = await store.read(host);
  const next = step(state);
  return next === state || (await store.writeIfUnchanged(host, version, next)) ? next : undefined;
}

/**
 * `step` on the host's current state until its write wins.
 * @throws {ClaimFailed} after CLAIM_RETRIES lost races (the host's record kept changing), or what `step` throws.
 */
export async function updateHostState(store: HostStateStore, host: string, step: (state: HostState) => HostState): Promise<HostState> {
  for (let attempt = 0; attempt < CLAIM_RETRIES; attempt++) {
    const next = await swapHostState(store, host, step);
    if (next !== undefined) return next;
  }
  throw new ClaimFailed(host, 'the host record kept changing');
}

/**
 * Gives `claims` back on `host` (an instance deleted or moved, a resize's migration with it),
 * in one write; claims the host does not hold are skipped, so a rerun is harmless.
 * @throws {ClaimFailed} when the host's record kept changing (never given up silently).
 */
export function releaseOn(store: HostStateStore, host: string, ...claims: readonly Claim[]): Promise<HostState> {
  return updateHostState(store, host, (state) => claims.reduce(releaseClaim, state));
}

/**
 * Claims on the first of `candidates` (the scheduler's chosen host, then its alternates) where
 * the claim fits the state as stored, and returns the host's new state.
 * @throws {NoValidHost} when it fits none of them.
 */
export async function claimOnFirstFit(store: HostStateStore, candidates: readonly string[], claim: Claim): Promise<HostState> {
  for (const host of candidates) {
    for (let attempt = 0; attempt < CLAIM_RETRIES; attempt++) {
      let next: HostState | undefined;
      try {
        next = await swapHostState(store, host, (state) => applyClaim(state, claim));
      } catch (err) {
        if (err instanceof ClaimFailed) break;
        throw err;
      }
      if (next !== undefined) return next;
    }
  }
  throw new NoValidHost(NOT_ENOUGH_HOSTS);
}
