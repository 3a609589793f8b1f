import type { Clock } from '../common/clock.ts';
import { BackendError } from '../common/errors.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../common/http/body-reader.ts';
import { readJsonBody } from '../common/http/json-body.ts';
import { jsonReply } from '../common/http/json-reply.ts';
import { serveWithRequestId } from '../common/http/serve-with-request-id.ts';
import type { Handler, ServerRequest, ServerResponse } from '../common/http/server.ts';
import type { Logger } from '../common/logger.ts';
import { TokenRefusedError, type TokenValidator, type ValidatedToken } from '../common/token/token-validator.ts';
import { AuthFailedError, UnexpectedStatusError } from '../client/errors.ts';
import { KeystoneError, unauthorized } from './errors.ts';
import type { IdentityRequest } from './request.ts';
import { Router } from '../common/http/router.ts';
import type { Route } from './route.ts';

export interface IdentityServerOptions {
  /** This service's URL as clients reach it; empty: `http://<Host header>`. */
  readonly publicUrl: string;
  readonly routes: readonly Route[];
}

/**
 * The identity service's HTTP edge: routes requests, parses JSON bodies, validates the caller's
 * `X-Auth-Token`, and is the one place where errors become Keystone's answers:
 * `{"error": {"code", "message", "title"}}`, `WWW-Authenticate: Keystone uri=...` on 401, and
 * on every response `Vary: X-Auth-Token` and `x-openstack-request-id`.
 */
export class IdentityServer {
  readonly handle: Handler;
  private readonly router: Router<Route>;
  private readonly options: IdentityServerOptions;
  private readonly validator: TokenValidator;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: IdentityServerOptions, deps: { validator: TokenValidator; logger: Logger; clock: Clock }) {
    this.options = options;
    this.router = new Router(options.routes);
    this.validator = deps.validator;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.handle = (req) => this.serve(req);
  }

  private serve(req: ServerRequest): Promise<ServerResponse> {
    const base = this.options.publicUrl || `http://${req.headers['host'] ?? '127.0.0.1'}`;
    return serveWithRequestId(
      req,
      { clock: this.clock, logger: this.logger },
      async (requestId) => finish(await this.dispatch(req, base), requestId, req.method),
      (err, requestId) => finish(this.errorResponse(err, base, req), requestId, req.method),
    );
  }

  private async dispatch(req: ServerRequest, base: string): Promise<Response> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const found = this.router.match(req.method, path);
    if (!found) throw new KeystoneError(404, 'Not Found', 'The resource could not be found.');
    if ('allowed' in found) return { status: 405, body: { error: { code: 405, message: 'The method is not allowed for the requested URL.', title: 'Method Not Allowed' } }, headers: { Allow: found.allowed.join(', ') } };
    const body = await readJson(req);
    let caller: ValidatedToken | undefined;
    const token = req.headers['x-auth-token'];
    if (found.route.auth !== 'none' && token !== undefined && token !== '') caller = this.validateCaller(token);
    if (found.route.auth === 'token' && !caller) throw unauthorized();
    const request: IdentityRequest = { method: req.method, path, query: req.query, rawQuery: req.rawQuery, headers: req.headers, body, base, params: found.params, ...(caller ? { caller } : {}) };
    return found.route.handler(request);
  }

  private validateCaller(token: string): ValidatedToken {
    try {
      return this.validator.validate(token);
    } catch (err) {
      if (err instanceof TokenRefusedError) throw unauthorized();
      throw err;
    }
  }

  private errorResponse(err: unknown, base: string, req: ServerRequest): Response {
    if (err instanceof KeystoneError) {
      return {
        status: err.status,
        body: { error: { code: err.status, message: err.message, title: err.title } },
        ...(err.status === 401 ? { headers: { 'WWW-Authenticate': `Keystone uri="${base}/v3"` } } : {}),
      };
    }
    if (err instanceof ClientTimeoutError || err instanceof ClientDisconnectError) {
      return { status: 400, body: { error: { code: 400, message: 'The request body could not be read.', title: 'Bad Request' } } };
    }
    if (err instanceof BackendError || err instanceof UnexpectedStatusError || err instanceof AuthFailedError) {
      // The cluster holding identity's records did not answer as it should.
      this.logger.error('record store unavailable', { method: req.method, path: req.path, err });
      return { status: 503, body: { error: { code: 503, message: 'The identity store is unavailable; try again later.', title: 'Service Unavailable' } } };
    }
    this.logger.error('unhandled error', { method: req.method, path: req.path, err });
    return { status: 500, body: { error: { code: 500, message: 'An unexpected error prevented the server from fulfilling your request.', title: 'Internal Server Error' } } };
  }
}

interface Response {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

function finish(res: Response, requestId: string, method: string): ServerResponse {
  return jsonReply(method, res.status, res.body, { Vary: 'X-Auth-Token', 'x-openstack-request-id': requestId, ...res.headers });
}

function readJson(req: ServerRequest): Promise<unknown> {
  return readJsonBody(req, {
    methods: ['POST', 'PUT', 'PATCH'],
    tooLarge: () => new KeystoneError(413, 'Request Entity Too Large', 'Request is too large.'),
    malformed: () =>
      new KeystoneError(400, 'Bad Request', 'Expecting to find valid JSON in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.'),
  });
}
