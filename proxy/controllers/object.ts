import { checkMetadata, checkObjectName, checkObjectSize, deleteAtFrom } from '../../common/constraints.ts';
import { allowsReservedNames } from '../../common/reserved-name.ts';
import { EXPIRING_OBJECTS_ACCOUNT, expirerContainer } from '../../common/expirer-queue.ts';
import { parseMatch } from '../../common/http/conditional.ts';
import { HttpError } from '../../common/http/http-error.ts';
import { httpDate } from '../../common/http/http-date.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { UnknownPolicyError } from '../../common/storage-policy.ts';
import type { Timestamp } from '../../common/timestamp.ts';
import { objectRing } from '../../ring/ring-set.ts';
import type { Ring } from '../../ring/ring.ts';
import { makeRequests, type Target } from '../backend-requests.ts';
import { nodeIter } from '../node-iter.ts';
import type { ProxyContext } from '../context.ts';
import type { ContainerInfo } from '../info-cache.ts';
import { guessContentType } from '../mime-types.ts';
import type { ProxyRequest } from '../request.ts';
import { objectRead } from './object-read.ts';
import { putObject, WHOLE_BODY_BYTES } from './object-put.ts';
import { conditionalWrite, isConditionalWrite } from './conditional-write.ts';
import { ClientDisconnectError, readWholeBody } from '../../common/http/body-reader.ts';
import { spreadUpdateHeaders } from '../../common/http/update-headers.ts';
import { BACKEND_IF_MATCH, isSystemAccount } from '../../common/system-account.ts';
import { authorize, backendHeaders, isNewest, passHeaders, plainTextRefusal, writeTimestamp } from './shared.ts';
import { hasOwnChunks } from '../../common/release-buffer.ts';

/**
 * The object controller: authorizes against the container's read ACL (GET, HEAD) or write ACL
 * (PUT, POST, DELETE), answers 404 when the container does not exist, then reads from the
 * replicas or writes to them with container updates spread over the object nodes.
 */
export async function objectRequest(ctx: ProxyContext, req: ProxyRequest, account: string, container: string, object: string): Promise<ServerResponse> {
  if (!['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].includes(req.method)) throw new HttpError(405, undefined, { Allow: OBJECT_METHODS.join(', ') });
  checkObjectName(object, ctx.constraints, allowsReservedNames(req.headers));
  // Swift's object PUT takes only `If-None-Match: *` (no other etag), before anything else.
  if (req.method === 'PUT' && req.headers['if-none-match'] !== undefined && !parseMatch(req.headers['if-none-match'])?.has('*')) {
    throw new HttpError(400, 'If-None-Match only supports *', { 'Content-Type': 'text/plain' });
  }
  const reading = req.method === 'GET' || req.method === 'HEAD';
  const authorizeBy = (info: ContainerInfo): Promise<boolean> => {
    const acl = reading ? info.read : info.write;
    return authorize(req, { method: req.method, account, container, object, ...(acl !== undefined ? { acl } : {}), ...(info.syncKey !== undefined ? { syncKey: info.syncKey } : {}) });
  };
  let info = await ctx.info.container(account, container, req.env.transId);
  try {
    await authorizeBy(info);
  } catch (err) {
    // The cached ACL may predate a grant made through another proxy worker: a refusal is
    // checked again against the container's servers before it stands.
    if (!(err instanceof HttpError) || (err.status !== 401 && err.status !== 403)) throw err;
    info = await ctx.info.container(account, container, req.env.transId, { fresh: true });
    await authorizeBy(info);
  }
  if (info.status === 404) throw new HttpError(404);
  if (info.status < 200 || info.status >= 300) throw new HttpError(503);
  req.env.policyIndex = info.policyIndex;
  let ring: Ring;
  let policyIndex: number;
  try {
    policyIndex = ctx.policies.requireIndex(info.policyIndex).index;
    ring = objectRing(ctx.rings, policyIndex);
  } catch (err) {
    // A policy this proxy does not know yet (Swift: an operator error, hopefully passing).
    if (err instanceof UnknownPolicyError) throw new HttpError(503, 'Unknown Storage Policy');
    throw err;
  }
  const target: Target = { ring, partition: ring.getPart(account, container, object), names: [account, container, object], policyIndex };
  const policy = { 'x-backend-storage-policy-index': info.policyIndex };
  if (reading) return objectRead(ctx, req, target, backendHeaders(req, policy), isNewest(req));
  if (req.method === 'PUT') return put(ctx, req, target, info, object);
  return postOrDelete(ctx, req, target, policy);
}

/** The methods an object answers (Swift's `allowed_methods`; the copy middleware adds `COPY`). */
export const OBJECT_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'];

async function put(ctx: ProxyContext, req: ProxyRequest, target: Target, info: ContainerInfo, object: string): Promise<ServerResponse> {
  plainTextRefusal(() => {
    checkObjectSize(req.headers, ctx.constraints);
    checkMetadata(req.headers, 'object', ctx.constraints);
  });
  const timestamp = writeTimestamp(req, ctx);
  const headers = conditionalWriteHeaders(target, backendHeaders(req, { 'x-timestamp': timestamp.internal, 'x-backend-storage-policy-index': info.policyIndex }));
  if (headers['content-type'] === undefined || (headers['x-detect-content-type'] ?? '').toLowerCase() === 'true') headers['content-type'] = guessContentType(object);
  delete headers['x-detect-content-type'];
  setDeleteAt(ctx, req, headers);
  const expected = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  // Object servers check the length against what arrives; a chunked upload has none.
  if (expected !== undefined) headers['content-length'] = String(expected);
  if (expected !== undefined && expected <= WHOLE_BODY_BYTES && isSystemAccount(target.names[0] as string) && isConditionalWrite(headers)) {
    const body = await readWholeBody(req.body, ctx.config.client_timeout * 1000, expected, () => new HttpError(413, 'Your request is too large.'));
    if (body.length < expected) throw new ClientDisconnectError(`body ended after ${body.length} of ${expected} bytes`);
    const reply = await conditionalWrite(ctx, target, { method: 'PUT', headersPerSlot: slotHeaders(ctx, target, headers), body }, req.signal);
    if (reply.status >= 200 && reply.status < 300) return { status: 201, headers: { ETag: reply.headers['etag'] ?? '', 'Last-Modified': lastModified(timestamp), 'Content-Type': 'text/html; charset=UTF-8' } };
    return { status: reply.status, headers: passHeaders(reply.headers, ['content-length']) };
  }
  const result = await putObject(ctx, target, slotHeaders(ctx, target, headers), req.body, {
    clientTimeoutMs: ctx.config.client_timeout * 1000,
    replayBytes: ctx.config.put_replay_bytes,
    maxBytes: ctx.constraints.max_file_size,
    ...(expected !== undefined ? { expectedBytes: expected } : {}),
    signal: req.signal,
    releaseChunks: hasOwnChunks(req.body),
    footer: true,
  });
  if (result.status >= 200 && result.status < 300) {
    return { status: 201, headers: { ETag: result.etag ?? '', 'Last-Modified': lastModified(timestamp), 'Content-Type': 'text/html; charset=UTF-8' } };
  }
  return { status: result.status, headers: passHeaders(result.headers, ['content-length']) };
}

async function postOrDelete(ctx: ProxyContext, req: ProxyRequest, target: Target, policy: Record<string, string>): Promise<ServerResponse> {
  const timestamp = writeTimestamp(req, ctx);
  const headers = backendHeaders(req, { 'x-timestamp': timestamp.internal, ...policy });
  if (req.method === 'DELETE') conditionalWriteHeaders(target, headers);
  if (req.method === 'POST') {
    plainTextRefusal(() => checkMetadata(req.headers, 'object', ctx.constraints));
    setDeleteAt(ctx, req, headers);
  }
  if (req.method === 'DELETE' && headers[BACKEND_IF_MATCH] !== undefined) {
    const best = await conditionalWrite(ctx, target, { method: 'DELETE', headersPerSlot: slotHeaders(ctx, target, headers) }, req.signal);
    return { status: best.status, headers: passHeaders(best.headers, ['content-length']) };
  }
  // Under write_affinity a DELETE also goes to local handoffs a recent PUT may have landed on.
  const spread = req.method === 'DELETE' ? ctx.nodeOrder?.deleteNodes(target.ring, target.partition, target.policyIndex) : undefined;
  const nodes = spread ? nodeIter(target.ring, target.partition, ctx.limiter, { order: spread.nodes }) : undefined;
  const { best } = await makeRequests(ctx, target, { method: req.method, headersPerSlot: slotHeaders(ctx, target, headers, spread?.slots) }, req.signal, nodes);
  return { status: best.status, headers: passHeaders(best.headers, ['content-length']) };
}

/**
 * A write's `If-Match`: for a system account it goes to the object servers as
 * `X-Backend-If-Match`, which each checks and commits under one lock (the record store's
 * compare-and-swap); elsewhere it is dropped, as Swift ignores it on writes.
 */
function conditionalWriteHeaders(target: Target, headers: Record<string, string>): Record<string, string> {
  const ifMatch = headers['if-match'];
  delete headers['if-match'];
  if (ifMatch !== undefined && isSystemAccount(target.names[0] as string)) headers[BACKEND_IF_MATCH] = ifMatch;
  return headers;
}

/**
 * The object nodes' headers, each with the container replicas it must update, and, for an
 * object with `X-Delete-At`, the replicas of its expirer queue container.
 */
function slotHeaders(ctx: ProxyContext, target: Target, headers: Record<string, string>, slots = target.ring.replicas): Record<string, string>[] {
  const [account, container, object] = target.names as [string, string, string];
  const containerRing = ctx.rings.container;
  const containerPart = containerRing.getPart(account, container);
  const updates = spreadUpdateHeaders(slots, 'Container', containerPart, containerRing.getPartNodes(containerPart));
  const deleteAt = headers['x-delete-at'];
  if (deleteAt === undefined) return updates.map((u) => ({ ...headers, ...u }));
  const queue = expirerContainer(Number(deleteAt), account, container, object, ctx.hashPath);
  const queuePart = containerRing.getPart(EXPIRING_OBJECTS_ACCOUNT, queue);
  const queueUpdates = spreadUpdateHeaders(slots, 'Delete-At', queuePart, containerRing.getPartNodes(queuePart));
  return updates.map((u, i) => ({ ...headers, ...u, ...queueUpdates[i], 'x-delete-at-container': queue }));
}

/** `X-Delete-After` becomes an absolute `X-Delete-At`, checked. */
function setDeleteAt(ctx: ProxyContext, req: ProxyRequest, headers: Record<string, string>): void {
  const at = plainTextRefusal(() => deleteAtFrom(req.headers, ctx.clock.now() / 1000));
  delete headers['x-delete-after'];
  if (at !== undefined) headers['x-delete-at'] = String(at);
}

function lastModified(timestamp: Timestamp): string {
  return httpDate(Math.ceil(timestamp.seconds));
}
