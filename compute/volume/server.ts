import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import { BackendError } from '../../common/errors.ts';
import { ClientDisconnectError, ClientTimeoutError, readWholeBody } from '../../common/http/body-reader.ts';
import { Router } from '../../common/http/router.ts';
import type { Handler, ServerRequest, ServerResponse } from '../../common/http/server.ts';
import type { Logger } from '../../common/logger.ts';
import { TokenRefusedError, type TokenValidator } from '../../common/token/token-validator.ts';
import { AuthFailedError, UnexpectedStatusError } from '../../client/errors.ts';
import { CinderError, faultBody } from './api/cinder-error.ts';
import { type ApiVersion, MIN_API_VERSION, requestedVersion, versionHeaders } from './api/microversion.ts';
import type { Route, VolumeContext, VolumeRequest, VolumeResponse } from './api/request.ts';

/** Cinder's `osapi_max_request_body_size` default (114688 bytes). */
const MAX_BODY_BYTES = 114_688;

export interface VolumeServerOptions {
  /** This service's URL as clients reach it; empty: `http://<Host header>`. */
  readonly publicUrl: string;
  readonly routes: readonly Route[];
  /** The identity service's URL, for `WWW-Authenticate` on a 401 (keystonemiddleware's `www_authenticate_uri`). */
  readonly identityUri?: string;
}

/**
 * The volume service's HTTP edge: routes, reads JSON bodies, picks the microversion, validates
 * `X-Auth-Token` into a Cinder request context, and is the one place where errors become
 * Cinder's faults (`{"badRequest": {"code", "message"}}`...). Every answer carries
 * `x-openstack-request-id` and, on v3 paths, `OpenStack-API-Version` with `Vary`.
 */
export class VolumeServer {
  readonly handle: Handler;
  private readonly router: Router<Route>;
  private readonly options: VolumeServerOptions;
  private readonly validator: TokenValidator;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: VolumeServerOptions, deps: { validator: TokenValidator; logger: Logger; clock: Clock }) {
    this.options = options;
    this.router = new Router(options.routes);
    this.validator = deps.validator;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.handle = (req) => this.serve(req);
  }

  private async serve(req: ServerRequest): Promise<ServerResponse> {
    const started = this.clock.monotonic();
    const requestId = `req-${randomUUID()}`;
    const base = this.options.publicUrl || `http://${req.headers['host'] ?? '127.0.0.1'}`;
    const versioned = req.path.startsWith('/v3/') || req.path === '/v3';
    let version: ApiVersion | undefined;
    let res: VolumeResponse;
    try {
      version = versioned ? requestedVersion(req.headers) : MIN_API_VERSION;
      res = await this.dispatch(req, base, version);
    } catch (err) {
      res = this.fault(err, req);
    }
    this.logger.info('request', { method: req.method, path: req.path, status: res.status, ms: Math.round(this.clock.monotonic() - started), request_id: requestId });
    const headers: Record<string, string> = { 'x-openstack-request-id': requestId, ...(versioned && version ? versionHeaders(version) : {}), ...res.headers };
    if (res.body === undefined) return { status: res.status, headers };
    headers['Content-Type'] = 'application/json';
    const body = JSON.stringify(res.body);
    if (req.method === 'HEAD') return { status: res.status, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } };
    return { status: res.status, headers, body };
  }

  private async dispatch(req: ServerRequest, base: string, version: ApiVersion): Promise<VolumeResponse> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const found = this.router.match(req.method, path || '/');
    if (!found) throw new CinderError(404, 'The resource could not be found.');
    if ('allowed' in found) return { status: 405, body: faultBody(405, 'The method is not allowed for the requested URL.'), headers: { Allow: found.allowed.join(', ') } };
    const body = await readJson(req);
    let context: VolumeContext | undefined;
    if (found.route.auth === 'token') context = this.contextFor(req.headers['x-auth-token']);
    const request: VolumeRequest = { method: req.method, path, query: req.query, headers: req.headers, body, base, params: found.params, version, ...(context ? { context } : {}) };
    return found.route.handler(request);
  }

  /** keystonemiddleware's job: a valid, project-scoped token, or 401. */
  private contextFor(token: string | undefined): VolumeContext {
    if (token === undefined || token === '') throw new CinderError(401, 'Authentication required');
    let validated: ReturnType<TokenValidator['validate']>;
    try {
      validated = this.validator.validate(token);
    } catch (err) {
      if (err instanceof TokenRefusedError) throw new CinderError(401, 'Authentication required');
      throw err;
    }
    if (validated.scope.kind !== 'project') throw new CinderError(401, 'Authentication required');
    const roles = validated.roles.map((r) => r.name);
    return { userId: validated.userId, projectId: validated.scope.projectId, roles, isAdmin: roles.includes('admin'), token };
  }

  private fault(err: unknown, req: ServerRequest): VolumeResponse {
    if (err instanceof CinderError && err.status === 401) {
      // keystonemiddleware refuses before Cinder sees the request, with its own body.
      return { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } }, headers: { 'WWW-Authenticate': `Keystone uri="${this.options.identityUri ?? ''}"` } };
    }
    if (err instanceof CinderError) return { status: err.status, body: faultBody(err.status, err.message, err.headers['Retry-After']), headers: err.headers };
    if (err instanceof ClientTimeoutError || err instanceof ClientDisconnectError) return { status: 400, body: faultBody(400, 'The request body could not be read.') };
    if (err instanceof BackendError || err instanceof UnexpectedStatusError || err instanceof AuthFailedError) {
      this.logger.error('record store unavailable', { method: req.method, path: req.path, err });
      return { status: 503, body: faultBody(503, 'The volume service is unavailable; try again later.') };
    }
    this.logger.error('unhandled error', { method: req.method, path: req.path, err });
    return { status: 500, body: faultBody(500, 'The server has either erred or is incapable of performing the requested operation.') };
  }
}

async function readJson(req: ServerRequest): Promise<unknown> {
  if (!['POST', 'PUT', 'PATCH'].includes(req.method)) {
    for await (const _ of req.body) {
      // A GET or DELETE body is read and ignored, so the connection stays usable.
    }
    return undefined;
  }
  const tooLarge = (): Error => new CinderError(413, 'Request is too large.');
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const bytes = await readWholeBody(req.body, 30_000, MAX_BODY_BYTES, tooLarge);
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CinderError(400, 'Malformed request body');
  }
}
