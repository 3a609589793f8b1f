import type { ServerResponse } from './server.ts';

/**
 * An API answer with a JSON body (or none), as the OpenStack services' WSGI layers send it: the
 * body serialized with `Content-Type: application/json` (unless `headers` name another); a HEAD gets the length of the body it
 * would have had and no body. `emptyLength` adds `Content-Length: 0` to an answer without a
 * body (webob does for Nova's and Neutron's 202/204).
 */
export function jsonReply(method: string, status: number, body: unknown, headers: Readonly<Record<string, string>>, emptyLength = false): ServerResponse {
  if (body === undefined) return { status, headers: emptyLength ? { ...headers, 'Content-Length': '0' } : { ...headers } };
  const text = JSON.stringify(body);
  const withType = { 'Content-Type': 'application/json', ...headers };
  if (method === 'HEAD') return { status, headers: { ...withType, 'Content-Length': String(Buffer.byteLength(text)) } };
  return { status, headers: withType, body: text };
}
