import { hostname } from 'node:os';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, conflict, invalidState } from '../errors.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import type { ImageApi } from '../image-api.ts';
import { finishEvent, recordAction, startEvent } from '../instance-actions.ts';
import { requireAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeResponse, contextOf } from '../request.ts';
import { flavorClaim } from '../resize-claims.ts';
import { claimOnFirstFit, releaseOn } from '../scheduler/claims.ts';
import { NoValidHost, NOT_ENOUGH_HOSTS } from '../scheduler/errors.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import { defaultSchedulerConfig, selectDestinations } from '../scheduler/select-destinations.ts';
import { type ServerGroupRecord, schedulerGroup } from '../server-group-record.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { checkMembers, fieldError, isObject, nameParam, onlyMember, pyRepr } from '../validation.ts';
import { enqueue } from '../work-queue.ts';
import { imageBootMeta } from './block-device-mappings.ts';
import { checkLock } from './servers.ts';
import { snapshotServer } from './snapshot-image.ts';
import { checkInstanceState, dropTask, takeTask } from './instance-state.ts';

export interface ShelveDeps {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly images: ImageApi;
  readonly logger: Logger;
}

const SHELVE_FROM: readonly VmState[] = ['active', 'stopped', 'paused', 'suspended'];

/** The conductor's steps an unshelve records on its action, and the host it names. */
const CONDUCTOR_HOST = hostname();

/**
 * `shelve` (`openstack server shelve`), as Nova's: from ACTIVE, SHUTOFF, PAUSED or SUSPENDED
 * with no task, not locked; the server at `shelving`, a snapshot image `<name>-shelved` made
 * with the user's token (shared with the server's project when an admin shelves another's), and
 * its host asked to power off and upload (then offload, compute/agent/shelve-steps.ts). A
 * volume-backed server has nothing to upload: its host offloads it at once. 202, no body.
 */
export async function shelve(d: ShelveDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const { store } = d;
  const c = contextOf(req);
  checkLock(c, s);
  if (s.host === null) throw invalidState(s.uuid, 'shelve', 'vm_state', s.vm_state);
  const host = (await takeTask(store, s, 'shelve', SHELVE_FROM, 'shelving')).host ?? s.host;
  const token = req.headers['x-auth-token'] ?? '';
  await recordAction(store, c, s.uuid, 'shelve', req.requestId);
  if (s.volume_backed) {
    await enqueue(store, host, store.clock.now(), { server: s.uuid, task: 'shelve-offload', token, requestId: req.requestId });
    return ACCEPTED;
  }
  let imageId: string;
  try {
    const image = await snapshotServer(d.images, token, c, s, `${s.name}-shelved`);
    imageId = image.id;
  } catch (err) {
    await dropTask(store, s.uuid, 'shelving');
    throw err;
  }
  await enqueue(store, host, store.clock.now(), { server: s.uuid, task: 'shelve', token, requestId: req.requestId, imageId });
  return ACCEPTED;
}

/** `shelveOffload` (admins, `os_compute_api:os-shelve:shelve_offload`): a SHELVED server taken off its host now. 202. */
export async function shelveOffload(d: ShelveDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const c = requireAdmin(req, 'os_compute_api:os-shelve:shelve_offload');
  checkLock(c, s);
  if (s.vm_state === 'shelved' && s.host === null) throw invalidState(s.uuid, 'shelveOffload', 'vm_state', s.vm_state);
  const host = (await takeTask(d.store, s, 'shelveOffload', ['shelved'], 'shelving_offloading')).host ?? (s.host as string);
  await recordAction(d.store, c, s.uuid, 'shelveOffload', req.requestId);
  await enqueue(d.store, host, d.store.clock.now(), { server: s.uuid, task: 'shelve-offload', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
  return ACCEPTED;
}

/** What an unshelve asks by microversion: a new zone (`null`: unpinned; absent: unchanged) and a host. */
interface UnshelveArgs {
  readonly zone?: string | null;
  readonly host?: string;
}

/** Nova's unshelve schemas: anything before 2.77; `null` or `{"availability_zone"}` to 2.90; from 2.91 `availability_zone` (or null) and `host`. */
function unshelveArgs(req: ComputeRequest): UnshelveArgs {
  const value = onlyMember(req.body, 'unshelve');
  if (!atLeast(req.version, '2.77')) return {};
  if (value === null) return {};
  if (!isObject(value)) throw fieldError('unshelve', value, `${pyRepr(value)} is not of type 'object', 'null'`);
  if (!atLeast(req.version, '2.91')) {
    checkMembers('unshelve', value, ['availability_zone'], ['availability_zone']);
    return { zone: nameParam('availability_zone', value['availability_zone']) };
  }
  checkMembers('unshelve', value, ['availability_zone', 'host'], []);
  const zone = value['availability_zone'];
  if (zone !== undefined && zone !== null && typeof zone !== 'string') throw fieldError('availability_zone', zone, `${pyRepr(zone)} is not of type 'string', 'null'`);
  const host = value['host'];
  if (host !== undefined && typeof host !== 'string') throw fieldError('host', host, `${pyRepr(host)} is not of type 'string'`);
  return { ...(zone !== undefined ? { zone: zone as string | null } : {}), ...(host !== undefined ? { host } : {}) };
}

/**
 * `unshelve` (`openstack server unshelve`), as Nova's API and conductor: a SHELVED server is
 * powered on on its host (`start`, which deletes the snapshot); a SHELVED_OFFLOADED one is
 * scheduled again (its boot's zone, or the one asked from 2.77, `null` unpinning it from 2.91;
 * a host from 2.91, admins only), claimed and queued for that host's agent. Its snapshot must
 * still exist (else ERROR, as Nova's conductor); no host: it stays SHELVED_OFFLOADED without a
 * task, the action's `schedule_instances` event failed. 202.
 */
export async function unshelve(d: ShelveDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const { store } = d;
  const args = unshelveArgs(req);
  const c = contextOf(req);
  checkLock(c, s);
  checkInstanceState(s, 'unshelve', ['shelved', 'shelved_offloaded']);
  const zonePassed = 'zone' in args;
  if ((zonePassed || args.host !== undefined) && s.vm_state !== 'shelved_offloaded') {
    throw conflict(`Specifying an availability zone or a host when unshelving server "${s.uuid}" with status "${s.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`);
  }
  const hosts = await d.hosts.all();
  const now = store.clock.now();
  if (zonePassed && args.zone) {
    const available = new Set(hosts.filter((h) => h.enabled && isServiceUp(h, now)).map((h) => h.availabilityZone));
    if (!available.has(args.zone)) throw badRequest('The requested availability zone is not available');
  }
  const zone = zonePassed ? (args.zone ?? undefined) : s.requested_availability_zone;
  if (args.host !== undefined) {
    requireAdmin(req, 'os_compute_api:os-shelve:unshelve_to_host');
    const named = hosts.find((h) => h.host === args.host);
    if (!named) throw badRequest(`Compute host ${args.host} could not be found.`);
    if (zone !== undefined && named.availabilityZone !== zone) throw conflict(`Host "${args.host}" is not in the availability zone "${zone}".`);
  }

  if (s.vm_state === 'shelved') {
    // Nova's conductor powers a server never offloaded on where it is.
    if (s.host === null) throw invalidState(s.uuid, 'unshelve', 'vm_state', s.vm_state);
    const host = (await takeTask(store, s, 'unshelve', ['shelved'], 'powering-on')).host ?? s.host;
    await recordAction(store, c, s.uuid, 'unshelve', req.requestId);
    await enqueue(store, host, store.clock.now(), { server: s.uuid, task: 'start', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
    return ACCEPTED;
  }
  // The zone asked for pins the server from now on (Nova saves it in the request spec); null unpins it.
  const pin = (v: ServerRecord): ServerRecord => {
    if (!zonePassed) return v;
    const { requested_availability_zone: _, ...rest } = v;
    return zone === undefined ? rest : { ...rest, requested_availability_zone: zone };
  };
  const taken = await takeTask(store, s, 'unshelve', ['shelved_offloaded'], 'unshelving', pin);
  await recordAction(store, c, s.uuid, 'unshelve', req.requestId);
  try {
    await placeUnshelve(d, req, taken, zone, args.host);
  } catch (err) {
    // Nova's conductor: any other failure leaves the server without its task, as it was.
    await dropTask(store, s.uuid, 'unshelving', (v) => v.host === null);
    throw err;
  }
  return ACCEPTED;
}

/**
 * The conductor's half (Nova's `unshelve_instance` for SHELVED_OFFLOADED): the snapshot looked
 * up (`get_image_info`), a host picked and claimed (`schedule_instances`), the server given that
 * host and queued there.
 */
async function placeUnshelve(d: ShelveDeps, req: ComputeRequest, s: ServerRecord, zone: string | undefined, host: string | undefined): Promise<void> {
  const { store } = d;
  const token = req.headers['x-auth-token'] ?? '';
  let imageProperties: Readonly<Record<string, string>> = {};
  if (s.shelved !== undefined) {
    await startEvent(store, s.uuid, req.requestId, 'get_image_info', CONDUCTOR_HOST);
    const image = await d.images.get(token, s.shelved.image_id);
    if (!image) {
      const message = `Unshelve attempted but the image ${s.shelved.image_id} cannot be found.`;
      await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => ({ ...cur.value, vm_state: 'error', task_state: null, fault: { code: 404, message, created: store.isoSeconds() }, updated_at: store.isoSeconds() }));
      await finishEvent(store, s.uuid, req.requestId, 'get_image_info', { message, traceback: message });
      return;
    }
    await finishEvent(store, s.uuid, req.requestId, 'get_image_info');
    imageProperties = imageBootMeta(image).properties;
  }
  await startEvent(store, s.uuid, req.requestId, 'schedule_instances', CONDUCTOR_HOST);
  const claim = flavorClaim(s.uuid, s.flavor, s.root_disk_unclaimed);
  const group = s.server_group === undefined ? undefined : await store.get<ServerGroupRecord>(T.serverGroups, s.server_group);
  const spec = group ? schedulerGroup(group) : undefined;
  const groupSpec = spec ? { ...spec, members: spec.members.filter((u) => u !== s.uuid) } : undefined;
  const all = await d.hosts.all();
  let target: string;
  try {
    const candidates = all.filter((h) => host === undefined || h.host === host);
    const [picked] = selectDestinations(candidates, { instanceUuids: [s.uuid], resources: claim.resources, imageProperties, ...(zone !== undefined ? { availabilityZone: zone } : {}), ...(groupSpec ? { group: groupSpec } : {}) }, defaultSchedulerConfig(Math.random), store.clock.now());
    if (!picked) throw new NoValidHost(NOT_ENOUGH_HOSTS);
    target = (await claimOnFirstFit(d.hosts, [picked.host, ...picked.alternates], groupSpec ? { ...claim, group: groupSpec } : claim)).host;
  } catch (err) {
    if (!(err instanceof NoValidHost)) throw err;
    // Nova's conductor: no fault, the server back to SHELVED_OFFLOADED without a task.
    d.logger.info('unshelve not placed', { server: s.uuid, err });
    await dropTask(store, s.uuid, 'unshelving');
    const message = `No valid host was found. ${err.reason}`;
    await finishEvent(store, s.uuid, req.requestId, 'schedule_instances', { message, traceback: message });
    return;
  }
  const zoneOf = all.find((h) => h.host === target)?.availabilityZone ?? 'nova';
  const placed = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => (cur.value.task_state === 'unshelving' && cur.value.host === null ? { ...cur.value, host: target, availability_zone: zoneOf, updated_at: store.isoSeconds() } : undefined));
  if (placed?.value.host !== target) {
    // Deleted (or changed) meanwhile: the claim is given back, as the host's agent would have.
    await releaseOn(d.hosts, target, claim);
    return;
  }
  await finishEvent(store, s.uuid, req.requestId, 'schedule_instances');
  await enqueue(store, target, store.clock.now(), { server: s.uuid, task: 'unshelve', token, requestId: req.requestId });
}
