import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, type NovaError, notFound, overQuota, policyForbidden } from '../errors.ts';
import { flavorVisible } from '../flavor-view.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { recordAction } from '../instance-actions.ts';
import { exceeds, quotaLimits } from '../quota.ts';
import { type FlavorRecord, T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeResponse, contextOf, NO_CONTENT } from '../request.ts';
import { createMigration, migrationTarget, setMigrationStatus } from '../migration-record.ts';
import { claimResize, flavorClaim, holdSourceClaim } from '../resize-claims.ts';
import { confirmMove } from '../resize-confirm.ts';
import { claimOnFirstFit, releaseClaim, releaseOn } from '../scheduler/claims.ts';
import { ClaimFailed, NOT_ENOUGH_HOSTS, NoValidHost } from '../scheduler/errors.ts';
import { defaultSchedulerConfig, selectDestinations } from '../scheduler/select-destinations.ts';
import { type ServerGroupRecord, schedulerGroup } from '../server-group-record.ts';
import type { ServerFlavor, ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import type { ProjectUsage } from '../usage.ts';
import { bodyMember, fieldError, pyRepr } from '../validation.ts';
import { enqueue } from '../work-queue.ts';
import { stateRefusal } from './instance-state.ts';
import { checkLock } from './servers.ts';

export interface ResizeDeps {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly usage: ProjectUsage;
  readonly logger: Logger;
  /** Nova's `[DEFAULT] allow_resize_to_same_host` (default false): a resize may stay on the server's host. */
  readonly allowResizeToSameHost: boolean;
}

const RESIZE_FROM: readonly VmState[] = ['active', 'stopped'];

function serverFlavor(f: FlavorRecord): ServerFlavor {
  return { flavorid: f.flavorid, name: f.name, vcpus: f.vcpus, ram: f.memory_mb, disk: f.root_gb, ephemeral: f.ephemeral_gb, swap: f.swap, extra_specs: f.extra_specs };
}

/** Nova's `check_instance_state`: the vm state first, then no task running. */

/**
 * `resize`: a new flavor for the server, on its own host (a cold migration to another host
 * would carry the disk between nodes, which this cloud does not do yet; Nova with
 * `allow_resize_to_same_host` does the same here). The request is checked as Nova checks it
 * (state, lock, flavor, same flavor 400, zero disk 400, quota for the upsize 403), the server
 * goes to RESIZE (`resize_prep`), and the new flavor is scheduled (the host through the
 * filters) and claimed beside the old one; when it does not fit the server goes back to its
 * state with a fault, as Nova's conductor does after NoValidHost. Then the host's agent
 * powers the guest off, redefines it with the new flavor, starts it again (if it was running)
 * and leaves it VERIFY_RESIZE.
 */
export async function resize(d: ResizeDeps, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const { store } = d;
  const c = contextOf(req);
  const body = bodyMember({ resize: arg }, 'resize', ['flavorRef', 'OS-DCF:diskConfig'], ['flavorRef']);
  const ref = body['flavorRef'];
  if ((typeof ref !== 'string' && typeof ref !== 'number') || String(ref) === '') throw fieldError('flavorRef', ref, `${pyRepr(ref)} is not of type 'string', 'integer'`);
  const flavorId = String(ref).split('/').at(-1) as string;
  checkLock(c, s);
  const refused = stateRefusal(s, 'resize', RESIZE_FROM);
  if (refused) throw refused;
  const found = await store.get<FlavorRecord>(T.flavors, flavorId);
  if (!found || !flavorVisible(found, c.projectId, c.isAdmin) || (found.disabled && found.flavorid !== s.flavor.flavorid)) throw badRequest(`Flavor ${flavorId} could not be found.`);
  if (found.flavorid === s.flavor.flavorid) throw badRequest('When resizing, instances must change flavor!');
  if (found.root_gb === 0 && s.flavor.disk !== 0 && !s.volume_backed) throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.');
  const newFlavor = serverFlavor(found);
  // Nova's _check_quota_for_upsize: only what grows counts.
  const limits = await quotaLimits(store, s.project_id);
  const used = await d.usage.of(s.project_id);
  for (const [name, delta, limit, inUse] of [['cores', newFlavor.vcpus - s.flavor.vcpus, limits.cores, used.cores], ['ram', newFlavor.ram - s.flavor.ram, limits.ram, used.ram]] as const) {
    if (delta > 0 && exceeds(limit, inUse, delta)) throw overQuota(`Quota exceeded for ${name}: Requested ${delta}, but already used ${inUse} of ${limit} ${name}`);
  }

  return startMove(d, req, s, newFlavor, { type: 'resize' });
}

/**
 * `migrate` (cold, admin only by Nova's default policy): the server moves to another host with
 * its flavor, through the same steps as a resize, and waits in VERIFY_RESIZE for confirm or
 * revert. From 2.56 `host` names the target (checked by the scheduler's filters all the same).
 */
export async function migrate(d: ResizeDeps, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const c = contextOf(req);
  let host: string | undefined;
  // Before 2.56 the body is not checked at all (no schema): whatever is sent, the scheduler picks.
  if (atLeast(req.version, '2.56') && arg !== null) {
    const body = bodyMember({ migrate: arg }, 'migrate', ['host'], []);
    const h = body['host'];
    if (h !== undefined && h !== null) {
      if (typeof h !== 'string' || h.length === 0 || h.length > 255) throw fieldError('host', h, typeof h === 'string' ? `${pyRepr(h)} is too ${h.length === 0 ? 'short' : 'long'}` : `${pyRepr(h)} is not of type 'string', 'null'`);
      host = h;
    }
  }
  if (!c.isAdmin) throw policyForbidden(host === undefined ? 'os_compute_api:os-migrate-server:migrate' : 'os_compute_api:os-migrate-server:migrate:host');
  checkLock(c, s);
  const refused = stateRefusal(s, 'migrate', RESIZE_FROM);
  if (refused) throw refused;
  if (host !== undefined) {
    // Nova's _validate_host_for_cold_migrate, before anything is written.
    if (host === s.host) throw badRequest('Cannot migrate to the host where the server exists.');
    if (!(await d.hosts.all()).some((h) => h.host === host)) throw badRequest(`Compute host ${host} could not be found.`);
  }
  return startMove(d, req, s, s.flavor, { type: 'migration', ...(host === undefined ? {} : { host }) });
}

/**
 * The conductor's migrate task for a resize or a cold migration: the server goes to RESIZE
 * (`resize_prep`), the scheduler picks a host for the new flavor among the enabled ones,
 * without the server's own host unless `allow_resize_to_same_host` (never for a migration, as
 * Nova's libvirt driver), and the new flavor is claimed there. On the same host the claims sit
 * side by side (claimResize); on another the target holds the new flavor for the instance and
 * the source keeps the old one under the migration's id until confirm or revert. The move is
 * queued on the source's agent. No host: Nova's fault, the server back to its state.
 */
async function startMove(d: ResizeDeps, req: ComputeRequest, s: ServerRecord, newFlavor: ServerFlavor, options: { type: 'resize' | 'migration'; host?: string }): Promise<ComputeResponse> {
  const { store } = d;
  const c = contextOf(req);
  const action = options.type === 'resize' ? 'resize' : 'migrate';
  let refusal: NovaError | undefined;
  const id = randomUUID();
  const prepared = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = stateRefusal(cur.value, action, RESIZE_FROM);
    if (refusal || cur.value.host === null) return undefined;
    const migration = { id, old_flavor: cur.value.flavor, new_flavor: options.type === 'resize' ? newFlavor : cur.value.flavor, old_vm_state: cur.value.vm_state as 'active' | 'stopped', migration_type: options.type, source_compute: cur.value.host };
    return { ...cur.value, task_state: 'resize_prep', migration, updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  if (!prepared?.value.host || !prepared.value.migration) throw notFound(`Instance ${s.uuid} could not be found.`);
  const source = prepared.value.host;
  const m = prepared.value.migration;
  // Nova's conductor writes the Migration before it schedules (`_preallocate_migration`).
  await createMigration(store, c, prepared.value, { uuid: m.id, type: options.type, status: 'pre-migrating' });
  await recordAction(store, c, s.uuid, action, req.requestId);

  let target: string | undefined;
  let claimedOn: string | undefined;
  try {
    const group = s.server_group === undefined ? undefined : await store.get<ServerGroupRecord>(T.serverGroups, s.server_group);
    const sameHostAllowed = options.type === 'resize' && d.allowResizeToSameHost;
    const candidates = (await d.hosts.all()).filter((h) => (options.host === undefined || h.host === options.host) && (sameHostAllowed || h.host !== source));
    // The server's own claim does not count against it on its own host (it gives the old flavor up there).
    const states = candidates.map((h) => (h.host === source ? releaseClaim(h, flavorClaim(s.uuid, m.old_flavor, s.root_disk_unclaimed)) : h));
    const claim = flavorClaim(s.uuid, m.new_flavor, s.root_disk_unclaimed);
    const groupSpec = group ? schedulerGroup(group) : undefined;
    const [picked] = selectDestinations(states, { instanceUuids: [s.uuid], resources: claim.resources, imageProperties: {}, ...(groupSpec ? { group: { ...groupSpec, members: groupSpec.members.filter((u) => u !== s.uuid) } } : {}) }, defaultSchedulerConfig(Math.random), store.clock.now());
    if (!picked) throw new NoValidHost(NOT_ENOUGH_HOSTS);
    if (picked.host === source) {
      await claimResize(d.hosts, source, s.uuid, m.id, m.old_flavor, m.new_flavor, s.root_disk_unclaimed);
      target = source;
    } else {
      claimedOn = (await claimOnFirstFit(d.hosts, [picked.host, ...picked.alternates.filter((h) => h !== source)], groupSpec ? { ...claim, group: { ...groupSpec, members: groupSpec.members.filter((u) => u !== s.uuid) } } : claim)).host;
      await holdSourceClaim(d.hosts, source, s.uuid, m.id, m.old_flavor, s.root_disk_unclaimed);
      target = claimedOn;
    }
  } catch (err) {
    // The target's claim is given back when the source's could not be moved.
    if (claimedOn !== undefined) await releaseOn(d.hosts, claimedOn, flavorClaim(s.uuid, m.new_flavor, s.root_disk_unclaimed));
    if (!(err instanceof NoValidHost) && !(err instanceof ClaimFailed)) throw err;
    d.logger.info(`${action} not placed`, { server: s.uuid, err });
    const message = err instanceof NoValidHost ? err.message : `No valid host was found. ${err.message}`;
    await setMigrationStatus(store, m.id, 'error');
    await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
      const { migration: _dropped, ...rest } = cur.value;
      return { ...rest, task_state: null, fault: { code: 500, message, created: store.isoSeconds() }, updated_at: store.isoSeconds() };
    });
    return ACCEPTED;
  }
  await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => (cur.value.migration?.id === m.id ? { ...cur.value, migration: { ...cur.value.migration, dest_compute: target } } : undefined));
  const targetIp = (await d.hosts.all()).find((h) => h.host === target)?.hostIp ?? null;
  await setMigrationStatus(store, m.id, 'pre-migrating', migrationTarget(target, targetIp));
  await enqueue(store, source, store.clock.now(), { server: s.uuid, task: 'resize', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
  return ACCEPTED;
}

/**
 * `confirmResize` (204): the old flavor's claim (the migration's, on the source) is given back
 * and the server is ACTIVE (or SHUTOFF, as it was before) with the new flavor. After a move to
 * another host the source's agent then undefines the old guest and removes its disk and the
 * temporary object (Nova's confirm_resize on the source compute).
 */
export async function confirmResize(d: ResizeDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const c = contextOf(req);
  checkLock(c, s);
  const refused = stateRefusal(s, 'confirmResize', ['resized']);
  if (refused) throw refused;
  if (!s.migration || s.host === null) throw badRequest('Instance has not been resized.');
  await confirmMove(d, { ...s, migration: s.migration, host: s.host }, c, req.requestId, req.headers['x-auth-token'] ?? '');
  return NO_CONTENT;
}

/**
 * `revertResize` (202): REVERT_RESIZE until the guest runs with the old flavor again: in place,
 * the host's agent defines it again; after a move the target's agent removes its guest and
 * claim, then the source's brings the old guest back (Nova's revert_resize, finish_revert_resize).
 */
export async function revertResize(d: ResizeDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const { store } = d;
  const c = contextOf(req);
  checkLock(c, s);
  const refused = stateRefusal(s, 'revertResize', ['resized']);
  if (refused) throw refused;
  if (!s.migration || s.host === null) throw badRequest('Instance has not been resized.');
  let refusal: NovaError | undefined;
  await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = stateRefusal(cur.value, 'revertResize', ['resized']);
    return refusal ? undefined : { ...cur.value, task_state: 'resize_reverting', updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  await setMigrationStatus(store, s.migration.id, 'reverting');
  await recordAction(store, c, s.uuid, 'revertResize', req.requestId);
  await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'resize-revert', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
  return ACCEPTED;
}
