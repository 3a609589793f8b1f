import { checkMetadata } from '../../common/constraints.ts';
import { HttpError } from '../../common/http/http-error.ts';
import type { ResponseHeaders, ServerResponse } from '../../common/http/server.ts';
import { Timestamp } from '../../common/timestamp.ts';
import { isReadSource, makeRequests, readFromNodes } from '../backend-requests.ts';
import type { ProxyContext } from '../context.ts';
import { accountToXml, listingContentType, listingToJson } from '../../common/listing-format.ts';
import { backendQuery, type ProxyRequest } from '../request.ts';
import { ACCOUNT_ACL_SYSMETA, formatAccountAcl, parseAccountAcl } from '../account-acl.ts';
import { createAccount } from './account-create.ts';
import { authorize, backendHeaders, isNewest, OWNER_HEADERS, passHeaders, plainTextRefusal, writeTimestamp } from './shared.ts';

/**
 * The account controller: GET/HEAD (container listing, counts), POST (metadata), and PUT/DELETE
 * for reseller admins when `allow_account_management` is on. A missing account reads as an
 * empty one and is created on its first write when `account_autocreate` is on. Only the
 * account's owner sees its ACL (`X-Account-Access-Control`, kept as sysmeta) and TempURL keys.
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
      throw new HttpError(405, undefined, { Allow: accountMethods(ctx).join(', ') });
  }
}

/** The methods an account answers (Swift's `allowed_methods`, `Allow` of a 405 or an OPTIONS). */
export function accountMethods(ctx: ProxyContext): string[] {
  return ctx.config.allow_account_management ? ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'] : ['GET', 'HEAD', 'POST', 'OPTIONS'];
}

async function read(ctx: ProxyContext, req: ProxyRequest, account: string): Promise<ServerResponse> {
  const owner = await authorize(req, { method: req.method, account });
  const ring = ctx.rings.account;
  const result = await readFromNodes(ctx, { ring, partition: ring.getPart(account), names: [account] }, { method: req.method, query: backendQuery(req), headers: backendHeaders(req) }, { newest: isNewest(req), timestampHeader: 'x-put-timestamp', signal: req.signal });
  if (isReadSource(result)) {
    return { status: result.response.status, headers: ownerView(result.response.headers, owner), body: req.method === 'HEAD' ? null : result.response.body };
  }
  if (result.status === 404 && ctx.config.account_autocreate) return emptyAccount(ctx, req, account);
  return { status: result.status, headers: ownerView(result.headers, owner), body: req.method === 'HEAD' ? null : result.body };
}

/**
 * An account's headers as the requester may see them: its owner gets the ACL as
 * `X-Account-Access-Control` (re-serialized as Swift does; none for an empty one); anyone
 * else loses the owner-only headers.
 */
function ownerView(headers: Readonly<Record<string, string>>, owner: boolean): ResponseHeaders {
  const shown = passHeaders(headers, owner ? [] : OWNER_HEADERS);
  const acl = owner ? parseAccountAcl(headers[`x-account-sysmeta-${ACCOUNT_ACL_SYSMETA}`]) : undefined;
  if (acl && Object.keys(acl).length > 0) shown['X-Account-Access-Control'] = formatAccountAcl(acl);
  return shown;
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
  plainTextRefusal(() => checkMetadata(req.headers, 'account', ctx.constraints));
  await authorize(req, { method: 'POST', account });
  let reply = await write(ctx, req, account, 'POST');
  if (reply.status === 404 && ctx.config.account_autocreate) {
    await createAccount(ctx, account, req.env.transId);
    reply = await write(ctx, req, account, 'POST');
  }
  await ctx.info.invalidate(account);
  return { status: reply.status, headers: passHeaders(reply.headers, ['content-length']) };
}

async function manage(ctx: ProxyContext, req: ProxyRequest, account: string): Promise<ServerResponse> {
  if (!ctx.config.allow_account_management) throw new HttpError(405, undefined, { Allow: accountMethods(ctx).join(', ') });
  if (req.method === 'PUT') plainTextRefusal(() => checkMetadata(req.headers, 'account', ctx.constraints));
  await authorize(req, { method: req.method, account });
  const reply = await write(ctx, req, account, req.method);
  await ctx.info.invalidate(account);
  return { status: reply.status, headers: passHeaders(reply.headers, ['content-length']) };
}

async function write(ctx: ProxyContext, req: ProxyRequest, account: string, method: string): Promise<{ status: number; headers: Readonly<Record<string, string>> }> {
  const ring = ctx.rings.account;
  const headers = backendHeaders(req, { 'x-timestamp': writeTimestamp(req, ctx).internal });
  const { best } = await makeRequests(ctx, { ring, partition: ring.getPart(account), names: [account] }, { method, headersPerSlot: Array.from({ length: ring.replicas }, () => headers) }, req.signal);
  return best;
}
