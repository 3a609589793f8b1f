import type { HostStateStore } from './scheduler/claims.ts';
import { applyClaim, type Claim, releaseClaim, updateHostState } from './scheduler/claims.ts';
import type { HostState } from './scheduler/host-state.ts';
import { resourcesFromFlavor } from './scheduler/request-spec.ts';
import type { ServerFlavor, ServerRecord } from './server-record.ts';

/**
 * What a server of `flavor` claims on its host: with `noRootDisk` (it boots from a volume,
 * Nova's is_bfv: the server's `root_disk_unclaimed`) no root disk, as Nova's
 * resources_from_request_spec (the root is a Cinder volume, not a file on the host). Every
 * claim and release of one server passes the same flag.
 */
export function flavorClaim(consumer: string, flavor: ServerFlavor, noRootDisk: boolean | undefined): Claim {
  return { instanceUuid: consumer, resources: resourcesFromFlavor({ vcpus: flavor.vcpus, ram: flavor.ram, disk: flavor.disk, 'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral, swap: flavor.swap }, noRootDisk === true) };
}

/** What a server holds on its host: its flavor's claim, and the old flavor's under the migration's id while a resize waits. */
export function serverClaims(s: ServerRecord): Claim[] {
  return [flavorClaim(s.uuid, s.flavor, s.root_disk_unclaimed), ...(s.migration === undefined ? [] : [flavorClaim(s.migration.id, s.migration.old_flavor, s.root_disk_unclaimed)])];
}

/**
 * A resize on the server's own host, as placement holds it: the old flavor's claim moves to
 * the migration's id and the new flavor is claimed for the instance, both at once, so the
 * host holds both until the resize is confirmed or reverted (placement counts a same-host
 * resize twice too). The group, if any, is not checked again: the instance stays where it is.
 * @throws {ClaimFailed} the new flavor does not fit beside the old one.
 */
export function claimResize(hosts: HostStateStore, host: string, instance: string, migration: string, oldFlavor: ServerFlavor, newFlavor: ServerFlavor, noRootDisk: boolean | undefined): Promise<HostState> {
  return updateHostState(hosts, host, (state) => {
    if (state.instances.includes(migration)) return state;
    const group = state.instanceGroups?.[instance];
    const withNew = applyClaim(applyClaim(releaseClaim(state, flavorClaim(instance, oldFlavor, noRootDisk)), flavorClaim(migration, oldFlavor, noRootDisk)), flavorClaim(instance, newFlavor, noRootDisk));
    return group === undefined ? withNew : { ...withNew, instanceGroups: { ...withNew.instanceGroups, [instance]: group } };
  });
}

/** Confirm: the old flavor's claim (held by the migration) is given back. */
export function confirmResizeClaim(hosts: HostStateStore, host: string, migration: string, oldFlavor: ServerFlavor, noRootDisk: boolean | undefined): Promise<HostState> {
  return updateHostState(hosts, host, (state) => releaseClaim(state, flavorClaim(migration, oldFlavor, noRootDisk)));
}

/** Revert (or a resize that failed): the new flavor's claim is given back and the old one is the instance's again. */
export function revertResizeClaim(hosts: HostStateStore, host: string, instance: string, migration: string, oldFlavor: ServerFlavor, newFlavor: ServerFlavor, noRootDisk: boolean | undefined): Promise<HostState> {
  return updateHostState(hosts, host, (state) => {
    if (!state.instances.includes(migration)) return state;
    const group = state.instanceGroups?.[instance];
    const freed = releaseClaim(releaseClaim(state, flavorClaim(instance, newFlavor, noRootDisk)), flavorClaim(migration, oldFlavor, noRootDisk));
    const back = applyClaim(freed, flavorClaim(instance, oldFlavor, noRootDisk));
    return group === undefined ? back : { ...back, instanceGroups: { ...back.instanceGroups, [instance]: group } };
  });
}

/**
 * A move to another host, on its source: the instance's claim passes to the migration's id
 * (Nova moves the source allocation to the migration), so the source holds it until confirm.
 */
export function holdSourceClaim(hosts: HostStateStore, source: string, instance: string, migration: string, oldFlavor: ServerFlavor, noRootDisk: boolean | undefined): Promise<HostState> {
  return updateHostState(hosts, source, (state) => {
    if (state.instances.includes(migration)) return state;
    const group = state.instanceGroups?.[instance];
    const moved = applyClaim(releaseClaim(state, flavorClaim(instance, oldFlavor, noRootDisk)), flavorClaim(migration, oldFlavor, noRootDisk));
    return group === undefined ? moved : { ...moved, instanceGroups: { ...moved.instanceGroups, [migration]: group } };
  });
}

/** A move reverted (or failed), on its source: the migration's claim is the instance's again. */
export function restoreSourceClaim(hosts: HostStateStore, source: string, instance: string, migration: string, oldFlavor: ServerFlavor, noRootDisk: boolean | undefined): Promise<HostState> {
  return updateHostState(hosts, source, (state) => {
    if (!state.instances.includes(migration)) return state;
    const group = state.instanceGroups?.[migration];
    const back = applyClaim(releaseClaim(state, flavorClaim(migration, oldFlavor, noRootDisk)), flavorClaim(instance, oldFlavor, noRootDisk));
    return group === undefined ? back : { ...back, instanceGroups: { ...back.instanceGroups, [instance]: group } };
  });
}
