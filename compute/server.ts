import type { Clock } from '../common/clock.ts';
import { BackendError } from '../common/errors.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../common/http/body-reader.ts';
import { readJsonBody } from '../common/http/json-body.ts';
import { jsonReply } from '../common/http/json-reply.ts';
import { serveWithRequestId } from '../common/http/serve-with-request-id.ts';
import { Router } from '../common/http/router.ts';
import type { Handler, ServerRequest, ServerResponse } from '../common/http/server.ts';
import type { Logger } from '../common/logger.ts';
import { validateUserToken } from '../common/token/request-context.ts';
import { TokenRefusedError, type TokenValidator } from '../common/token/token-validator.ts';
import { AuthFailedError, UnexpectedStatusError } from '../client/errors.ts';
import { type ApiVersion, MIN_VERSION, requestedVersion, versionString } from './api-version.ts';
import { FAULT_NAMES, NovaError } from './errors.ts';
import { ServiceCallError } from './openstack-http.ts';
import type { ComputeContext, ComputeRequest, ComputeResponse, ComputeRoute } from './request.ts';

export interface ComputeServerOptions {
  /** This service's URL as clients reach it; empty: `http://<Host header>`. */
  readonly publicUrl: string;
  readonly routes: readonly ComputeRoute[];
}

/**
 * The compute API's HTTP edge: routes, parses JSON bodies, reads the microversion, validates
 * `X-Auth-Token` into a `ComputeContext`, and is the one place where errors become Nova's
 * faults (`{"itemNotFound": {"code": 404, "message": ...}}`). Every answer carries
 * `x-openstack-request-id` and `x-compute-request-id` (the same id), and, past the version
 * documents, `OpenStack-API-Version: compute 2.x`, `X-OpenStack-Nova-API-Version` and `Vary`
 * on both, as Nova's wsgi layer sends them.
 */
export class ComputeServer {
  readonly handle: Handler;
  private readonly router: Router<ComputeRoute>;
  private readonly options: ComputeServerOptions;
  private readonly validator: TokenValidator;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: ComputeServerOptions, deps: { validator: TokenValidator; logger: Logger; clock: Clock }) {
    this.options = options;
    this.router = new Router(options.routes);
    this.validator = deps.validator;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.handle = (req) => this.serve(req);
  }

  private serve(req: ServerRequest): Promise<ServerResponse> {
    const base = this.options.publicUrl || `http://${req.headers['host'] ?? '127.0.0.1'}`;
    const state: { version?: ApiVersion } = {};
    return serveWithRequestId(
      req,
      { clock: this.clock, logger: this.logger },
      async (requestId) => finish(await this.dispatch(req, base, state, requestId), requestId, req.method, state.version),
      (err, requestId) => finish(this.errorResponse(err, req), requestId, req.method, state.version),
    );
  }

  private async dispatch(req: ServerRequest, base: string, state: { version?: ApiVersion }, requestId: string): Promise<ComputeResponse> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const found = this.router.match(req.method, stripProjectId(path));
    if (!found) throw new NovaError(404, 'The resource could not be found.');
    if ('allowed' in found) return { status: 405, body: { badMethod: { code: 405, message: 'The method is not allowed for this resource.' } }, headers: { Allow: found.allowed.join(', ') } };
    const route = found.route;
    let version = MIN_VERSION;
    let context: ComputeContext | undefined;
    if (route.auth === 'token') {
      context = this.contextOf(req.headers['x-auth-token'], req.headers['x-service-token']);
      version = requestedVersion(req.headers);
      state.version = version;
    }
    const body = await readJson(req);
    const request: ComputeRequest = { method: req.method, path, query: req.query, rawQuery: req.rawQuery, headers: req.headers, body, base, params: found.params, version, requestId, ...(context ? { context } : {}) };
    return route.handler(request);
  }

  /** keystonemiddleware's part: a valid, project-scoped token, or 401. */
  private contextOf(token: string | undefined, serviceToken: string | undefined): ComputeContext {
    if (token === undefined || token === '') throw new NovaError(401, 'The request you have made requires authentication.');
    try {
      const t = validateUserToken(this.validator, token, serviceToken);
      if (t.scope.kind !== 'project') throw new NovaError(401, 'The request you have made requires authentication.');
      const roles = t.roles.map((r) => r.name);
      return { userId: t.userId, projectId: t.scope.projectId, roles, isAdmin: roles.includes('admin') };
    } catch (err) {
      if (err instanceof TokenRefusedError) throw new NovaError(401, 'The request you have made requires authentication.');
      throw err;
    }
  }

  private errorResponse(err: unknown, req: ServerRequest): ComputeResponse {
    if (err instanceof NovaError) return fault(err.status, err.message);
    if (err instanceof ServiceCallError) {
      // Glance or Neutron failed us: Nova answers 503 when it cannot reach them.
      this.logger.error('service call failed', { method: req.method, path: req.path, err });
      return fault(503, err.message);
    }
    if (err instanceof ClientTimeoutError || err instanceof ClientDisconnectError) return fault(400, 'The request body could not be read.');
    if (err instanceof BackendError || err instanceof UnexpectedStatusError || err instanceof AuthFailedError) {
      // The cluster holding compute's records did not answer as it should.
      this.logger.error('record store unavailable', { method: req.method, path: req.path, err });
      return fault(503, 'The compute store is unavailable; try again later.');
    }
    this.logger.error('unhandled error', { method: req.method, path: req.path, err });
    return { status: 500, body: { computeFault: { code: 500, message: 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.' } } };
  }
}

function fault(status: number, message: string): ComputeResponse {
  return { status, body: { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } } };
}

/**
 * Nova serves `/v2.1/{project_id}/...` as well as `/v2.1/...` (catalogs of older deployments
 * carry the project id); the project segment is dropped before routing.
 */
function stripProjectId(path: string): string {
  return path.replace(/^\/v2\.1\/[0-9a-f]{32}(?=\/|$)/, '/v2.1');
}

function finish(res: ComputeResponse, requestId: string, method: string, version: ApiVersion | undefined): ServerResponse {
  const headers: Record<string, string> = { 'x-openstack-request-id': requestId, 'x-compute-request-id': requestId, ...res.headers };
  if (version) {
    headers['OpenStack-API-Version'] = `compute ${versionString(version)}`;
    headers['X-OpenStack-Nova-API-Version'] = versionString(version);
    headers['Vary'] = 'OpenStack-API-Version, X-OpenStack-Nova-API-Version';
  }
  return jsonReply(method, res.status, res.body, headers, true);
}

/** Nova's body limit is oslo's `max_request_body_size`. */
function readJson(req: ServerRequest): Promise<unknown> {
  return readJsonBody(req, {
    methods: ['POST', 'PUT'],
    tooLarge: () => new NovaError(413, 'Request is too large.'),
    malformed: () => new NovaError(400, 'Malformed request body'),
  });
}
