import type { BackendClient } from '../common/http/backend-client.ts';
import { type JsonAnswer, OpenStackHttp, ServiceCallError } from './openstack-http.ts';
import type { ServiceAuth } from './service-auth.ts';

/** The parts of a Cinder v3 volume compute reads. */
export interface CinderVolume {
  readonly id: string;
  readonly status: string;
  readonly size: number;
  readonly availability_zone: string;
  readonly multiattach: boolean;
  readonly attachments: readonly { readonly server_id: string | null; readonly attachment_id: string; readonly device: string | null }[];
  readonly [field: string]: unknown;
}

/** The parts of a Cinder v3 snapshot compute reads (a boot mapping's `source_type: snapshot`). */
export interface CinderSnapshot {
  readonly id: string;
  readonly status: string;
  readonly size: number;
  readonly volume_id: string;
}

/** What compute asks for when it makes a volume for a server (Nova's `volume_api.create`): empty, from an image or from a snapshot. */
export interface VolumeCreate {
  readonly size: number;
  readonly name: string;
  readonly imageRef?: string;
  readonly snapshot_id?: string;
  readonly availability_zone?: string;
}

/** A Cinder attachment (3.27+) as compute reads it. */
export interface CinderAttachment {
  readonly id: string;
  readonly status: string;
  readonly volume_id: string;
  readonly instance: string | null;
  readonly connection_info: Readonly<Record<string, unknown>>;
}

/**
 * Cinder refused a call; `message` is what python-cinderclient's exception prints (Cinder's
 * fault message, `(HTTP <status>)`, `(Request-ID: ...)`), which Nova puts in its own faults.
 */
export class VolumeCallError extends ServiceCallError {
  readonly reason: string;

  constructor(status: number, reason: string) {
    super('volume', status, reason);
    this.reason = reason;
  }
}

/**
 * What compute asks of the volume service (Cinder v3), with the user's token (Nova's
 * `nova/volume/cinder.py`): the attachments API at microversion 3.44 (create reserves the
 * volume, update gives it the host's connector and returns the connection, complete makes it
 * `in-use`, delete gives it back), `os-begin_detaching` and `os-roll_detaching`, and delete.
 */
export interface VolumeApi {
  /** The volume, or undefined when Cinder says 404. */
  get(token: string, id: string): Promise<CinderVolume | undefined>;
  /** @throws {VolumeCallError} (400 when the volume cannot be reserved) */
  attachmentCreate(token: string, volumeId: string, instanceId: string): Promise<CinderAttachment>;
  /** @throws {VolumeCallError} */
  attachmentUpdate(token: string, attachmentId: string, connector: Readonly<Record<string, unknown>>): Promise<CinderAttachment>;
  /** @throws {VolumeCallError} */
  attachmentComplete(token: string, attachmentId: string): Promise<void>;
  /** False when it was already gone. */
  attachmentDelete(token: string, attachmentId: string): Promise<boolean>;
  /** The volume `detaching`. @throws {VolumeCallError} 400 unless in-use and attached. */
  beginDetaching(token: string, volumeId: string): Promise<void>;
  /** The volume back to `in-use` from `detaching` (a detach that could not go on). */
  rollDetaching(token: string, volumeId: string): Promise<void>;
  /** False when it was already gone. @throws {VolumeCallError} */
  delete(token: string, volumeId: string): Promise<boolean>;
  /** A new volume, `creating` (a boot mapping's volume). @throws {VolumeCallError} */
  create(token: string, volume: VolumeCreate): Promise<CinderVolume>;
  /** The snapshot, or undefined when Cinder says 404. */
  getSnapshot(token: string, id: string): Promise<CinderSnapshot | undefined>;
  /** The project's absolute limits and usage (`GET /limits`: `maxTotalSnapshots`, `totalSnapshotsUsed`...). @throws {VolumeCallError} */
  absoluteLimits(token: string): Promise<Readonly<Record<string, number>>>;
  /** A new snapshot of the volume, in use or not (`force`, Nova's `create_snapshot_force`). @throws {VolumeCallError} */
  createSnapshotForce(token: string, volumeId: string, name: string, description: string | null): Promise<CinderSnapshot>;
}

/** The microversion Nova's attachment calls ask for (`os-complete` came at 3.44). */
const MICROVERSION = '3.44';

/** Cinder v3 over HTTP; `url` is the service's root (`http://host:8776`), the paths without a project id. */
export class CinderVolumeApi implements VolumeApi {
  private readonly http: OpenStackHttp;

  /** `serviceAuth`: compute's own credential, sent as `X-Service-Token` beside the user's token. */
  constructor(url: string, http: BackendClient, serviceAuth?: ServiceAuth) {
    this.http = new OpenStackHttp('volume', url.replace(/\/+$/, ''), http, serviceAuth, { 'OpenStack-API-Version': `volume ${MICROVERSION}` });
  }

  private refusal(res: JsonAnswer): VolumeCallError {
    const fault = typeof res.json === 'object' && res.json !== null ? Object.values(res.json as Record<string, unknown>)[0] : undefined;
    const message = typeof fault === 'object' && fault !== null && typeof (fault as { message?: unknown }).message === 'string' ? (fault as { message: string }).message : String(res.json ?? '');
    return new VolumeCallError(res.status, `${message} (HTTP ${res.status})${res.requestId ? ` (Request-ID: ${res.requestId})` : ''}`);
  }

  private async call(method: string, path: string, token: string, body: unknown, ok: readonly number[]): Promise<JsonAnswer> {
    const res = await this.http.json(method, `/v3${path}`, token, body);
    if (!ok.includes(res.status)) throw this.refusal(res);
    return res;
  }

  async get(token: string, id: string): Promise<CinderVolume | undefined> {
    const res = await this.call('GET', `/volumes/${encodeURIComponent(id)}`, token, undefined, [200, 404]);
    return res.status === 404 ? undefined : (res.json as { volume: CinderVolume }).volume;
  }

  async attachmentCreate(token: string, volumeId: string, instanceId: string): Promise<CinderAttachment> {
    const res = await this.call('POST', '/attachments', token, { attachment: { volume_uuid: volumeId, instance_uuid: instanceId, connector: null } }, [200]);
    return (res.json as { attachment: CinderAttachment }).attachment;
  }

  async attachmentUpdate(token: string, attachmentId: string, connector: Readonly<Record<string, unknown>>): Promise<CinderAttachment> {
    const res = await this.call('PUT', `/attachments/${encodeURIComponent(attachmentId)}`, token, { attachment: { connector } }, [200]);
    return (res.json as { attachment: CinderAttachment }).attachment;
  }

  async attachmentComplete(token: string, attachmentId: string): Promise<void> {
    await this.call('POST', `/attachments/${encodeURIComponent(attachmentId)}/action`, token, { 'os-complete': null }, [204]);
  }

  async attachmentDelete(token: string, attachmentId: string): Promise<boolean> {
    return (await this.call('DELETE', `/attachments/${encodeURIComponent(attachmentId)}`, token, undefined, [200, 404])).status === 200;
  }

  async beginDetaching(token: string, volumeId: string): Promise<void> {
    await this.call('POST', `/volumes/${encodeURIComponent(volumeId)}/action`, token, { 'os-begin_detaching': {} }, [202]);
  }

  async rollDetaching(token: string, volumeId: string): Promise<void> {
    await this.call('POST', `/volumes/${encodeURIComponent(volumeId)}/action`, token, { 'os-roll_detaching': {} }, [202]);
  }

  async delete(token: string, volumeId: string): Promise<boolean> {
    return (await this.call('DELETE', `/volumes/${encodeURIComponent(volumeId)}`, token, undefined, [202, 404])).status === 202;
  }

  async create(token: string, volume: VolumeCreate): Promise<CinderVolume> {
    const res = await this.call('POST', '/volumes', token, { volume: { ...volume, description: '' } }, [202]);
    return (res.json as { volume: CinderVolume }).volume;
  }

  async getSnapshot(token: string, id: string): Promise<CinderSnapshot | undefined> {
    const res = await this.call('GET', `/snapshots/${encodeURIComponent(id)}`, token, undefined, [200, 404]);
    return res.status === 404 ? undefined : (res.json as { snapshot: CinderSnapshot }).snapshot;
  }

  async absoluteLimits(token: string): Promise<Readonly<Record<string, number>>> {
    const res = await this.call('GET', '/limits', token, undefined, [200]);
    return (res.json as { limits: { absolute: Record<string, number> } }).limits.absolute;
  }

  async createSnapshotForce(token: string, volumeId: string, name: string, description: string | null): Promise<CinderSnapshot> {
    const res = await this.call('POST', '/snapshots', token, { snapshot: { volume_id: volumeId, force: true, name, description } }, [202]);
    return (res.json as { snapshot: CinderSnapshot }).snapshot;
  }
}
