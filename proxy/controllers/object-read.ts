import { BackendError } from '../../common/errors.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { type BackendDeps, isReadSource, type ReadSource, readFromNodes, send, type Target } from '../backend-requests.ts';
import { nodeIter } from '../node-iter.ts';
import type { ProxyRequest } from '../request.ts';
import { passHeaders } from './shared.ts';

/**
 * An object GET or HEAD: the first good replica answers; `X-Newest` asks them all. A body that
 * breaks mid-stream (node died, timed out, or found a corrupt block) resumes from another
 * replica at the same byte, pinned to the same ETag, so the client gets every byte right or a
 * cut connection, never wrong bytes.
 */
export async function objectRead(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, newest: boolean): Promise<ServerResponse> {
  const result = await readFromNodes(deps, target, { method: req.method, headers }, { newest, timestampHeader: 'x-backend-timestamp', signal: req.signal });
  if (!isReadSource(result)) {
    return { status: result.status, headers: passHeaders(result.headers), body: req.method === 'HEAD' ? null : result.body };
  }
  const res = result.response;
  const shown = { ...passHeaders(res.headers), 'accept-ranges': 'bytes' };
  if (req.method === 'HEAD') {
    await res.body.dump();
    return { status: res.status, headers: shown, body: null };
  }
  const span = servedSpan(res.status, res.headers);
  // The chunks are the backend socket's reads, passed on untouched: given to the server.
  if (!span) return { status: res.status, headers: shown, body: res.body, given: true };
  if (span[1] - span[0] <= WHOLE_READ_BYTES) return { status: res.status, headers: shown, body: await wholeBody(deps, req, target, headers, result, span) };
  return { status: res.status, headers: shown, body: resumable(deps, req, target, headers, result, span), given: true };
}

/** The byte span [start, end) a 200 or single-range 206 carries; undefined for anything else. */
function servedSpan(status: number, headers: Readonly<Record<string, string>>): [number, number] | undefined {
  if (status === 200) {
    const length = Number(headers['content-length']);
    return Number.isSafeInteger(length) ? [0, length] : undefined;
  }
  if (status !== 206) return undefined;
  const m = /^bytes (\d+)-(\d+)\/\d+$/.exec(headers['content-range'] ?? '');
  return m ? [Number(m[1]), Number(m[2]) + 1] : undefined;
}

/**
 * A body up to this long is read whole before the answer goes out: headers and body then
 * leave in one write, and no stream is set up through the middlewares and the server for what
 * is one chunk.
 */
export const WHOLE_READ_BYTES = 64 * 1024;

/**
 * A small body, read whole; a replica that breaks off is replaced by the next one, which sends
 * the same span of the same object (pinned to its ETag), as a resumed stream would.
 */
async function wholeBody(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, first: ReadSource, span: [number, number]): Promise<Uint8Array> {
  const etag = first.response.headers['etag'];
  const tried = new Set([nodeKey(first.node)]);
  let source: ReadSource = first;
  for (;;) {
    try {
      const bytes = await source.response.body.bytes();
      if (bytes.length === span[1] - span[0]) return bytes;
      throw new BackendError('BACKEND_IO', nodeKey(source.node), `body of ${bytes.length} bytes, ${span[1] - span[0]} announced`);
    } catch (err) {
      if (req.signal.aborted) throw err;
      deps.limiter.errorOccurred(source.node);
      deps.logger.warn('object read broke; reading it again from another replica', { node: nodeKey(source.node), err, txn: req.env.transId });
      const next = await resumeSource(deps, req, target, { ...headers, range: `bytes=${span[0]}-${span[1] - 1}`, ...(etag ? { 'if-match': etag } : {}) }, tried);
      if (!next) throw err;
      source = next;
    }
  }
}

async function* resumable(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, first: ReadSource, span: [number, number]): AsyncGenerator<Uint8Array> {
  const etag = first.response.headers['etag'];
  const tried = new Set([nodeKey(first.node)]);
  let source: ReadSource = first;
  let sent = 0;
  for (;;) {
    try {
      for await (const chunk of source.response.body) {
        sent += chunk.length;
        yield chunk;
      }
      return;
    } catch (err) {
      if (req.signal.aborted) throw err;
      deps.limiter.errorOccurred(source.node);
      deps.logger.warn('object read broke; resuming from another replica', { node: nodeKey(source.node), sent, err, txn: req.env.transId });
      const next = await resumeSource(deps, req, target, { ...headers, range: `bytes=${span[0] + sent}-${span[1] - 1}`, ...(etag ? { 'if-match': etag } : {}) }, tried);
      if (!next) throw err;
      source = next;
    }
  }
}

/** The next replica not yet tried that serves the rest of the same object. */
async function resumeSource(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, tried: Set<string>): Promise<ReadSource | undefined> {
  for (const node of nodeIter(target.ring, target.partition, deps.limiter)) {
    if (tried.has(nodeKey(node))) continue;
    tried.add(nodeKey(node));
    try {
      const response = await send(deps, node, target, { method: 'GET', headers }, req.signal);
      if (response.status === 206 || response.status === 200) return { response, node };
      await response.body.dump();
    } catch {
      if (req.signal.aborted) return undefined;
      deps.limiter.errorOccurred(node);
    }
  }
  return undefined;
}

function nodeKey(node: { ip: string; port: number; device: string }): string {
  return `${node.ip}:${node.port}/${node.device}`;
}
