import { SwiftError } from '../../common/errors.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { errorResponse, type ResponseBody, type ResponseHeaders, type ServerResponse } from '../../common/http/server.ts';
import type { ProxyHandler, ProxyRequest } from '../request.ts';
import { toHttpError } from './catch-errors.ts';

/**
 * Reading the answers of subrequests: controllers pass backend headers on in lower case but
 * set some of their own title-cased (`ETag`, `Last-Modified`), so names are looked up without
 * regard to case; a body that is not forwarded must still be consumed, or the backend
 * connection behind it stays busy.
 */

/** Whether a status is a 2xx. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** The value of header `name` (any case) of `response`; undefined when absent. */
export function headerOf(response: Pick<ServerResponse, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const headers = response.headers ?? {};
  for (const k in headers) {
    if (k.toLowerCase() !== wanted) continue;
    const v = headers[k];
    return Array.isArray(v) ? v.join(', ') : String(v);
  }
  return undefined;
}

/** A response body as a stream of chunks (a string or bytes becomes one chunk). */
export async function* bodyChunks(body: ResponseBody): AsyncGenerator<Uint8Array> {
  if (body === undefined || body === null) return;
  if (typeof body === 'string') {
    if (body !== '') yield Buffer.from(body);
    return;
  }
  if (body instanceof Uint8Array) {
    if (body.length > 0) yield body;
    return;
  }
  yield* body;
}

/** A body was longer than its reader allows. */
export class BodyTooLargeError extends SwiftError {
  constructor(limit: number) {
    super('BODY_TOO_LARGE', `body longer than ${limit} bytes`);
  }
}

/**
 * A whole body in memory, for small answers (error texts, manifests, listings).
 * @throws {BodyTooLargeError} when it holds more than `limit` bytes (the rest is not read).
 */
export async function readWhole(body: ResponseBody, limit: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const chunks = bodyChunks(body);
  try {
    for await (const chunk of chunks) {
      total += chunk.length;
      if (total > limit) throw new BodyTooLargeError(limit);
      parts.push(chunk);
    }
  } finally {
    await chunks.return(undefined);
  }
  return Buffer.concat(parts);
}

/** Reads a body to its end and drops it; read errors are ignored (the status is what counts). */
export async function discardBody(body: ResponseBody): Promise<void> {
  try {
    for await (const _chunk of bodyChunks(body)) {
      // dropped
    }
  } catch {
    // the status is what counts
  }
}

/** Headers with lower-case names (repeated values joined with `, `). */
export function lowerCaseHeaders(headers: ResponseHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const given = headers ?? {};
  for (const k in given) {
    const v = given[k];
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** The response with its body read and dropped (for HEAD, or when only the status matters). */
export async function withoutBody(response: ServerResponse): Promise<ServerResponse> {
  await discardBody(response.body);
  return { ...response, body: null };
}

/**
 * A subrequest's answer as a response even when the handler throws one (Swift's
 * `get_response`): an `HttpError` or a domain error with a status becomes that response;
 * anything else is thrown on.
 */
export async function respond(next: ProxyHandler, request: ProxyRequest): Promise<ServerResponse> {
  try {
    return await next(request);
  } catch (err) {
    const mapped = toHttpError(err);
    if (mapped instanceof HttpError) return errorResponse(mapped, request.env.logger, request);
    throw err;
  }
}
