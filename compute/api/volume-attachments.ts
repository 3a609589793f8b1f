import { randomUUID } from 'node:crypto';
import { updateRecord } from '../../client/record-update.ts';
import type { Logger } from '../../common/logger.ts';
import { atLeast } from '../api-version.ts';
import { type BlockDeviceMapping, blockDevicesOf, changeBlockDevices, nextDeviceName } from '../block-device-record.ts';
import { badRequest, conflict, invalidState, NovaError, notFound, policyForbidden } from '../errors.ts';
import type { ComputeHostRecord } from '../host-record.ts';
import { recordAction } from '../instance-actions.ts';
import { T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeRoute, contextOf, ok } from '../request.ts';
import { isServiceUp } from '../scheduler/host-state.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { booleanParam, bodyMember, fieldError, pyRepr, queryError, uuidParam } from '../validation.ts';
import type { CinderVolume, VolumeApi } from '../volume-api.ts';
import { enqueue } from '../work-queue.ts';
import { limited } from './server-groups.ts';
import { novaErrorOfCinder } from './cinder-refusal.ts';
import { checkLock, visibleServer } from './servers.ts';
import { checkInstanceState } from './instance-state.ts';
import { tagParam } from './tags-param.ts';

export interface VolumeAttachmentDeps {
  readonly store: ComputeStore;
  readonly volumes: VolumeApi;
  /** Nova's `[cinder] cross_az_attach` (default true): false refuses a volume from another zone. */
  readonly crossAzAttach: boolean;
  readonly logger: Logger;
}

/** The vm states Nova attaches and detaches in (`check_instance_state`; no shelving here). */
const ATTACHABLE: readonly VmState[] = ['active', 'paused', 'stopped', 'resized', 'shelved', 'shelved_offloaded'];
const DEVICE = /^(\/dev\/x?[a-z]?d?)([a-z]+)[0-9]*$/;
const DEVICE_PATTERN = '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$';

/** Nova's `_translate_attachment_detail_view`, its fields by microversion. */
function view(req: ComputeRequest, server: string, m: BlockDeviceMapping): Record<string, unknown> {
  const v289 = atLeast(req.version, '2.89');
  return {
    ...(v289 ? {} : { id: m.volume_id }),
    volumeId: m.volume_id,
    serverId: server,
    device: m.device_name,
    ...(atLeast(req.version, '2.70') ? { tag: m.tag } : {}),
    ...(atLeast(req.version, '2.79') ? { delete_on_termination: m.delete_on_termination } : {}),
    ...(v289 ? { attachment_id: m.attachment_id, bdm_uuid: m.uuid } : {}),
  };
}

function notAttached(server: string, volume: string): NovaError {
  return notFound(`Instance ${server} is not attached to volume ${volume}`);
}

/** Nova's `check_instance_state` for attach and detach: an allowed vm state and no task. */

/** The request's `volumeAttachment`, checked as Nova's schemas for the microversion check it. */
function attachBody(req: ComputeRequest): { volumeId: string; tag: string | null; deleteOnTermination: boolean } {
  const allowed = ['volumeId', 'device', ...(atLeast(req.version, '2.49') ? ['tag'] : []), ...(atLeast(req.version, '2.79') ? ['delete_on_termination'] : [])];
  const body = bodyMember(req.body, 'volumeAttachment', allowed, ['volumeId']);
  const volumeId = uuidParam('volumeId', body['volumeId']);
  const device = body['device'];
  if (device !== undefined && device !== null) {
    if (typeof device !== 'string') throw fieldError('device', device, `${pyRepr(device)} is not of type 'string', 'null'`);
    if (!DEVICE.test(device)) throw fieldError('device', device, `${pyRepr(device)} does not match '${DEVICE_PATTERN}'`);
  }
  const tag = body['tag'];
  if (tag !== undefined) tagParam('tag', tag);
  const dot = body['delete_on_termination'];
  return { volumeId, tag: typeof tag === 'string' ? tag : null, deleteOnTermination: dot === undefined ? false : booleanParam('delete_on_termination', dot) };
}

/**
 * The PUT's `volumeAttachment` as Nova's `update` (to 2.84: `volumeId` only) and `update_v285`
 * schemas check it: from 2.85 the GET's fields may come back (`id`, `serverId`, `device`,
 * `tag`, `delete_on_termination`), though only `delete_on_termination` and `volumeId` change.
 */
function updateBody(req: ComputeRequest): Record<string, unknown> & { volumeId: string } {
  const v285 = atLeast(req.version, '2.85');
  const body = bodyMember(req.body, 'volumeAttachment', v285 ? ['volumeId', 'device', 'tag', 'delete_on_termination', 'serverId', 'id'] : ['volumeId'], ['volumeId']);
  const volumeId = uuidParam('volumeId', body['volumeId']);
  if (body['serverId'] !== undefined) uuidParam('serverId', body['serverId']);
  if (body['id'] !== undefined) uuidParam('id', body['id']);
  const device = body['device'];
  if (device !== undefined && device !== null) {
    if (typeof device !== 'string') throw fieldError('device', device, `${pyRepr(device)} is not of type 'string', 'null'`);
    if (!DEVICE.test(device)) throw fieldError('device', device, `${pyRepr(device)} does not match '${DEVICE_PATTERN}'`);
  }
  const tag = body['tag'];
  if (tag !== undefined) tagParam('tag', tag);
  if (body['delete_on_termination'] !== undefined) booleanParam('delete_on_termination', body['delete_on_termination']);
  return { ...body, volumeId };
}

/**
 * `/v2.1/servers/{server_id}/os-volume_attachments` (nova/api/openstack/compute/
 * volume_attachments.py): list, show, attach and detach. An attach checks the volume in
 * Cinder with the user's token, reserves the mapping and its device name (`/dev/vdb`... as
 * Nova's libvirt driver picks it, whatever the request asked), creates Cinder's attachment
 * (the volume `reserved`) and queues the host's part (connect, the disk into the domain,
 * complete: the volume `in-use`); a detach marks the volume `detaching` and queues the host's
 * part (the disk out of the domain, the attachment deleted: the volume `available`). An update
 * (2.85) changes `delete_on_termination`.
 */
export function volumeAttachmentRoutes(d: VolumeAttachmentDeps): ComputeRoute[] {
  const { store, volumes } = d;
  const token = (req: ComputeRequest): string => req.headers['x-auth-token'] ?? '';

  const index = async (req: ComputeRequest) => {
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    if (atLeast(req.version, '2.75')) {
      for (const key of req.query.keys()) if (key !== 'limit' && key !== 'offset') throw queryError(key, req.query.get(key), `Additional properties are not allowed (${pyRepr(key)} was unexpected)`);
    }
    const mappings = (await blockDevicesOf(store, s.uuid)).filter((m) => !atLeast(req.version, '2.89') || m.attachment_id !== null);
    return ok({ volumeAttachments: limited(req, mappings).map((m) => view(req, s.uuid, m)) });
  };

  const show = async (req: ComputeRequest) => {
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    const volumeId = req.params['volume_id'] as string;
    const m = (await blockDevicesOf(store, s.uuid)).find((x) => x.volume_id === volumeId);
    if (!m || (atLeast(req.version, '2.89') && m.attachment_id === null)) throw notAttached(s.uuid, volumeId);
    return ok({ volumeAttachment: view(req, s.uuid, m) });
  };

  /** The volume as Cinder shows it to the caller, or Nova's 404. */
  const cinderVolume = async (req: ComputeRequest, volumeId: string): Promise<CinderVolume> => {
    let volume: CinderVolume | undefined;
    try {
      volume = await volumes.get(token(req), volumeId);
    } catch (err) {
      throw novaErrorOfCinder(err, volumeId);
    }
    if (!volume) throw notFound(`Volume ${volumeId} could not be found.`);
    return volume;
  };

  const create = async (req: ComputeRequest) => {
    const c = contextOf(req);
    // Nova's schema check comes before the server's lookup.
    const { volumeId, tag, deleteOnTermination } = attachBody(req);
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    checkLock(c, s);
    checkInstanceState(s, 'attach_volume', ATTACHABLE);
    // Nova's `_attach_volume_shelved_offloaded`: no host to connect on; the volume is reserved for the unshelve.
    const offloaded = s.vm_state === 'shelved_offloaded';
    if (s.host === null && !offloaded) throw invalidState(s.uuid, 'attach_volume', 'vm_state', s.vm_state);
    const volume = await cinderVolume(req, volumeId);
    // Nova's _check_volume_already_attached, over Cinder's view of the volume and this server's mappings.
    const elsewhere = volume.attachments.map((a) => a.server_id).filter((x): x is string => x !== null && x !== s.uuid);
    if (elsewhere.length > 0 && !volume.multiattach) throw badRequest(`Invalid volume: volume ${volumeId} is already attached to instances: ${elsewhere.join(' ')}`);
    const mapping: BlockDeviceMapping = { uuid: randomUUID(), volume_id: volumeId, device_name: '', tag, delete_on_termination: deleteOnTermination, attachment_id: null, attached: false, created_at: store.isoSeconds() };
    let taken = false;
    let device = '';
    await changeBlockDevices(store, s.uuid, (mappings) => {
      taken = mappings.some((m) => m.volume_id === volumeId);
      if (taken) return undefined;
      device = nextDeviceName(s, mappings);
      return [...mappings, { ...mapping, device_name: device }];
    });
    if (taken) throw badRequest(`Invalid volume: volume ${volumeId} already attached`);
    // Show and list read the mappings of servers marked so (`volume_mappings`); once marked, always.
    if (!s.volume_mappings) await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => (cur.value.volume_mappings ? undefined : { ...cur.value, volume_mappings: true }));
    const drop = () => changeBlockDevices(store, s.uuid, (mappings) => mappings.filter((m) => m.uuid !== mapping.uuid));
    let attachmentId: string;
    const host = s.host;
    try {
      if (!d.crossAzAttach && host !== null) {
        // Nova's get_instance_availability_zone: the zone of the server's host.
        const zone = (await store.get<ComputeHostRecord>(T.hosts, host))?.availabilityZone ?? s.availability_zone ?? 'nova';
        if (volume.availability_zone !== zone) throw badRequest(`Invalid volume: Instance ${s.uuid} and volume ${volumeId} are not in the same availability_zone. Instance is in ${zone}. Volume is in ${volume.availability_zone}`);
      }
      attachmentId = (await volumes.attachmentCreate(token(req), volumeId, s.uuid)).id;
    } catch (err) {
      await drop();
      throw novaErrorOfCinder(err, volumeId);
    }
    await changeBlockDevices(store, s.uuid, (mappings) => mappings.map((m) => (m.uuid === mapping.uuid ? { ...m, attachment_id: attachmentId } : m)));
    await recordAction(store, c, s.uuid, 'attach_volume', req.requestId);
    if (host !== null) await enqueue(store, host, store.clock.now(), { server: s.uuid, task: 'attach-volume', token: token(req), requestId: req.requestId, volumeId });
    return ok({
      volumeAttachment: {
        id: volumeId,
        serverId: s.uuid,
        volumeId,
        device: offloaded ? null : device,
        ...(atLeast(req.version, '2.70') ? { tag } : {}),
        ...(atLeast(req.version, '2.79') ? { delete_on_termination: deleteOnTermination } : {}),
      },
    });
  };

  const remove = async (req: ComputeRequest) => {
    const c = contextOf(req);
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    const volumeId = req.params['volume_id'] as string;
    checkLock(c, s);
    checkInstanceState(s, 'detach_volume', ATTACHABLE);
    await cinderVolume(req, volumeId); // Nova looks the volume up first: 404 for one Cinder does not know
    const m = (await blockDevicesOf(store, s.uuid)).find((x) => x.volume_id === volumeId);
    if (!m) throw notAttached(s.uuid, volumeId);
    if (m.boot_index === 0) throw badRequest('Cannot detach a root device volume');
    if (s.vm_state === 'shelved_offloaded') {
      // Nova's `_detach_volume_shelved_offloaded`: no host holds it; the attachment and the mapping go here.
      if (m.attachment_id !== null) await volumes.attachmentDelete(token(req), m.attachment_id).catch((err) => { throw novaErrorOfCinder(err, volumeId); });
      await changeBlockDevices(store, s.uuid, (mappings) => mappings.filter((x) => x.uuid !== m.uuid));
      await recordAction(store, c, s.uuid, 'detach_volume', req.requestId);
      return ACCEPTED;
    }
    // check_instance_host(check_is_up=True): the host must be there to take the disk out.
    const host = s.host === null ? undefined : await store.get<ComputeHostRecord>(T.hosts, s.host);
    if (s.host === null || !host || !isServiceUp(host, store.clock.now())) throw new NovaError(409, 'Service is unavailable at this time.');
    try {
      await volumes.beginDetaching(token(req), volumeId);
    } catch (err) {
      const t = novaErrorOfCinder(err, volumeId);
      // Nova turns begin_detaching's InvalidInput into InvalidVolume, message and all.
      if (t instanceof NovaError && t.status === 400) throw badRequest(`Invalid volume: ${t.message}`);
      throw t;
    }
    await recordAction(store, c, s.uuid, 'detach_volume', req.requestId);
    await enqueue(store, s.host, store.clock.now(), { server: s.uuid, task: 'detach-volume', token: token(req), requestId: req.requestId, volumeId });
    return ACCEPTED;
  };

  /**
   * Nova's `update`: before 2.85 every PUT is a swap; from 2.85 the mapping's
   * `delete_on_termination` changes (the other fields must stay as they are), and a different
   * `volumeId` is a swap besides. A swap is Cinder's to ask for (policy `swap`: the service role
   * or admin) while it migrates the volume, and Nova refuses one for a volume that is not
   * migrating (409); this Cinder never migrates volumes, so every swap ends there.
   */
  const update = async (req: ComputeRequest) => {
    const c = contextOf(req);
    const body = updateBody(req);
    const s = await visibleServer(store, req, req.params['server_id'] as string);
    const volumeId = req.params['volume_id'] as string;
    const onlySwap = !atLeast(req.version, '2.85');
    const swap = onlySwap || body.volumeId !== volumeId;
    if (swap && !c.isAdmin && !c.roles.includes('service')) throw policyForbidden('os_compute_api:os-volumes-attachments:swap');
    if (!onlySwap) {
      const m = (await blockDevicesOf(store, s.uuid)).find((x) => x.volume_id === volumeId);
      if (!m) throw notFound(`No volume Block Device Mapping with id ${volumeId}.`);
      if (body['id'] !== undefined && body['id'] !== volumeId) throw badRequest('The id property is not mutable');
      if (body['serverId'] !== undefined && body['serverId'] !== s.uuid) throw badRequest('The serverId property is not mutable');
      if (body['device'] !== undefined && body['device'] !== m.device_name) throw badRequest('The device property is not mutable');
      if (body['tag'] !== undefined && body['tag'] !== m.tag) throw badRequest('The tag property is not mutable');
      const dot = body['delete_on_termination'];
      if (dot !== undefined) {
        const value = booleanParam('delete_on_termination', dot);
        await changeBlockDevices(store, s.uuid, (mappings) => mappings.map((x) => (x.uuid === m.uuid ? { ...x, delete_on_termination: value } : x)));
      }
    }
    if (swap) {
      const old = await cinderVolume(req, volumeId);
      if (old['migration_status'] === undefined || old['migration_status'] === null || old['migration_status'] === '') {
        throw conflict(`volume ${volumeId} is not migrating; this API should only be called by Cinder`);
      }
      // Unreachable with this Cinder (no volume migration); a migrating volume from another would need Nova's swap_volume.
      throw conflict(`Cannot 'swap_volume' instance ${s.uuid}: volume ${volumeId} is migrating, and this cloud does not swap volumes`);
    }
    return ACCEPTED;
  };

  return [
    { method: 'GET', path: '/v2.1/servers/{server_id}/os-volume_attachments', auth: 'token', handler: index },
    { method: 'PUT', path: '/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}', auth: 'token', handler: update },
    { method: 'POST', path: '/v2.1/servers/{server_id}/os-volume_attachments', auth: 'token', handler: create },
    { method: 'GET', path: '/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}', auth: 'token', handler: show },
    { method: 'DELETE', path: '/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}', auth: 'token', handler: remove },
  ];
}
