import type { BackendClient } from '../common/http/backend-client.ts';
import { OpenStackHttp, ServiceCallError } from './openstack-http.ts';

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
}

/** Glance v2 over HTTP (`GET /v2/images/{id}`, `GET /v2/images/{id}/file`). */
export class GlanceImageApi implements ImageApi {
  private readonly http: OpenStackHttp;

  constructor(url: string, http: BackendClient) {
    this.http = new OpenStackHttp('image', url, http);
  }

  async get(token: string, id: string): Promise<GlanceImage | undefined> {
    const res = await this.http.json('GET', `/v2/images/${encodeURIComponent(id)}`, token);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new ServiceCallError('image', res.status, `GET /v2/images/${id}`);
    return res.json as GlanceImage;
  }

  download(token: string, id: string): Promise<AsyncIterable<Buffer>> {
    return this.http.download(`/v2/images/${encodeURIComponent(id)}/file`, token);
  }
}
