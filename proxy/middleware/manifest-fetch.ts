import type { ServerResponse } from '../../common/http/server.ts';
import { type ProxyHandler, type ProxyRequest, subrequest } from '../request.ts';
import { discardBody, respond } from './subresponse.ts';

/** Request headers that apply to the bytes and etag of what is read: the large object's, not the manifest's. */
const READ_CONDITIONS = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

/**
 * The first step of a large-object GET or HEAD. The request goes down the pipeline as the
 * client sent it: most objects are not manifests, and they keep their ranges and conditions.
 * When the answer is a manifest the object server may have applied the client's `Range` or
 * conditions to the manifest object itself (they mean the large object's bytes and etag), so
 * any answer but a plain 200 is fetched again without them. A 416 carries no metadata at all,
 * so it is checked with a HEAD.
 *
 * @param isManifest tells a manifest by its response headers.
 * @param method the method of a refetch: GET when the manifest's body is needed.
 */
export async function fetchPossibleManifest(next: ProxyHandler, req: ProxyRequest, isManifest: (response: ServerResponse) => boolean, method: string, source: string): Promise<{ response: ServerResponse; manifest: boolean }> {
  const response = await respond(next, req);
  const hadConditions = READ_CONDITIONS.some((h) => req.headers[h] !== undefined);
  if (isManifest(response)) {
    if (response.status === 200 && (method === req.method || method === 'HEAD')) return { response, manifest: true };
    await discardBody(response.body);
    const again = await next(plainRead(req, method, source));
    return { response: again, manifest: isManifest(again) };
  }
  if (response.status === 416 && hadConditions) {
    const head = await respond(next, plainRead(req, 'HEAD', source));
    if (!isManifest(head)) return { response, manifest: false };
    await discardBody(response.body);
    if (method === 'HEAD') return { response: head, manifest: true };
    const again = await next(plainRead(req, method, source));
    return { response: again, manifest: isManifest(again) };
  }
  return { response, manifest: false };
}

/** The same read without range or conditions. */
function plainRead(req: ProxyRequest, method: string, source: string): ProxyRequest {
  const headers: Record<string, string | undefined> = { ...req.headers };
  for (const h of READ_CONDITIONS) delete headers[h];
  return subrequest(req, { method, path: req.path, query: req.query, headers, source });
}
