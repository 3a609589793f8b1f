import type { Clock } from '../../common/clock.ts';
import { BackendError } from '../../common/errors.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../../common/http/body-reader.ts';
import { readJsonBody } from '../../common/http/json-body.ts';
import { jsonReply } from '../../common/http/json-reply.ts';
import { serveWithRequestId } from '../../common/http/serve-with-request-id.ts';
import { Router } from '../../common/http/router.ts';
import type { Handler, ServerRequest, ServerResponse } from '../../common/http/server.ts';
import type { Logger } from '../../common/logger.ts';
import { validateUserToken } from '../../common/token/request-context.ts';
import { TokenRefusedError, type TokenValidator } from '../../common/token/token-validator.ts';
import { AuthFailedError, UnexpectedStatusError } from '../../client/errors.ts';
import { CinderError, faultBody } from './api/cinder-error.ts';
import { type ApiVersion, MIN_API_VERSION, requestedVersion, versionHeaders } from './api/microversion.ts';
import type { Route, VolumeContext, VolumeRequest, VolumeResponse } from './api/request.ts';

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

  private serve(req: ServerRequest): Promise<ServerResponse> {
    const base = this.options.publicUrl || `http://${req.headers['host'] ?? '127.0.0.1'}`;
    const versioned = req.path.startsWith('/v3/') || req.path === '/v3';
    let version: ApiVersion | undefined;
    const finish = (res: VolumeResponse, requestId: string): ServerResponse =>
      jsonReply(req.method, res.status, res.body, { 'x-openstack-request-id': requestId, ...(versioned && version ? versionHeaders(version) : {}), ...res.headers });
    return serveWithRequestId(
      req,
      { clock: this.clock, logger: this.logger },
      async (requestId) => {
        version = versioned ? requestedVersion(req.headers) : MIN_API_VERSION;
        return finish(await this.dispatch(req, base, version), requestId);
      },
      (err, requestId) => finish(this.fault(err, req), requestId),
    );
  }

  private async dispatch(req: ServerRequest, base: string, version: ApiVersion): Promise<VolumeResponse> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const found = this.router.match(req.method, path || '/');
    if (!found) throw new CinderError(404, 'The resource could not be found.');
    if ('allowed' in found) return { status: 405, body: faultBody(405, 'The method is not allowed for the requested URL.'), headers: { Allow: found.allowed.join(', ') } };
    const body = await readJson(req);
    let context: VolumeContext | undefined;
    if (found.route.auth === 'token') context = this.contextFor(req.headers['x-auth-token'], req.headers['x-service-token']);
    const request: VolumeRequest = { method: req.method, path, query: req.query, headers: req.headers, body, base, params: found.params, version, ...(context ? { context } : {}) };
    return found.route.handler(request);
  }

  /**
   * keystonemiddleware's job: a valid, project-scoped token, or 401. A user's token beside a
   * service's `X-Service-Token` (Nova's calls on a user's behalf) is judged as `validateUserToken` says.
   */
  private contextFor(token: string | undefined, serviceToken: string | undefined): VolumeContext {
    if (token === undefined || token === '') throw new CinderError(401, 'Authentication required');
    let validated: ReturnType<TokenValidator['validate']>;
    try {
      validated = validateUserToken(this.validator, token, serviceToken);
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

/** Cinder's body limit is oslo's `max_request_body_size`. */
function readJson(req: ServerRequest): Promise<unknown> {
  return readJsonBody(req, {
    methods: ['POST', 'PUT', 'PATCH'],
    tooLarge: () => new CinderError(413, 'Request is too large.'),
    malformed: () => new CinderError(400, 'Malformed request body'),
  });
}
