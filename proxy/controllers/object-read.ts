import { BackendError } from '../../common/errors.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { type LendableBody, lendableBody } from '../../common/http/lendable-body.ts';
import { LOCAL_FILE_HEADER, LOCAL_FILE_ID_HEADER, LOCAL_LENGTH_HEADER, LOCAL_READ_HEADER, type LocalBodyReader, type LocalFileAnswer, localFileAnswer } from '../../common/http/local-file-read.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { type BackendDeps, isReadSource, type ReadSource, readFromNodes, readNodes, send, type Target } from '../backend-requests.ts';
import type { LocalReads } from '../local-reads.ts';
import type { ProxyNode } from '../node-iter.ts';
import type { ProxyRequest } from '../request.ts';
import { passHeaders } from './shared.ts';

/**
 * An object GET or HEAD: the first good replica answers; `X-Newest` asks them all. A body that
 * breaks mid-stream (node died, timed out, or found a corrupt block) resumes from another
 * replica at the same byte, pinned to the same ETag, so the client gets every byte right or a
 * cut connection, never wrong bytes. A large body of a replica on this machine is read from
 * its data file by the proxy itself (`common/http/local-file-read.ts`).
 */
export async function objectRead(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, newest: boolean): Promise<ServerResponse> {
  const local = req.method === 'GET' ? deps.localReads : undefined;
  const localHeaders = local ? { ...headers, [LOCAL_READ_HEADER]: 'yes' } : headers;
  const nodeHeaders = local ? (node: ProxyNode) => (local.isLocal(node) ? localHeaders : headers) : undefined;
  const preferred = localFirst(local);
  const result = await readFromNodes(deps, target, { method: req.method, headers, ...(nodeHeaders ? { nodeHeaders } : {}) }, { newest, timestampHeader: 'x-backend-timestamp', signal: req.signal, ...(preferred ? { preferred } : {}) });
  if (!isReadSource(result)) {
    return { status: result.status, headers: passHeaders(result.headers), body: req.method === 'HEAD' ? null : result.body };
  }
  const res = result.response;
  const file = local ? localFileAnswer(res.headers) : undefined;
  if (local && file) return localRead(deps, local, req, target, headers, result, file, newest);
  const shown = { ...passHeaders(res.headers), 'accept-ranges': 'bytes' };
  if (req.method === 'HEAD') {
    await res.body.dump();
    return { status: res.status, headers: shown, body: null };
  }
  const span = servedSpan(res.status, res.headers);
  // The chunks are the backend socket's reads, passed on untouched: given to the server.
  if (!span) return { status: res.status, headers: shown, body: res.body, given: true };
  if (span[1] - span[0] <= WHOLE_READ_BYTES) return { status: res.status, headers: shown, body: await wholeBody(deps, req, target, headers, result, span) };
  return { status: res.status, headers: shown, body: resumable(deps, req, target, headers, result, span, 0, new Set([nodeKey(result.node)])), given: true };
}

/**
 * The answer of an object server that named a local data file: its headers, the body read from
 * the file, opened before the answer goes. A file that cannot be opened as named (gone: a newer
 * version replaced it or a DELETE removed it; another inode; unreadable) makes a fresh read over
 * HTTP, which answers for whatever version is there now, as a relayed read opened a moment
 * later would.
 */
async function localRead(deps: BackendDeps, local: LocalReads, req: ProxyRequest, target: Target, headers: Record<string, string>, source: ReadSource, file: LocalFileAnswer, newest: boolean): Promise<ServerResponse> {
  const res = source.response;
  await res.body.dump();
  const relayed = (): Promise<ServerResponse> => objectRead({ ...deps, localReads: undefined }, req, target, headers, newest);
  const answered = { ...passHeaders(res.headers, [LOCAL_FILE_HEADER, LOCAL_FILE_ID_HEADER, LOCAL_LENGTH_HEADER]), 'content-length': String(file.length) };
  const span = servedSpan(res.status, answered as Record<string, string>);
  // Not a span of the file after all (an object server out of step): read it the usual way.
  if (!span || span[1] - span[0] !== file.length) return relayed();
  const etag = res.headers['etag'] ?? '';
  let reader: LocalBodyReader;
  try {
    reader = await local.open(file, etag);
  } catch (err) {
    if (req.signal.aborted) throw err;
    local.observe('fallback');
    deps.logger.warn('local object file not opened; reading the object over HTTP', { path: file.path, err, txn: req.env.transId });
    return relayed();
  }
  return { status: res.status, headers: { ...answered, 'accept-ranges': 'bytes' }, body: localBody(deps, local, req, target, headers, etag, reader, span), given: true };
}

/**
 * A body read from an opened local data file: lent to the server (the reader's slabs go out as
 * they are, each written before the next is read into), or copied for anyone else; read once.
 * A read that breaks off (a bad block, an I/O error) goes on over HTTP from the byte it
 * reached, pinned to the ETag, first asking the replicas in order again (the same object
 * server finds and quarantines a bad block). The file is closed when the body ends, and when
 * it is let go unread.
 */
function localBody(deps: BackendDeps, local: LocalReads, req: ProxyRequest, target: Target, headers: Record<string, string>, etag: string, reader: LocalBodyReader, span: [number, number]): LendableBody {
  let taken = false;
  const read = (lend: boolean): AsyncIterator<Uint8Array> => {
    if (taken) throw new Error('a local body is read once');
    taken = true;
    return closedIfUnread(localThenRelayed(deps, local, req, target, headers, etag, reader, span, lend), () => reader.close());
  };
  return lendableBody(() => read(false), () => read(true));
}

async function* localThenRelayed(deps: BackendDeps, local: LocalReads, req: ProxyRequest, target: Target, headers: Record<string, string>, etag: string, reader: LocalBodyReader, span: [number, number], lend: boolean): AsyncGenerator<Uint8Array> {
  let sent = 0;
  try {
    for await (const chunk of reader.read(span[0], span[1], { lend })) {
      sent += chunk.length;
      // Counted before the last chunk goes: a reader that knows the length may stop there.
      if (sent === span[1] - span[0]) local.observe('local');
      yield chunk;
    }
    if (sent === span[1] - span[0]) return;
    throw new BackendError('BACKEND_IO', target.names.join('/'), `local file gave ${sent} bytes of ${span[1] - span[0]}`);
  } catch (err) {
    if (req.signal.aborted) throw err;
    local.observe('fallback');
    deps.logger.warn('local object read broke; reading the rest over HTTP', { sent, err, txn: req.env.transId });
  } finally {
    await reader.close();
  }
  yield* resumable(deps, req, target, headers, undefined, span, sent, new Set(), etag);
}

/**
 * `it`, with `close` run when it is stopped before its first step (a generator stopped then
 * never runs its own `finally`).
 */
function closedIfUnread(it: AsyncGenerator<Uint8Array>, close: () => Promise<void>): AsyncIterator<Uint8Array> {
  let started = false;
  return {
    next() {
      started = true;
      return it.next();
    },
    async return(value?: unknown) {
      if (!started) await close();
      return it.return(value);
    },
  };
}

/**
 * With local reads, the replicas on this machine are asked first, as HDFS reads a local replica
 * first: a body then never crosses a socket.
 */
function localFirst(local: LocalReads | undefined): ((node: { readonly ip: string }) => boolean) | undefined {
  return local ? (node) => local.isLocal(node) : undefined;
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

/**
 * The body's bytes from `span[0] + sent` on, from `first` or else the next replica not in
 * `tried` that serves them (pinned to the ETag); each break resumes from another.
 */
async function* resumable(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, first: ReadSource | undefined, span: [number, number], sent: number, tried: Set<string>, pinned?: string): AsyncGenerator<Uint8Array> {
  const etag = pinned ?? first?.response.headers['etag'];
  const rest = (): Record<string, string> => ({ ...headers, range: `bytes=${span[0] + sent}-${span[1] - 1}`, ...(etag ? { 'if-match': etag } : {}) });
  let source = first ?? (await resumeSource(deps, req, target, rest(), tried));
  // Nothing sent yet (a local file that failed at once): the client can still get Swift's 503.
  if (!source) throw sent === 0 ? new HttpError(503) : new BackendError('BACKEND_IO', target.names.join('/'), 'no replica serves the rest of the body');
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
      const next = await resumeSource(deps, req, target, rest(), tried);
      if (!next) throw err;
      source = next;
    }
  }
}

/** The next replica not yet tried that serves the rest of the same object. */
async function resumeSource(deps: BackendDeps, req: ProxyRequest, target: Target, headers: Record<string, string>, tried: Set<string>): Promise<ReadSource | undefined> {
  for (const node of readNodes(deps, target, localFirst(deps.localReads))) {
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
