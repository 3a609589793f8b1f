import type { BackendBody, BackendClient } from '../common/http/backend-client.ts';
import { BackendError, SwiftError } from '../common/errors.ts';
import { parseEndpoint, type Endpoint } from '../client/endpoint.ts';
import type { ServiceAuth } from './service-auth.ts';

/** Another service answered what its API does not allow for the request compute made. */
export class ServiceCallError extends SwiftError {
  readonly status: number;
  readonly service: string;

  constructor(service: string, status: number, detail: string) {
    super('SERVICE_CALL_FAILED', `${service} answered ${status}: ${detail}`);
    this.status = status;
    this.service = service;
  }
}

export interface JsonAnswer {
  readonly status: number;
  readonly json: unknown;
  /** The answer's `x-openstack-request-id` (clients print it in their errors). */
  readonly requestId?: string;
}

/**
 * Compute's calls to another OpenStack API (Glance, Neutron) over the one outbound seam, with a
 * token: JSON in and out, any status returned to the caller to judge. Given compute's own
 * credential, every call also carries its token as `X-Service-Token`, as Nova's do with
 * `send_service_user_token`: the other service then accepts a user's token that expired while
 * the work waited in the queue (keystonemiddleware's service token check).
 */
export class OpenStackHttp {
  readonly service: string;
  private readonly endpoint: Endpoint;
  private readonly http: BackendClient;
  private readonly url: string;
  private readonly serviceAuth: ServiceAuth | undefined;
  private readonly headers: Readonly<Record<string, string>>;

  /** `headers` go with every call (Cinder's `OpenStack-API-Version`, for one). */
  constructor(service: string, url: string, http: BackendClient, serviceAuth?: ServiceAuth, headers: Readonly<Record<string, string>> = {}) {
    this.service = service;
    this.headers = headers;
    this.endpoint = parseEndpoint(url, `${service} url`);
    this.http = http;
    this.url = url;
    this.serviceAuth = serviceAuth;
  }

  /** `X-Auth-Token`, and `X-Service-Token` when compute has its own credential. */
  private async auth(token: string): Promise<Record<string, string>> {
    return this.serviceAuth ? { ...this.headers, 'X-Auth-Token': token, 'X-Service-Token': await this.serviceAuth.token() } : { ...this.headers, 'X-Auth-Token': token };
  }

  /** One request; no answer at all is a 503 `ServiceCallError` naming the host (Nova's GlanceConnectionFailed). */
  private async send(request: Parameters<BackendClient['request']>[1]): Promise<Awaited<ReturnType<BackendClient['request']>>> {
    try {
      return await this.http.request(this.endpoint.node, request);
    } catch (err) {
      if (err instanceof BackendError) throw new ServiceCallError(this.service, 503, `Connection to ${this.service} host ${this.url} failed: ${err.message}`);
      throw err;
    }
  }

  async json(method: string, path: string, token: string, body?: unknown, query?: string, contentType = 'application/json'): Promise<JsonAnswer> {
    const headers: Record<string, string> = { ...(await this.auth(token)), Accept: 'application/json' };
    let payload: BackendBody = null;
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      payload = JSON.stringify(body);
    }
    const res = await this.send({ method, path: `${this.endpoint.path}${path}`, headers, body: payload, ...(query ? { query } : {}) });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    const requestId = res.headers['x-openstack-request-id'];
    return { status: res.status, json, ...(requestId !== undefined ? { requestId } : {}) };
  }

  /** A body streamed to the caller (an image's data). @throws {ServiceCallError} unless 200. */
  async download(path: string, token: string): Promise<AsyncIterable<Buffer>> {
    const res = await this.send({ method: 'GET', path: `${this.endpoint.path}${path}`, headers: await this.auth(token) });
    if (res.status !== 200) {
      await res.body.dump();
      throw new ServiceCallError(this.service, res.status, `GET ${path}`);
    }
    return res.body;
  }

  /** Sends a streamed body (an image upload). @throws {ServiceCallError} unless 2xx. */
  async upload(method: string, path: string, token: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void> {
    const res = await this.send({ method, path: `${this.endpoint.path}${path}`, headers: { ...(await this.auth(token)), 'Content-Type': contentType }, body });
    const text = await res.body.text();
    if (res.status < 200 || res.status > 299) throw new ServiceCallError(this.service, res.status, text.slice(0, 200));
  }
}
