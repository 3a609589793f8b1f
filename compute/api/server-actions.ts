import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, invalidState, NovaError, notFound, policyForbidden } from '../errors.ts';
import { type InstanceActionRecord, recordAction } from '../instance-actions.ts';
import { generateHostId } from '../server-view.ts';
import { T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, contextOf, ok } from '../request.ts';
import type { ServerRecord, TaskState, VmState } from '../server-record.ts';
import { bodyMember, isObject, nameParam } from '../validation.ts';
import { nextLink } from './next-link.ts';
import { pagingQuery } from './paging-query.ts';
import type { ImageApi } from '../image-api.ts';
import type { NetworkApi } from '../network-api.ts';
import type { VolumeApi } from '../volume-api.ts';
import type { ServiceAuth } from '../service-auth.ts';
import { awaitReply, type ConsoleReply, enqueue, type WorkTask } from '../work-queue.ts';
import { changePassword } from './change-password.ts';
import { createBackup } from './create-backup.ts';
import { evacuate } from './evacuate.ts';
import { rebuild } from './rebuild.ts';
import { resetState } from './reset-state.ts';
import { changeSecurityGroup } from './security-group-actions.ts';
import { rescue, unrescue } from './rescue.ts';
import { shelve, shelveOffload, unshelve } from './shelve.ts';
import { confirmResize, migrate, type ResizeDeps, resize, revertResize } from './resize.ts';
import { checkLock, deleteServer, visibleServer } from './servers.ts';
import { checkInstanceState } from './instance-state.ts';
import { claimImageTask, snapshotServer } from './snapshot-image.ts';
import { snapshotVolumeBacked } from './volume-backed-snapshot.ts';

/** A power action: the vm states it is allowed from (Nova's `check_instance_state`), its task state and queued task. */
interface PowerAction {
  readonly name: string;
  readonly from: readonly VmState[];
  readonly task: Exclude<TaskState, null>;
  readonly work: WorkTask;
}

const POWER: Readonly<Record<string, PowerAction>> = {
  'os-stop': { name: 'stop', from: ['active', 'error'], task: 'powering-off', work: 'stop' },
  'os-start': { name: 'start', from: ['stopped'], task: 'powering-on', work: 'start' },
  pause: { name: 'pause', from: ['active'], task: 'pausing', work: 'pause' },
  unpause: { name: 'unpause', from: ['paused'], task: 'unpausing', work: 'unpause' },
  suspend: { name: 'suspend', from: ['active'], task: 'suspending', work: 'suspend' },
  resume: { name: 'resume', from: ['suspended'], task: 'resuming', work: 'resume' },
};

/** How long os-getConsoleOutput waits for the host's answer. */
export const CONSOLE_WAIT_MS = 30_000;

const SOFT_REBOOT: PowerAction = { name: 'reboot', from: ['active'], task: 'rebooting', work: 'reboot-soft' };
const HARD_REBOOT: PowerAction = { name: 'reboot', from: ['active', 'stopped', 'paused', 'suspended', 'error'], task: 'rebooting_hard', work: 'reboot-hard' };

/**
 * `POST /v2.1/servers/{id}/action`: os-stop, os-start, reboot (SOFT, HARD), pause, unpause,
 * suspend, resume (queued for the host's agent, 202; 409 from a state Nova refuses), lock and
 * unlock (2.73 `locked_reason`), createImage, createBackup (create-backup.ts), rebuild (rebuild.ts), resize, confirmResize and
 * revertResize (resize.ts), evacuate (evacuate.ts), os-resetState (reset-state.ts), addSecurityGroup and
 * removeSecurityGroup (security-group-actions.ts), shelve, shelveOffload and unshelve (shelve.ts), rescue and unrescue (rescue.ts), forceDelete
 * (the delete) and restore (409: nothing is soft-deleted), changePassword (change-password.ts); and os-instance-actions, what was asked of a server.
 */
export function serverActionRoutes(d: ResizeDeps & { readonly images: ImageApi; readonly imageUrl: string; readonly networks: NetworkApi; readonly volumes?: VolumeApi; readonly service?: ServiceAuth }): ComputeRoute[] {
  const { store, images, imageUrl } = d;
  const power = async (req: ComputeRequest, s: ServerRecord, a: PowerAction) => {
    const c = contextOf(req);
    checkLock(c, s);
    let refusal: NovaError | undefined;
    const updated = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
      const v = cur.value;
      refusal = undefined;
      if (v.task_state !== null && !(a.work === 'reboot-hard' && (v.task_state === 'rebooting' || v.task_state === 'rebooting_hard'))) refusal = invalidState(v.uuid, a.name, 'task_state', v.task_state);
      else if (!a.from.includes(v.vm_state)) refusal = invalidState(v.uuid, a.name, 'vm_state', v.vm_state);
      if (refusal || v.host === null) return undefined;
      return { ...v, task_state: a.task, updated_at: store.isoSeconds() };
    });
    if (refusal) throw refusal;
    if (!updated || updated.value.host === null) throw invalidState(s.uuid, a.name, 'vm_state', s.vm_state);
    await recordAction(store, c, s.uuid, a.name, req.requestId);
    await enqueue(store, updated.value.host, store.clock.now(), { server: s.uuid, task: a.work, token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
    return ACCEPTED;
  };

  /**
   * os-getConsoleOutput: Nova asks the host by RPC; here the host's queue carries the question
   * and `console-replies/<request id>` the answer, waited for up to `CONSOLE_WAIT_MS`.
   */
  const consoleOutput = async (req: ComputeRequest, s: ServerRecord, arg: unknown) => {
    if (!isObject(arg)) throw badRequest(`Invalid input for field/attribute os-getConsoleOutput. Value: ${String(arg)}. ${JSON.stringify(arg)} is not of type 'object'`);
    const raw = arg['length'];
    let length: number | undefined;
    if (raw !== undefined && raw !== null) {
      if (!(typeof raw === 'number' || (typeof raw === 'string' && /^-?[0-9]+$/.test(raw))) || !Number.isInteger(Number(raw)) || Number(raw) < -1) throw badRequest(`Invalid input for field/attribute length. Value: ${String(raw)}. ${JSON.stringify(raw)} is not of type 'integer', 'string', 'null'`);
      length = Number(raw) === -1 ? undefined : Number(raw);
    }
    if (s.host === null) throw new NovaError(409, `Instance ${s.uuid} is not ready`);
    await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'console', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId, ...(length !== undefined ? { length } : {}) });
    const reply = await awaitReply<ConsoleReply>(store, T.consoleReplies, req.requestId, CONSOLE_WAIT_MS);
    if (!reply) throw new NovaError(409, `Instance ${s.uuid} is not ready`);
    if (reply.error) throw notFound('Guest does not have a console available.');
    // Nova drops the control characters an XML body could not hold.
    return ok({ output: (reply.output ?? '').replace(/[\x00-\x08\x0B-\x1F]/g, '') });
  };

  /**
   * createImage (Nova's snapshot): the Glance image made now with the user's token (Nova's
   * properties: `instance_uuid`, `user_id`, `image_type: snapshot`, the base image, the
   * metadata given), the server at `image_snapshot` until its host uploaded the disk. 202 with
   * the image in `Location` before 2.45, `{"image_id"}` from it.
   */
  const createImage = async (req: ComputeRequest, s: ServerRecord, arg: unknown) => {
    const c = contextOf(req);
    const body = bodyMember({ createImage: arg }, 'createImage', ['name', 'metadata'], ['name']);
    const name = nameParam('name', body['name']);
    const metadata = body['metadata'] === undefined ? {} : body['metadata'];
    if (!isObject(metadata)) throw badRequest(`Invalid input for field/attribute metadata. Value: ${String(metadata)}. ${JSON.stringify(metadata)} is not of type 'object'`);
    checkInstanceState(s, 'createImage', ['active', 'stopped', 'paused', 'suspended']);
    const userToken = req.headers['x-auth-token'] ?? '';
    // Nova's initialize_instance_snapshot_metadata: another project's snapshot (an admin's) is shared with the server's owner.
    const shareWith = c.projectId === s.project_id ? undefined : s.project_id;
    if (s.volume_backed && d.volumes) {
      // Nova's snapshot_volume_backed: the volumes' snapshots and an image of no data that maps them, made now.
      const image = await snapshotVolumeBacked({ store, images, volumes: d.volumes }, userToken, s, { name, metadata, ...(shareWith ? { shareWith } : {}) });
      await recordAction(store, c, s.uuid, 'createImage', req.requestId);
      return created(req, image.id);
    }
    if (s.host === null) throw invalidState(s.uuid, 'createImage', 'vm_state', s.vm_state);
    const image = await snapshotServer(images, userToken, c, s, name, metadata);
    await claimImageTask(d, userToken, s.uuid, 'createImage', 'image_snapshot', image.id);
    await recordAction(store, c, s.uuid, 'createImage', req.requestId);
    await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'snapshot', token: userToken, requestId: req.requestId, imageId: image.id });
    return created(req, image.id);
  };
  /** 202 with the image in `Location` before 2.45, `{"image_id"}` from it. */
  const created = (req: ComputeRequest, imageId: string) => {
    if (atLeast(req.version, '2.45')) return ok({ image_id: imageId }, 202);
    return { status: 202, headers: { Location: `${imageUrl.replace(/\/+$/, '')}/v2/images/${imageId}` } };
  };

  return [
    {
      method: 'POST',
      path: '/v2.1/servers/{server_id}/action',
      auth: 'token',
      handler: async (req) => {
        const c = contextOf(req);
        const body = req.body;
        if (!isObject(body) || Object.keys(body).length !== 1) throw badRequest('There is no such action: None');
        const [name, arg] = Object.entries(body)[0] as [string, unknown];
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const simple = POWER[name];
        if (simple) return power(req, s, simple);
        if (name === 'reboot') {
          const type = isObject(arg) ? arg['type'] : undefined;
          if (type !== 'SOFT' && type !== 'HARD' && type !== 'soft' && type !== 'hard') throw badRequest(`Invalid input for field/attribute type. Value: ${String(type)}. ${type === undefined ? "'type' is a required property" : `'${String(type)}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`}`);
          return power(req, s, String(type).toUpperCase() === 'HARD' ? HARD_REBOOT : SOFT_REBOOT);
        }
        if (name === 'os-getConsoleOutput') return consoleOutput(req, s, arg);
        if (name === 'createImage') return createImage(req, s, arg);
        if (name === 'createBackup') return createBackup(d, req, s, arg);
        if (name === 'rebuild') return rebuild(store, images, req, s, arg);
        if (name === 'resize') return resize(d, req, s, arg);
        if (name === 'migrate') return migrate(d, req, s, arg);
        if (name === 'confirmResize') return confirmResize(d, req, s);
        if (name === 'revertResize') return revertResize(d, req, s);
        if (name === 'evacuate') return evacuate(d, req, s, arg);
        if (name === 'os-resetState') return resetState(store, req, s, arg);
        if (name === 'addSecurityGroup' || name === 'removeSecurityGroup') return changeSecurityGroup(d, req, s, name, arg);
        if (name === 'shelve') return shelve(d, req, s);
        if (name === 'shelveOffload') return shelveOffload(d, req, s);
        if (name === 'unshelve') return unshelve(d, req, s);
        if (name === 'rescue') return rescue(d, req, s, arg);
        if (name === 'changePassword') return changePassword(d, req, s, arg);
        if (name === 'forceDelete') {
          // Nova's force_delete: any vm state, no task; the delete itself (there is no soft delete to skip).
          checkLock(c, s);
          if (s.task_state !== null) throw invalidState(s.uuid, 'forceDelete', 'task_state', s.task_state);
          await deleteServer(d, s, req.headers['x-auth-token'] ?? '', req.requestId);
          return ACCEPTED;
        }
        if (name === 'restore') {
          // Only a SOFT_DELETED server is restored, and with `reclaim_instance_interval` 0 (Nova's default, the only mode here) none is.
          checkLock(c, s);
          throw invalidState(s.uuid, 'restore', 'vm_state', s.vm_state);
        }
        if (name === 'unrescue') return unrescue(d, req, s);
        if (name === 'lock') {
          const reason = isObject(arg) && atLeast(req.version, '2.73') ? arg['locked_reason'] : undefined;
          if (reason !== undefined && (typeof reason !== 'string' || reason.length > 255)) throw badRequest(`Invalid input for field/attribute locked_reason. Value: ${String(reason)}. ${JSON.stringify(reason)} is not of type 'string'`);
          await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => ({ ...cur.value, locked_by: c.isAdmin && cur.value.project_id !== c.projectId ? 'admin' : 'owner', locked_reason: typeof reason === 'string' ? reason : null, updated_at: store.isoSeconds() }));
          await recordAction(store, c, s.uuid, 'lock', req.requestId);
          return ACCEPTED;
        }
        if (name === 'unlock') {
          // Nova's `unlock_override`: only an admin lifts an admin's lock.
          if (s.locked_by === 'admin' && !c.isAdmin) throw policyForbidden('os_compute_api:os-lock-server:unlock:unlock_override');
          await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => ({ ...cur.value, locked_by: null, locked_reason: null, updated_at: store.isoSeconds() }));
          await recordAction(store, c, s.uuid, 'unlock', req.requestId);
          return ACCEPTED;
        }
        throw badRequest(`There is no such action: ${name}`);
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/os-instance-actions',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        // `index_query_v258`, `changes-before` from 2.66.
        const paging = atLeast(req.version, '2.58') ? pagingQuery(req, ['limit', 'marker', 'changes-since', ...(atLeast(req.version, '2.66') ? ['changes-before'] : [])], MAX_LIMIT) : undefined;
        let actions = (await store.scan<InstanceActionRecord>(T.actions, `${s.uuid}/`)).sort(newestFirst);
        if (!paging) return ok({ instanceActions: actions.map((a) => view(req, a)) });
        const { limit, marker, since, before } = paging;
        if (marker !== undefined) {
          const at = actions.find((a) => a.request_id === marker);
          if (!at) throw badRequest(`Marker ${marker} could not be found.`);
          actions = actions.filter((a) => newestFirst(at, a) < 0);
        }
        // Nova's `changes-since`/`changes-before` compare the action's updated_at.
        actions = actions.filter((a) => (since === undefined || Date.parse(a.updated_at) >= since) && (before === undefined || Date.parse(a.updated_at) <= before));
        const page = actions.slice(0, limit);
        const body: Record<string, unknown> = { instanceActions: page.map((a) => view(req, a)) };
        if (limit > 0 && page.length === limit) body['links'] = [nextLink(req, `servers/${s.uuid}/os-instance-actions`, (page.at(-1) as InstanceActionRecord).request_id)];
        return ok(body);
      },
    },
    {
      method: 'GET',
      path: '/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
      auth: 'token',
      handler: async (req) => {
        const s = await visibleServer(store, req, req.params['server_id'] as string);
        const id = req.params['request_id'] as string;
        const a = await store.get<InstanceActionRecord>(T.actions, `${s.uuid}/${id}`);
        if (!a) throw notFound(`Action for request_id ${id} on instance ${s.uuid} not found`);
        // Nova's policy: events in full (traceback, host) for admins; from 2.51 the owner sees
        // them without the traceback; before, not at all. `details` (2.84) is for admins.
        const admin = contextOf(req).isAdmin;
        const action: Record<string, unknown> = view(req, a);
        if (admin || atLeast(req.version, '2.51')) {
          const owner = a.project_id ?? s.project_id;
          action['events'] = (a.events ?? []).map((e) => ({
            event: e.event,
            start_time: e.start_time,
            finish_time: e.finish_time,
            result: e.result,
            ...(admin ? { traceback: e.traceback } : {}),
            ...(admin && atLeast(req.version, '2.62') ? { host: e.host } : {}),
            ...(atLeast(req.version, '2.62') ? { hostId: generateHostId(e.host, owner) } : {}),
            ...(admin && atLeast(req.version, '2.84') ? { details: e.details } : {}),
          }));
        }
        return ok({ instanceAction: action });
      },
    },
  ];
}

/** Nova's order: newest first (`created_at`, then its id: here the request id). */
function newestFirst(a: InstanceActionRecord, b: InstanceActionRecord): number {
  if (a.start_time !== b.start_time) return a.start_time < b.start_time ? 1 : -1;
  return a.request_id < b.request_id ? 1 : a.request_id > b.request_id ? -1 : 0;
}

/** Nova's `[api] max_limit`: the most actions one page holds. */
const MAX_LIMIT = 1000;

function view(req: ComputeRequest, a: InstanceActionRecord): Record<string, unknown> {
  const { updated_at, events: _events, ...rest } = a;
  return atLeast(req.version, '2.58') ? { ...rest, updated_at } : rest;
}
