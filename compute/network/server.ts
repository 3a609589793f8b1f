import type { Clock } from '../../common/clock.ts';
import { BackendError } from '../../common/errors.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../../common/http/body-reader.ts';
import { drainBody, readJsonBody } from '../../common/http/json-body.ts';
import { jsonReply } from '../../common/http/json-reply.ts';
import { serveWithRequestId } from '../../common/http/serve-with-request-id.ts';
import { Router } from '../../common/http/router.ts';
import type { Handler, ServerRequest, ServerResponse } from '../../common/http/server.ts';
import type { Logger } from '../../common/logger.ts';
import { validateUserToken } from '../../common/token/request-context.ts';
import { TokenRefusedError, type TokenValidator } from '../../common/token/token-validator.ts';
import { AuthFailedError, UnexpectedStatusError } from '../../client/errors.ts';
import { RecordVersionError } from '../../client/record-store.ts';
import { contextFromToken, type NetworkContext } from './context.ts';
import { HttpBadRequest, HttpNotFound, NeutronError } from './errors.ts';
import type { NetworkRequest, NetworkRoute } from './request.ts';

const STATUS: Record<NeutronError['fault'], number> = { BadRequest: 400, Forbidden: 403, NotFound: 404, Conflict: 409, TooLarge: 413, Unavailable: 503, Internal: 500 };

export interface NetworkServerOptions {
  /** This service's URL as clients reach it; empty: `http://<Host header>`. */
  readonly publicUrl: string;
  /** Keystone's URL for `WWW-Authenticate` on 401 (keystonemiddleware's `www_authenticate_uri`). */
  readonly identityUrl: string;
  readonly routes: readonly NetworkRoute[];
}

/**
 * The network API's HTTP edge: routes requests, parses JSON bodies, validates `X-Auth-Token`
 * into a `NetworkContext`, and is the one place errors become Neutron's answers:
 * `{"NeutronError": {"type", "message", "detail"}}` with the fault's status, keystonemiddleware's
 * 401, and `x-openstack-request-id` on every response.
 */
export class NetworkServer {
  readonly handle: Handler;
  private readonly router: Router<NetworkRoute>;
  private readonly options: NetworkServerOptions;
  private readonly validator: TokenValidator;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: NetworkServerOptions, deps: { validator: TokenValidator; logger: Logger; clock: Clock }) {
    this.options = options;
    this.router = new Router(options.routes);
    this.validator = deps.validator;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.handle = (req) => this.serve(req);
  }

  private serve(req: ServerRequest): Promise<ServerResponse> {
    return serveWithRequestId(
      req,
      { clock: this.clock, logger: this.logger },
      async (requestId) => finish(await this.dispatch(req), requestId, req.method),
      (err, requestId) => finish(this.errorResponse(err, req), requestId, req.method),
    );
  }

  private async dispatch(req: ServerRequest): Promise<Reply> {
    const base = this.options.publicUrl || `http://${req.headers['host'] ?? '127.0.0.1'}`;
    // Neutron's routes take an optional `.json` suffix and a trailing slash.
    const path = (req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path).replace(/\.json$/, '');
    const found = this.router.match(req.method, path);
    if (!found) {
      await drainBody(req);
      throw new HttpNotFound();
    }
    if ('allowed' in found) {
      await drainBody(req);
      return { status: 405, body: { NeutronError: { type: 'HTTPMethodNotAllowed', message: 'The server could not comply with the request since it is either malformed or otherwise incorrect.', detail: '' } }, headers: { Allow: found.allowed.join(', ') } };
    }
    let ctx: NetworkContext | undefined;
    if (found.route.auth === 'token') {
      const token = req.headers['x-auth-token'];
      if (token === undefined || token === '') {
        await drainBody(req);
        return this.unauthorized();
      }
      try {
        ctx = contextFromToken(validateUserToken(this.validator, token, req.headers['x-service-token']));
      } catch (err) {
        if (!(err instanceof TokenRefusedError)) throw err;
        await drainBody(req);
        return this.unauthorized();
      }
    }
    const body = await readJson(req);
    const request: NetworkRequest = { method: req.method, path, query: req.query, headers: req.headers, body, base, params: found.params, ...(ctx ? { ctx } : {}) };
    return found.route.handler(request);
  }

  /** keystonemiddleware's answer to a missing or refused token. */
  private unauthorized(): Reply {
    return {
      status: 401,
      body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
      headers: { 'WWW-Authenticate': `Keystone uri="${this.options.identityUrl}"` },
    };
  }

  private errorResponse(err: unknown, req: ServerRequest): Reply {
    if (err instanceof NeutronError) {
      return { status: STATUS[err.fault], body: { NeutronError: { type: err.type, message: err.message, detail: '' } } };
    }
    if (err instanceof ClientTimeoutError || err instanceof ClientDisconnectError) return this.errorResponse(new HttpBadRequest('Body contains invalid data'), req);
    if (err instanceof BackendError || err instanceof UnexpectedStatusError || err instanceof AuthFailedError || err instanceof RecordVersionError) {
      // The cluster holding the records did not answer as it should (or a record kept changing under us).
      this.logger.error('record store unavailable', { method: req.method, path: req.path, err });
      return { status: 503, body: { NeutronError: { type: 'ServiceUnavailable', message: 'The service is unavailable.', detail: '' } } };
    }
    this.logger.error('unhandled error', { method: req.method, path: req.path, err });
    return { status: 500, body: { NeutronError: { type: 'HTTPInternalServerError', message: 'Request Failed: internal server error while processing your request.', detail: '' } } };
  }
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

function finish(res: Reply, requestId: string, method: string): ServerResponse {
  return jsonReply(method, res.status, res.body, { 'x-openstack-request-id': requestId, ...res.headers }, true);
}

/** Neutron's body limit is oslo.middleware's `max_request_body_size`. */
function readJson(req: ServerRequest): Promise<unknown> {
  return readJsonBody(req, {
    methods: ['POST', 'PUT'],
    tooLarge: () => new NeutronError('HTTPRequestEntityTooLarge', 'TooLarge', 'Request is too large.'),
    malformed: () => new HttpBadRequest('Body contains invalid data'),
  });
}
