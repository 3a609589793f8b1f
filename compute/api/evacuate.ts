import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { blockDevicesOf } from '../block-device-record.ts';
import { badRequest, conflict, invalidState, type NovaError, notFound } from '../errors.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { recordAction } from '../instance-actions.ts';
import { createMigration, migrationTarget, setMigrationStatus } from '../migration-record.ts';
import { requireAdmin } from '../policy.ts';
import { T } from '../records.ts';
import { type ComputeRequest, type ComputeResponse, ok } from '../request.ts';
import { flavorClaim } from '../resize-claims.ts';
import { claimOnFirstFit } from '../scheduler/claims.ts';
import { ClaimFailed, NOT_ENOUGH_HOSTS, NoValidHost } from '../scheduler/errors.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import { defaultSchedulerConfig, selectDestinations } from '../scheduler/select-destinations.ts';
import { type ServerGroupRecord, schedulerGroup } from '../server-group-record.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { booleanParam, bodyMember, fieldError, fqdnParam, pyRepr } from '../validation.ts';
import { enqueue } from '../work-queue.ts';

export interface EvacuateDeps {
  readonly store: ComputeStore;
  readonly hosts: RecordHostStateStore;
  readonly logger: Logger;
}

/** Nova's `evacuate` takes servers in these vm states with no task, launched at least once. */
const EVACUATE_FROM: readonly VmState[] = ['active', 'stopped', 'error'];

/** The evacuate body's members by microversion (Nova's evacuate schemas: `force` only from 2.29 to 2.67). */
function allowedMembers(req: ComputeRequest): { allowed: string[]; required: string[] } {
  if (!atLeast(req.version, '2.14')) return { allowed: ['host', 'onSharedStorage', 'adminPass'], required: ['onSharedStorage'] };
  if (atLeast(req.version, '2.29') && !atLeast(req.version, '2.68')) return { allowed: ['host', 'adminPass', 'force'], required: [] };
  return { allowed: ['host', 'adminPass'], required: [] };
}

/** Nova's `check_instance_state` for evacuate: vm state, no task, and launched once. */
function checkState(s: ServerRecord): NovaError | undefined {
  if (!EVACUATE_FROM.includes(s.vm_state)) return invalidState(s.uuid, 'evacuate', 'vm_state', s.vm_state);
  if (s.task_state !== null) return invalidState(s.uuid, 'evacuate', 'task_state', s.task_state);
  if (s.launched_at === null) return invalidState(s.uuid, 'evacuate', 'launched_at', 'None');
  return undefined;
}

/**
 * `evacuate` (admin: `os_compute_api:os-evacuate`): the server is rebuilt on another host from
 * its image, because its own host is down (its service forced down or silent past
 * `service_down_time`; Nova's 400 while it is up). As Nova's evacuate API and conductor: the
 * body by microversion (`onSharedStorage` required before 2.14, `force` from 2.29 to 2.67), the
 * named host must exist (404) and not be the server's (400); the server goes to REBUILD
 * (`rebuilding`), the migration (`evacuation`) is `accepted`; a host named and forced (before
 * 2.29 a named host is always forced) is claimed without the scheduler, otherwise the scheduler
 * picks among the other hosts (only the named one when given). No host: the migration `error`
 * and the server ERROR with Nova's fault (a forced host keeps its vm state). Then the target's
 * agent rebuilds it (compute/agent/evacuation.ts). The source keeps its claim until it comes
 * back and destroys its copy. Volumes do not follow a server here, so a server with volumes
 * attached is refused (409) rather than rebuilt without them.
 * 200: `{"adminPass"}` before 2.14, no body from it.
 */
export async function evacuate(d: EvacuateDeps, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const { store } = d;
  const { allowed, required } = allowedMembers(req);
  const body = bodyMember({ evacuate: arg }, 'evacuate', allowed, required);
  const host = body['host'] === undefined ? undefined : fqdnParam('host', body['host']);
  if (body['adminPass'] !== undefined && typeof body['adminPass'] !== 'string') throw fieldError('adminPass', body['adminPass'], `${pyRepr(body['adminPass'])} is not of type 'string'`);
  const c = requireAdmin(req, 'os_compute_api:os-evacuate');
  // 2.95 leaves the server SHUTOFF on its target (reachable once the maximum microversion is 2.95).
  const targetState = atLeast(req.version, '2.95') ? 'stopped' : undefined;
  const onSharedStorage = atLeast(req.version, '2.14') ? undefined : booleanParam('onSharedStorage', body['onSharedStorage']);
  let force: boolean | undefined;
  if (atLeast(req.version, '2.29')) {
    force = body['force'] === undefined ? false : booleanParam('force', body['force']);
    if (force && host === undefined) throw badRequest("Can't force to a non-provided destination");
  }
  const given = body['adminPass'] as string | undefined;
  if (onSharedStorage === true && given !== undefined) throw badRequest("admin password can't be changed on existing disk");
  const password = given ?? (onSharedStorage === true ? null : randomBytes(9).toString('base64url').slice(0, 12));
  const hosts = await d.hosts.all();
  if (host !== undefined && !hosts.some((h) => h.host === host)) throw notFound(`Compute host ${host} not found.`);
  if (s.host === host) throw badRequest("The target host can't be the same one.");

  if ((await blockDevicesOf(store, s.uuid)).length > 0) throw conflict(`Cannot evacuate instance ${s.uuid} with volumes attached: this cloud does not move volumes with an evacuated server.`);
  const refused = checkState(s);
  if (refused) throw refused;
  const sourceHost = hosts.find((h) => h.host === s.host);
  if (s.host === null || (sourceHost !== undefined && isServiceUp(sourceHost, store.clock.now()))) throw badRequest(`Compute service of ${s.host ?? 'None'} is still in use.`);
  const source = s.host;

  let refusal: NovaError | undefined;
  const started = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    refusal = checkState(cur.value) ?? (cur.value.host === source ? undefined : invalidState(s.uuid, 'evacuate', 'task_state', cur.value.task_state ?? 'None'));
    return refusal ? undefined : { ...cur.value, task_state: 'rebuilding', updated_at: store.isoSeconds() };
  });
  if (refusal) throw refusal;
  if (!started) throw notFound(`Instance ${s.uuid} could not be found.`);
  await recordAction(store, c, s.uuid, 'evacuate', req.requestId);
  const uuid = randomUUID();
  await createMigration(store, c, started.value, { uuid, type: 'evacuation', status: 'accepted', ...(host === undefined ? {} : { dest_compute: host }) });

  // Nova's conductor: a forced host is claimed as it is; otherwise the scheduler chooses.
  const forced = host !== undefined && force !== false;
  const claim = flavorClaim(s.uuid, s.flavor, s.root_disk_unclaimed);
  let target: string;
  try {
    if (forced) {
      try {
        target = (await claimOnFirstFit(d.hosts, [host], claim)).host;
      } catch (err) {
        if (!(err instanceof NoValidHost)) throw err;
        throw new NoValidHost(`Unable to move instance ${s.uuid} to host ${host}. There is not enough capacity on the host for the instance.`);
      }
    } else {
      const group = s.server_group === undefined ? undefined : await store.get<ServerGroupRecord>(T.serverGroups, s.server_group);
      const spec = group ? schedulerGroup(group) : undefined;
      const groupSpec = spec ? { ...spec, members: spec.members.filter((u) => u !== s.uuid) } : undefined;
      const candidates = hosts.filter((h) => h.host !== source && (host === undefined || h.host === host));
      const [picked] = selectDestinations(candidates, { instanceUuids: [s.uuid], resources: claim.resources, imageProperties: {}, ...(groupSpec ? { group: groupSpec } : {}) }, defaultSchedulerConfig(Math.random), store.clock.now());
      if (!picked) throw new NoValidHost(NOT_ENOUGH_HOSTS);
      target = (await claimOnFirstFit(d.hosts, [picked.host, ...picked.alternates.filter((h) => h !== source)], groupSpec ? { ...claim, group: groupSpec } : claim)).host;
    }
  } catch (err) {
    if (!(err instanceof NoValidHost) && !(err instanceof ClaimFailed)) throw err;
    d.logger.info('evacuation not placed', { server: s.uuid, err });
    const message = err instanceof NoValidHost ? `No valid host was found. ${err.reason}` : `No valid host was found. ${err.message}`;
    await setMigrationStatus(store, uuid, 'error');
    await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => ({ ...cur.value, vm_state: forced ? cur.value.vm_state : 'error', task_state: null, fault: { code: 500, message, created: store.isoSeconds() }, updated_at: store.isoSeconds() }));
    return answer(req, password);
  }
  await setMigrationStatus(store, uuid, 'pre-migrating', migrationTarget(target, hosts.find((h) => h.host === target)?.hostIp ?? null));
  await enqueue(store, target, store.clock.now(), { server: s.uuid, task: 'evacuate', migration: uuid, token: req.headers['x-auth-token'] ?? '', requestId: req.requestId, ...(targetState ? { targetState } : {}), ...(onSharedStorage === true ? { onSharedStorage } : {}) });
  return answer(req, password);
}

/** Nova answers 200 (not 202, kept for compatibility): `{"adminPass"}` before 2.14 (`[api] enable_instance_password`, on by default), nothing from it. */
function answer(req: ComputeRequest, password: string | null): ComputeResponse {
  return atLeast(req.version, '2.14') ? { status: 200 } : ok({ adminPass: password });
}
