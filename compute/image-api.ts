import type { BackendClient } from '../common/http/backend-client.ts';
import { OpenStackHttp, ServiceCallError } from './openstack-http.ts';
import type { ServiceAuth } from './service-auth.ts';

/** The parts of a Glance v2 image compute reads. */
export interface GlanceImage {
  readonly id: string;
  readonly name: string | null;
  readonly status: string;
  readonly disk_format: string | null;
  readonly container_format: string | null;
  readonly size: number | null;
  readonly min_disk: number;
  readonly min_ram: number;
  readonly [property: string]: unknown;
}

/** What compute asks of the image service (Glance v2), with the user's token. */
export interface ImageApi {
  /** The image, or undefined when Glance says 404 (or hides it: also 404). */
  get(token: string, id: string): Promise<GlanceImage | undefined>;
  /** The image's data. @throws {ServiceCallError} */
  download(token: string, id: string): Promise<AsyncIterable<Buffer>>;
  /** A new image record (queued, no data yet): `POST /v2/images`. @throws {ServiceCallError} */
  create(token: string, fields: Readonly<Record<string, unknown>>): Promise<GlanceImage>;
  /** Sets the formats and uploads the data (`PATCH`, then `PUT /v2/images/{id}/file`). @throws {ServiceCallError} */
  upload(token: string, id: string, formats: { readonly disk_format: string; readonly container_format: string }, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** False when it was already gone. */
  delete(token: string, id: string): Promise<boolean>;
  /** Every image the token sees with these properties (`GET /v2/images?<key>=<value>`, all pages), newest first. */
  list(token: string, filters: Readonly<Record<string, string>>): Promise<GlanceImage[]>;
  /** Shares the image with a project (`POST /v2/images/{id}/members`). @throws {ServiceCallError} */
  addMember(token: string, id: string, member: string): Promise<void>;
}

/** Glance v2 over HTTP (`GET /v2/images/{id}`, `GET /v2/images/{id}/file`). */
export class GlanceImageApi implements ImageApi {
  private readonly http: OpenStackHttp;

  /** `serviceAuth`: compute's own credential, sent as `X-Service-Token` beside the user's token. */
  constructor(url: string, http: BackendClient, serviceAuth?: ServiceAuth) {
    this.http = new OpenStackHttp('image', url, http, serviceAuth);
  }

  async get(token: string, id: string): Promise<GlanceImage | undefined> {
    const res = await this.http.json('GET', `/v2/images/${encodeURIComponent(id)}`, token);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new ServiceCallError('image', res.status, `GET /v2/images/${id}`);
    return res.json as GlanceImage;
  }

  async list(token: string, filters: Readonly<Record<string, string>>): Promise<GlanceImage[]> {
    const out: GlanceImage[] = [];
    let path: string | undefined = `/v2/images?${new URLSearchParams({ ...filters, sort_key: 'created_at', sort_dir: 'desc' }).toString()}`;
    while (path !== undefined) {
      const res = await this.http.json('GET', path, token);
      if (res.status !== 200) throw new ServiceCallError('image', res.status, `GET ${path}`);
      const page = res.json as { images: GlanceImage[]; next?: string };
      out.push(...page.images);
      // Glance's `next` is a path with the marker (`/v2/images?marker=...`).
      path = page.images.length > 0 ? page.next : undefined;
    }
    return out;
  }

  download(token: string, id: string): Promise<AsyncIterable<Buffer>> {
    return this.http.download(`/v2/images/${encodeURIComponent(id)}/file`, token);
  }

  async create(token: string, fields: Readonly<Record<string, unknown>>): Promise<GlanceImage> {
    const res = await this.http.json('POST', '/v2/images', token, fields);
    if (res.status !== 201) throw new ServiceCallError('image', res.status, JSON.stringify(res.json).slice(0, 300));
    return res.json as GlanceImage;
  }

  async upload(token: string, id: string, formats: { readonly disk_format: string; readonly container_format: string }, data: AsyncIterable<Uint8Array>): Promise<void> {
    const path = `/v2/images/${encodeURIComponent(id)}`;
    // Glance takes data only once the formats are set (Nova sets them when it uploads).
    const patch = [{ op: 'add', path: '/disk_format', value: formats.disk_format }, { op: 'add', path: '/container_format', value: formats.container_format }];
    const res = await this.http.json('PATCH', path, token, patch, undefined, 'application/openstack-images-v2.1-json-patch');
    if (res.status !== 200) throw new ServiceCallError('image', res.status, JSON.stringify(res.json).slice(0, 300));
    await this.http.upload('PUT', `${path}/file`, token, data, 'application/octet-stream');
  }

  async addMember(token: string, id: string, member: string): Promise<void> {
    const res = await this.http.json('POST', `/v2/images/${encodeURIComponent(id)}/members`, token, { member });
    if (res.status !== 200) throw new ServiceCallError('image', res.status, JSON.stringify(res.json).slice(0, 300));
  }

  async delete(token: string, id: string): Promise<boolean> {
    const res = await this.http.json('DELETE', `/v2/images/${encodeURIComponent(id)}`, token);
    if (res.status === 404) return false;
    if (res.status !== 204) throw new ServiceCallError('image', res.status, `DELETE /v2/images/${id}`);
    return true;
  }
}
