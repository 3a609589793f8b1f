import type { Clock } from '../../common/clock.ts';
import { BackendError } from '../../common/errors.ts';
import { readBodyPieces } from '../../common/http/body-pieces.ts';
import { ClientDisconnectError, ClientTimeoutError } from '../../common/http/body-reader.ts';
import { readJsonBody } from '../../common/http/json-body.ts';
import { jsonReply } from '../../common/http/json-reply.ts';
import { serveWithRequestId } from '../../common/http/serve-with-request-id.ts';
import { Router } from '../../common/http/router.ts';
import type { Handler, ServerRequest, ServerResponse } from '../../common/http/server.ts';
import type { Logger } from '../../common/logger.ts';
import type { RequestContext } from '../../common/token/request-context.ts';
import { TokenRefusedError } from '../../common/token/token-validator.ts';
import { AuthFailedError, UnexpectedStatusError } from '../../client/errors.ts';
import { RecordVersionError } from '../../client/record-store.ts';
import { GlanceError, TITLES } from './errors.ts';
import type { ImageRequest, ImageResponse, ImageRoute } from './request.ts';

/** How long an upload may pause before it is given up (Glance's client_socket_timeout: 900 s). */
const BODY_IDLE_MS = 900_000;

export interface ImageServerOptions {
  readonly publicUrl: string;
  readonly routes: readonly ImageRoute[];
}

/**
 * The image service's HTTP edge: routes, validates the caller's token (as keystonemiddleware
 * in front of Glance: 401 without a valid one), and is the one place where errors become
 * Glance's answers, rendered as webob renders its HTTP exceptions: HTML unless the client
 * asks for JSON (`{"message", "code", "title"}`), with `x-openstack-request-id` on every
 * response.
 */
export class ImageServer {
  readonly handle: Handler;
  private readonly router: Router<ImageRoute>;
  private readonly options: ImageServerOptions;
  private readonly authenticate: (headers: Readonly<Record<string, string | undefined>>) => RequestContext | undefined;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(options: ImageServerOptions, deps: { authenticate: ImageServer['authenticate']; logger: Logger; clock: Clock }) {
    this.options = options;
    this.router = new Router(options.routes);
    this.authenticate = deps.authenticate;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.handle = (req) => this.serve(req);
  }

  private serve(req: ServerRequest): Promise<ServerResponse> {
    // Server-Timing (the W3C header; clients ignore it) gives the time to the response's head
    // (a JSON body is built by then), so a bench can tell the server's share from the client's.
    const answer = (res: ServerResponse, requestId: string, started: number): ServerResponse => ({
      ...res,
      headers: { ...res.headers, 'x-openstack-request-id': requestId, 'Server-Timing': `app;dur=${(this.clock.monotonic() - started).toFixed(1)}` },
    });
    return serveWithRequestId(
      req,
      { clock: this.clock, logger: this.logger },
      async (requestId, started) => answer(this.render(await this.dispatch(req), req), requestId, started),
      (err, requestId, started) => answer(this.errorResponse(err, req), requestId, started),
    );
  }

  private async dispatch(req: ServerRequest): Promise<ImageResponse> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const found = this.router.match(req.method, path);
    if (!found) throw new GlanceError(404, 'The resource could not be found.');
    if ('allowed' in found) throw new GlanceError(405, 'The method is not allowed for this resource.', { Allow: found.allowed.join(', ') });
    let context: RequestContext | undefined;
    if (found.route.auth !== 'none') {
      try {
        context = this.authenticate(req.headers);
      } catch (err) {
        if (!(err instanceof TokenRefusedError)) throw err;
      }
      if (!context) throw new GlanceError(401, 'The request you have made requires authentication.', { 'WWW-Authenticate': `Keystone uri='${this.options.publicUrl}'` });
    }
    const base = this.options.publicUrl || `http://${req.headers['host'] ?? '127.0.0.1'}`;
    const request: ImageRequest = {
      method: req.method,
      path,
      query: req.query,
      rawQuery: req.rawQuery,
      headers: req.headers,
      params: found.params,
      context: context as RequestContext,
      // The client's socket data in lent 1 MiB pieces (an upload sends each as it is); nothing
      // else holds a socket chunk once it is copied, so each is released then.
      body: readBodyPieces(req.body, { idleMs: BODY_IDLE_MS, releaseChunks: true }),
      json: () => readJson(req),
      base,
    };
    return found.route.handler(request);
  }

  private render(res: ImageResponse, req: ServerRequest): ServerResponse {
    if (res.json !== undefined) return jsonReply(req.method, res.status, res.json, { ...res.headers });
    if (res.body !== undefined) return { status: res.status, headers: { ...res.headers }, body: res.body, ...(res.given === true ? { given: true } : {}) };
    // Glance's empty answers (204 after an upload) carry webob's default type.
    return { status: res.status, headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': '0', ...res.headers } };
  }

  private errorResponse(err: unknown, req: ServerRequest): ServerResponse {
    if (err instanceof GlanceError) return webobError(err.status, err.message, req, err.headers);
    if (err instanceof ClientTimeoutError) return webobError(408, 'The request timed out.', req);
    if (err instanceof ClientDisconnectError) return webobError(400, 'Error reading the request body.', req);
    if (err instanceof RecordVersionError) return webobError(409, 'The image was changed by another request; try again.', req);
    if (err instanceof BackendError || err instanceof UnexpectedStatusError || err instanceof AuthFailedError) {
      this.logger.error('image store unavailable', { method: req.method, path: req.path, err });
      return webobError(503, 'The image store is unavailable; try again later.', req);
    }
    this.logger.error('unhandled error', { method: req.method, path: req.path, err });
    return webobError(500, 'The server has either erred or is incapable of performing the requested operation.', req);
  }
}

/**
 * webob's rendering of an HTTP exception (webob/exc.py): JSON when the client accepts it more
 * than HTML, else HTML (openstackclient accepts anything, and gets HTML from Glance).
 */
function webobError(status: number, explanation: string, req: ServerRequest, headers: Readonly<Record<string, string>> = {}): ServerResponse {
  const title = TITLES[status] ?? 'Error';
  const statusLine = `${status} ${title}`;
  const accept = req.headers['accept'] ?? '';
  if (/application\/json/i.test(accept) && !/text\/html/i.test(accept)) {
    return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ message: `${explanation}<br /><br />\n\n\n`.replace(/<br \/>/g, '\n'), code: statusLine, title }) };
  }
  const html = `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${escapeHtml(explanation)}<br /><br />\n\n\n\n </body>\n</html>`;
  return { status, headers: { 'Content-Type': 'text/html; charset=UTF-8', ...headers }, body: req.method === 'HEAD' ? '' : html };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Glance's `max_request_body_size` bounds JSON bodies (uploads stream, unbounded by it). */
function readJson(req: ServerRequest): Promise<unknown> {
  return readJsonBody(req, {
    idleMs: 60_000,
    tooLarge: () => new GlanceError(413, 'Request is too large.'),
    malformed: () => new GlanceError(400, 'Malformed JSON in request body.'),
  });
}
