import { readWholeBody } from './body-reader.ts';
import type { ServerRequest } from './server.ts';

/** oslo.middleware's `max_request_body_size` default, which every OpenStack API applies to JSON bodies. */
export const OPENSTACK_MAX_BODY_BYTES = 114_688;

export interface JsonBodyOptions {
  /** Methods whose body is read as JSON; any other request's body is drained and ignored. Absent: every method. */
  readonly methods?: readonly string[];
  /** How long the body may pause (ms). */
  readonly idleMs?: number;
  readonly maxBytes?: number;
  /** The service's own error for a body over `maxBytes` (its 413). */
  readonly tooLarge: () => Error;
  /** The service's own error for a body that is not JSON (its 400). */
  readonly malformed: () => Error;
}

/**
 * An OpenStack API's JSON request body: `undefined` when empty (or when the method carries
 * none, after reading it so the connection stays usable), else the parsed value. A declared
 * length over the limit is refused before a byte is read.
 */
export async function readJsonBody(req: ServerRequest, options: JsonBodyOptions): Promise<unknown> {
  if (options.methods && !options.methods.includes(req.method)) {
    await drainBody(req);
    return undefined;
  }
  const maxBytes = options.maxBytes ?? OPENSTACK_MAX_BODY_BYTES;
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw options.tooLarge();
  const bytes = await readWholeBody(req.body, options.idleMs ?? 30_000, maxBytes, options.tooLarge);
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw options.malformed();
  }
}

/** Reads a request body to its end and drops it, so the connection can carry the next request. */
export async function drainBody(req: ServerRequest): Promise<void> {
  for await (const _ of req.body) {
    // Read and ignored.
  }
}
