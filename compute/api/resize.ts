import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import { badRequest, invalidState, type NovaError, notFound, overQuota } from '../errors.ts';
import { flavorVisible } from '../flavor-view.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { recordAction } from '../instance-actions.ts';
import { exceeds, quotaLimits } from '../quota.ts';
import { type FlavorRecord, T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeResponse, contextOf, NO_CONTENT } from '../request.ts';
import { claimResize, confirmResizeClaim, flavorClaim } from '../resize-claims.ts';
import { ClaimFailed, NoValidHost } from '../scheduler/errors.ts';
import { defaultSchedulerConfig, selectDestinations } from '../scheduler/select-destinations.ts';
import { type ServerGroupRecord, schedulerGroup } from '../server-group-record.ts';
import type { ServerFlavor, ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import type { ProjectUsage } from '../usage.ts';
import { bodyMember, fieldError, pyRepr } from '../validation.ts';
import { enqueue } from '../work-queue.ts';
import { checkLock } from './servers.ts';

export interface ResizeDeps {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly usage: ProjectUsage;
  readonly logger: Logger;
}

const RESIZE_FROM: readonly VmState[] = ['active', 'stopped'];

function serverFlavor(f: FlavorRecord): ServerFlavor {
  return { flavorid: f.flavorid, name: f.name, vcpus: f.vcpus, ram: f.memory_mb, disk: f.root_gb, ephemeral: f.ephemeral_gb, swap: f.swap, extra_specs: f.extra_specs };
}

/** Nova's `check_instance_state`: the vm state first, then no task running. */
function checkState(s: ServerRecord, action: string, from: readonly VmState[]): NovaError | undefined {
  if (!from.includes(s.vm_state)) return invalidState(s.uuid, action, 'vm_state', s.vm_state);
  if (s.task_state !== null) return invalidState(s.uuid, action, 'task_state', s.task_state);
  return undefined;
}

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
  const refused = checkState(s, 'resize', RESIZE_FROM);
  if (refused) throw refused;
  const found = await store.get<FlavorRecord>(T.flavors, flavorId);
  if (!found || !flavorVisible(found, c.projectId, c.isAdmin) || (found.disabled && found.flavorid !== s.flavor.flavorid)) throw badRequest(`Flavor ${flavorId} could not be found.`);
  if (found.flavorid === s.flavor.flavorid) throw badRequest('When resizing, instances must change flavor!');
  if (found.root_gb === 0 && s.flavor.disk !== 0) throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.');
  const newFlavor = serverFlavor(found);
  // Nova's _check_quota_for_upsize: only what grows counts.
  const limits = await quotaLimits(store, s.project_id);
  const used = await d.usage.of(s.project_id);
  for (const [name, delta, limit, inUse] of [['cores', newFlavor.vcpus - s.flavor.vcpus, limits.cores, used.cores], ['ram', newFlavor.ram - s.flavor.ram, limits.ram, used.ram]] as const) {
    if (delta > 0 && exceeds(limit, inUse, delta)) throw overQuota(`Quota exceeded for ${name}: Requested ${delta}, but already used ${inUse} of ${limit} ${name}`);
  }

  let refusal: NovaError | undefined;
  const migration = { id: randomUUID(), old_flavor: s.flavor, new_flavor: newFlavor, old_vm_state: s.vm_state as 'active' | 'stopped' };
  const prepared = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = checkState(cur.value, 'resize', RESIZE_FROM);
    if (refusal || cur.value.host === null) return undefined;
    return { ...cur.value, task_state: 'resize_prep', migration: { ...migration, old_flavor: cur.value.flavor, old_vm_state: cur.value.vm_state as 'active' | 'stopped' }, updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  if (!prepared?.value.host || !prepared.value.migration) throw notFound(`Instance ${s.uuid} could not be found.`);
  const host = prepared.value.host;
  const m = prepared.value.migration;
  await recordAction(store, c, s.uuid, 'resize', req.requestId);

  try {
    const group = s.server_group === undefined ? undefined : await store.get<ServerGroupRecord>(T.serverGroups, s.server_group);
    const state = (await d.hosts.read(host)).state;
    selectDestinations([state], { instanceUuids: [s.uuid], resources: flavorClaim(s.uuid, newFlavor).resources, imageProperties: {}, ...(group ? { group: schedulerGroup(group) } : {}) }, defaultSchedulerConfig(Math.random), store.clock.now());
    await claimResize(d.hosts, host, s.uuid, m.id, m.old_flavor, m.new_flavor);
  } catch (err) {
    if (!(err instanceof NoValidHost) && !(err instanceof ClaimFailed)) throw err;
    d.logger.info('resize not placed', { server: s.uuid, err });
    const message = err instanceof NoValidHost ? err.message : `No valid host was found. ${err.message}`;
    await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
      const { migration: _dropped, ...rest } = cur.value;
      return { ...rest, task_state: null, fault: { code: 500, message, created: store.isoSeconds() }, updated_at: store.isoSeconds() };
    });
    return ACCEPTED;
  }
  await enqueue(store, host, store.clock.now(), { server: s.uuid, task: 'resize', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
  return ACCEPTED;
}

/**
 * `confirmResize` (204): the old flavor's claim is given back and the server is ACTIVE (or
 * SHUTOFF, as it was before) with the new flavor. Nothing is left on the host to clean: the
 * resize happened in place.
 */
export async function confirmResize(d: ResizeDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const { store } = d;
  const c = contextOf(req);
  checkLock(c, s);
  const refused = checkState(s, 'confirmResize', ['resized']);
  if (refused) throw refused;
  if (!s.migration || s.host === null) throw badRequest('Instance has not been resized.');
  await confirmResizeClaim(d.hosts, s.host, s.migration.id, s.migration.old_flavor);
  let refusal: NovaError | undefined;
  await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = checkState(cur.value, 'confirmResize', ['resized']);
    if (refusal) return undefined;
    const { migration, ...rest } = cur.value;
    return { ...rest, vm_state: cur.value.power_state === 1 ? 'active' : 'stopped', updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  await recordAction(store, c, s.uuid, 'confirmResize', req.requestId);
  return NO_CONTENT;
}

/** `revertResize` (202): REVERT_RESIZE until the host's agent has redefined the guest with the old flavor. */
export async function revertResize(d: ResizeDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const { store } = d;
  const c = contextOf(req);
  checkLock(c, s);
  const refused = checkState(s, 'revertResize', ['resized']);
  if (refused) throw refused;
  if (!s.migration || s.host === null) throw badRequest('Instance has not been resized.');
  let refusal: NovaError | undefined;
  await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = checkState(cur.value, 'revertResize', ['resized']);
    return refusal ? undefined : { ...cur.value, task_state: 'resize_reverting', updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  await recordAction(store, c, s.uuid, 'revertResize', req.requestId);
  await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'resize-revert', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
  return ACCEPTED;
}
