import { type AttachmentRecord, ATTACHMENTS, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { listingProject } from './context.ts';
import { frontEndQos } from './front-end-qos.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, page } from './input.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { cinderTime } from './views.ts';

/** Statuses a volume is reserved from (no multiattach volumes here): volume/api.py _attachment_reserve. */
const RESERVABLE = ['available', 'downloading'];

/**
 * The volume's `readonly` admin metadata (`openstack volume set --read-only`) is `True`. Cinder's
 * attachment_create tests the key's presence (so `False` there would make an `ro` attachment with
 * an `rw` connection); the value is what the user set, so the value decides here.
 */
function isReadOnly(v: VolumeRecord): boolean {
  return v.admin_metadata?.['readonly'] === 'True';
}

function summary(a: AttachmentRecord): Record<string, unknown> {
  return { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
}

function detail(a: AttachmentRecord): Record<string, unknown> {
  return { ...summary(a), attached_at: a.attach_time ?? '', detached_at: a.detach_time ?? '', attach_mode: a.attach_mode, connection_info: a.connection_info };
}

/**
 * Cinder's attachments API (cinder/api/v3/attachments.py, microversion 3.27; `os-complete` at
 * 3.44), the way Nova attaches a volume: create (reserve: the volume `reserved`; with a connector
 * also `attaching` and the connection info), update with the connector, complete (the volume
 * `in-use`, attached), delete (back to `available` when it was the last). A volume in use is
 * not deleted (the volume API's DELETABLE statuses).
 */
export function attachmentRoutes(deps: VolumeApiDeps): Route[] {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const versioned = (min: string, handler: (req: VolumeRequest) => Promise<VolumeResponse>) => async (req: VolumeRequest): Promise<VolumeResponse> => {
    // Below its microversion Cinder has no such route.
    if (!atLeast(req.version, min)) throw new CinderError(404, 'The resource could not be found.');
    return handler(req);
  };
  const find = (req: VolumeRequest) => findOwned<AttachmentRecord>(records, ATTACHMENTS, req, req.params['attachment_id'] as string, 'VolumeAttachment');

  /**
   * The driver's connection for `connector`: os-brick's `local` connection to the volume's file.
   * The mode is the attachment's when it has one, else the connector's, else `rw` (manager.py
   * attachment_update), and the attachment keeps it; the connection's `access_mode`, which
   * Nova turns into `<readonly/>`, is `ro` for that mode or a read-only volume (_connection_create);
   * `qos_specs`, which Nova turns into `<iotune>`, are the type's front-end QoS (front-end-qos.ts).
   */
  const connect = async (a: AttachmentRecord, connector: Record<string, unknown>): Promise<AttachmentRecord> => {
    const info = await deps.driver.getVolume(a.volume_id);
    const volume = await findVolume(a);
    const mode = a.attach_mode !== 'null' ? a.attach_mode : connector['mode'] === 'ro' ? 'ro' : 'rw';
    const accessMode = mode === 'ro' || isReadOnly(volume) ? 'ro' : 'rw';
    const qosSpecs = await frontEndQos(deps, volume);
    const connection: Record<string, unknown> = { driver_volume_type: 'local', data: { device_path: deps.driver.localPath?.(a.volume_id) ?? null, name: `volume-${a.volume_id}`, format: info?.format ?? 'raw', qos_specs: qosSpecs, access_mode: accessMode } };
    await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: 'attaching', attach_status: 'attaching', updated_at: now() }));
    const updated = await records.update<AttachmentRecord>(ATTACHMENTS, a, (cur) => ({ ...cur, connector: { ...connector, mode }, connection_info: connection, attach_status: 'attaching', attach_mode: mode }));
    return updated ?? a;
  };
  const findVolume = async (a: AttachmentRecord): Promise<VolumeRecord> => {
    const volume = await records.find<VolumeRecord>(VOLUMES, a.volume_id, a.project_id, true);
    if (!volume) throw new CinderError(404, `Volume ${a.volume_id} could not be found.`);
    return volume;
  };
  const connectorOf = (v: unknown): Record<string, unknown> | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) throw new CinderError(400, `Invalid input for field/attribute connector. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object', 'string'`);
    return v as Record<string, unknown>;
  };

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = bodyObject(req, 'attachment');
    const volumeId = body['volume_uuid'];
    if (typeof volumeId !== 'string') throw new CinderError(400, `Invalid input for field/attribute attachment. Value: ${JSON.stringify(body)}. 'volume_uuid' is a required property`);
    const instance = typeof body['instance_uuid'] === 'string' ? body['instance_uuid'] : null;
    const connector = connectorOf(body['connector']);
    const asked = atLeast(req.version, '3.54') ? body['mode'] : undefined;
    if (asked !== undefined && asked !== 'rw' && asked !== 'ro') {
      const repr = typeof asked === 'string' ? `'${asked}'` : JSON.stringify(asked);
      throw new CinderError(400, `Invalid input for field/attribute mode. Value: ${String(asked)}. ${repr} is not one of ['rw', 'ro']`);
    }
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    // A read-only volume's attachment is `ro` whatever was asked (volume/api.py attachment_create);
    // without a mode, `null` leaves it to the connector at the update.
    const mode = isReadOnly(volume) ? 'ro' : (asked ?? 'null');
    if (volume.status.includes('error')) throw new CinderError(400, `Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume ${volume.id} currently has a status of: ${volume.status} `);
    let seen = volume.status;
    const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => {
      seen = cur.status;
      return RESERVABLE.includes(cur.status) ? { ...cur, status: 'reserved', attach_status: 'reserved', updated_at: now() } : undefined;
    });
    if (!claimed) throw new CinderError(400, `Invalid volume: Volume ${volume.id} status must be available or downloading to reserve, but the current status is ${seen}.`);
    let attachment: AttachmentRecord = { id: deps.newId(), project_id: volume.project_id, volume_id: volume.id, instance_uuid: instance, attach_status: 'reserved', attach_mode: mode, connector: null, connection_info: {}, attach_time: null, detach_time: null, created_at: now() };
    try {
      await records.create(ATTACHMENTS, attachment);
    } catch (err) {
      await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: volume.status, attach_status: 'detached', updated_at: now() }));
      throw err;
    }
    if (connector) attachment = await connect(attachment, connector);
    return { status: 200, body: { attachment: detail(attachment) } };
  };

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = bodyObject(req, 'attachment');
    const connector = connectorOf(body['connector']);
    if (!connector) throw new CinderError(400, `Invalid input for field/attribute attachment. Value: ${JSON.stringify(body)}. 'connector' is a required property`);
    const attachment = await find(req);
    return { status: 200, body: { attachment: detail(await connect(attachment, connector)) } };
  };

  const complete = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || !('os-complete' in body)) throw new CinderError(400, `There is no such action: ${body && typeof body === 'object' ? (Object.keys(body)[0] ?? 'None') : 'None'}`);
    const attachment = await find(req);
    const volume = await findVolume(attachment);
    const at = now();
    await records.update<AttachmentRecord>(ATTACHMENTS, attachment, (cur) => ({ ...cur, attach_status: 'attached', attach_time: cur.attach_time ?? at }));
    const host = typeof attachment.connector?.['host'] === 'string' ? (attachment.connector['host'] as string) : null;
    const device = typeof attachment.connector?.['mountpoint'] === 'string' ? (attachment.connector['mountpoint'] as string) : null;
    await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({
      ...cur,
      status: 'in-use',
      attach_status: 'attached',
      attachments: [...(cur.attachments ?? []).filter((a) => a.attachment_id !== attachment.id), { attachment_id: attachment.id, server_id: attachment.instance_uuid, host_name: host, device, attached_at: at }],
      updated_at: at,
    }));
    return { status: 204 };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const attachment = await find(req);
    const volume = await findVolume(attachment);
    await records.remove(ATTACHMENTS, attachment);
    const left = (await records.list<AttachmentRecord>(ATTACHMENTS, volume.project_id)).filter((a) => a.volume_id === volume.id);
    await records.update<VolumeRecord>(VOLUMES, volume, (cur) => {
      const attachments = (cur.attachments ?? []).filter((a) => a.attachment_id !== attachment.id);
      if (left.length > 0) return { ...cur, attachments, updated_at: now() };
      return { ...cur, status: 'available', attach_status: 'detached', attachments, updated_at: now() };
    });
    return { status: 200, body: { attachments: [] } };
  };

  const list = (withDetail: boolean) => async (req: VolumeRequest): Promise<VolumeResponse> => {
    let rows = await records.list<AttachmentRecord>(ATTACHMENTS, listingProject(req));
    for (const [param, key] of [['volume_id', 'volume_id'], ['instance_id', 'instance_uuid'], ['status', 'attach_status']] as const) {
      const want = req.query.get(param);
      if (want !== null) rows = rows.filter((a) => a[key] === want);
    }
    const shown = page(req, rows, (m) => `Invalid input received: marker [${m}] not found`);
    return { status: 200, body: { attachments: shown.map(withDetail ? detail : summary) } };
  };

  return [
    { method: 'POST', path: '/attachments', auth: 'token', handler: versioned('3.27', create) },
    { method: 'GET', path: '/attachments', auth: 'token', handler: versioned('3.27', list(false)) },
    { method: 'GET', path: '/attachments/detail', auth: 'token', handler: versioned('3.27', list(true)) },
    { method: 'GET', path: '/attachments/{attachment_id}', auth: 'token', handler: versioned('3.27', async (req) => ({ status: 200, body: { attachment: detail(await find(req)) } })) },
    { method: 'PUT', path: '/attachments/{attachment_id}', auth: 'token', handler: versioned('3.27', update) },
    { method: 'DELETE', path: '/attachments/{attachment_id}', auth: 'token', handler: versioned('3.27', remove) },
    { method: 'POST', path: '/attachments/{attachment_id}/action', auth: 'token', handler: versioned('3.44', complete) },
  ];
}
