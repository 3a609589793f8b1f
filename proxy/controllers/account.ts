import { checkMetadata } from '../../common/constraints.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ServerResponse } from '../../common/http/server.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { isReadSource, makeRequests, readFromNodes } from '../backend-requests.ts';
import type { ProxyContext } from '../context.ts';
import { accountToXml, listingContentType, listingToJson } from '../../common/listing-format.ts';
import type { ProxyRequest } from '../request.ts';
import { createAccount } from './account-create.ts';
import { authorize, backendHeaders, isNewest, passHeaders, writeTimestamp } from './shared.ts';

/**
 * The account controller: GET/HEAD (container listing, counts), POST (metadata), and PUT/DELETE
 * for reseller admins when `allow_account_management` is on. A missing account reads as an
 * empty one and is created on its first write when `account_autocreate` is on.
 */
export async function accountRequest(ctx: ProxyContext, req: ProxyRequest, account: string): Promise<ServerResponse> {
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return read(ctx, req, account);
    case 'POST':
      return post(ctx, req, account);
    case 'PUT':
    case 'DELETE':
      return manage(ctx, req, account);
    default:
      throw new HttpError(405, undefined, { Allow: 'GET, HEAD, POST' });
  }
}

async function read(ctx: ProxyContext, req: ProxyRequest, account: string): Promise<ServerResponse> {
  authorize(req, { method: req.method, account });
  const ring = ctx.rings.account;
  const result = await readFromNodes(ctx, { ring, partition: ring.getPart(account), names: [account] }, { method: req.method, query: req.query.toString(), headers: backendHeaders(req) }, { newest: isNewest(req), timestampHeader: 'x-put-timestamp', signal: req.signal });
  if (isReadSource(result)) {
    return { status: result.response.status, headers: passHeaders(result.response.headers), body: req.method === 'HEAD' ? null : result.response.body };
  }
  if (result.status === 404 && ctx.config.account_autocreate) return emptyAccount(ctx, req, account);
  return { status: result.status, headers: passHeaders(result.headers), body: req.method === 'HEAD' ? null : result.body };
}

/** What Swift shows for an account that does not exist yet but would be created: an empty one. */
function emptyAccount(ctx: ProxyContext, req: ProxyRequest, account: string): ServerResponse {
  const now = Timestamp.fromMillis(ctx.clock.now()).normal;
  const headers = { 'X-Account-Container-Count': '0', 'X-Account-Object-Count': '0', 'X-Account-Bytes-Used': '0', 'X-Timestamp': now, 'X-Put-Timestamp': now };
  const type = listingContentType(req.query.get('format') ?? undefined, req.headers['accept']);
  const body = type === 'application/json' ? listingToJson([]) : type === 'text/plain' ? '' : accountToXml([], account);
  if (body === '') return { status: 204, headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } };
  return { status: 200, headers: { ...headers, 'Content-Type': `${type}; charset=utf-8` }, body: req.method === 'HEAD' ? null : body };
}

async function post(ctx: ProxyContext, req: ProxyRequest, account: string): Promise<ServerResponse> {
  checkMetadata(req.headers, 'account', ctx.constraints);
  authorize(req, { method: 'POST', account });
  let reply = await write(ctx, req, account, 'POST');
  if (reply.status === 404 && ctx.config.account_autocreate) {
    await createAccount(ctx, account, req.env.transId);
    reply = await write(ctx, req, account, 'POST');
  }
  ctx.info.invalidate(account);
  return { status: reply.status, headers: passHeaders(reply.headers, ['content-length']) };
}

async function manage(ctx: ProxyContext, req: ProxyRequest, account: string): Promise<ServerResponse> {
  if (!ctx.config.allow_account_management) throw new HttpError(405, undefined, { Allow: 'GET, HEAD, POST' });
  if (req.method === 'PUT') checkMetadata(req.headers, 'account', ctx.constraints);
  authorize(req, { method: req.method, account });
  const reply = await write(ctx, req, account, req.method);
  ctx.info.invalidate(account);
  return { status: reply.status, headers: passHeaders(reply.headers, ['content-length']) };
}

async function write(ctx: ProxyContext, req: ProxyRequest, account: string, method: string): Promise<{ status: number; headers: Readonly<Record<string, string>> }> {
  const ring = ctx.rings.account;
  const headers = backendHeaders(req, { 'x-timestamp': writeTimestamp(req, ctx).internal });
  const { best } = await makeRequests(ctx, { ring, partition: ring.getPart(account), names: [account] }, { method, headersPerSlot: Array.from({ length: ring.replicas }, () => headers) }, req.signal);
  return best;
}
